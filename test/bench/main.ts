import { execSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { Receiver } from "../../tools/local/receiver.ts";
import { bundleSizes } from "./bundle.ts";
import { endpointFanout } from "./endpoints.ts";
import { enqueueOverhead } from "./enqueue.ts";
import { fanout } from "./fanout.ts";
import { type Floor, floors, quiesce } from "./floor.ts";
import {
  BASELINE_CONFIG,
  buildBundle,
  createEdit,
  OXEN_KEY,
  relayTarget,
  startBaseline,
  startBench,
  type Target,
} from "./harness.ts";
import { hubFootprint } from "./hub.ts";
import { notificationLatency } from "./latency.ts";
import { reconcileCost } from "./reconcile.ts";
import { type Results, type Row, report } from "./report.ts";
import { hubRouting, settle } from "./routing.ts";
import type { RuntimeKind } from "./runtime.ts";
import { probeRuntimes } from "./runtimes.ts";
import { ms, percentile } from "./stats.ts";

// `npm run bench` (full, writes docs/benchmarks.md) or `npm run bench -- --smoke` (tiny counts).
// `--runtime=wrangler|miniflare` overrides the runtime the probe picks.
const smoke = process.argv.includes("--smoke");
const forced = process.argv.find((a) => a.startsWith("--runtime="))?.slice("--runtime=".length) as
  | RuntimeKind
  | undefined;
if (forced && forced !== "wrangler" && forced !== "miniflare") throw new Error(`unknown runtime ${forced}`);
const n = (full: number, tiny: number) => (smoke ? tiny : full);

const rows: Row[] = [];
const row = (r: Row) => {
  rows.push(r);
  console.log([r.figure, r.relay, r.beside ?? "", r.ratio ?? "", r.goal ?? "", r.verdict ?? ""].join(" | "));
};
const verdict = (ok: boolean) => (ok ? "met" : "MISSED");
const x = (a: number, b: number) => (Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : "n/a");
const pair = (a: number, b: number) => `${ms(a)} / ${ms(b)}`;
const rate = (perSecond: number) => `${perSecond.toFixed(0)}/s`;
const sooner = (v: number) => `${v.toFixed(v < 10 ? 1 : 0)}×`;
const cpu = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)} ms` : "n/a");

const started = Date.now();
const loadAtStart = loadavg()[0] ?? Number.NaN;
/** Where a run's time goes, on stderr. */
const phase = (name: string) =>
  console.error(`[bench ${((Date.now() - started) / 1000).toFixed(0)} s] ${name}`);
const R: Partial<Results> = { smoke };
const outdir = mkdtempSync(join(tmpdir(), "relay-bench-build-"));
process.once("exit", () => rmSync(outdir, { recursive: true, force: true }));
const [bundle, baselineBundle] = await Promise.all([
  buildBundle(join(outdir, "relay")),
  buildBundle(join(outdir, "baseline"), BASELINE_CONFIG),
]);
phase("bundles built");
const receiver = await new Receiver().listen();
try {
  // Point 3: which runtime, measured.
  const probe = await probeRuntimes(
    { relay: bundle, baseline: baselineBundle },
    receiver,
    n(300, 30),
    forced,
  );
  R.probe = probe;
  phase("runtimes compared");
  const label = { wrangler: "wrangler dev", miniflare: "Miniflare's API" } as const;
  for (const kind of ["wrangler", "miniflare"] as const) {
    const f = probe.floors[kind];
    row({
      figure: `No-I/O floor (a 404), p50 / p99 (sequential), under ${label[kind]}`,
      relay: pair(f.relay.p50, f.relay.p99),
      beside: pair(f.baseline.p50, f.baseline.p99),
      ratio: x(f.relay.p50, f.baseline.p50),
    });
    row({
      figure: `  runtime CPU per request, under ${label[kind]}`,
      relay: cpu(f.relay.cpuMs),
      beside: cpu(f.baseline.cpuMs),
      ratio: x(f.relay.cpuMs, f.baseline.cpuMs),
    });
  }
  for (const kind of ["wrangler", "miniflare"] as const) {
    const s = probe.startupMs[kind];
    row({
      figure: `Start-up to the first answer, under ${label[kind]}`,
      relay: ms(s.relay),
      beside: ms(s.baseline),
      ratio: x(s.relay, s.baseline),
    });
  }
  const mf = probe.floors.miniflare;
  const wr = probe.floors.wrangler;
  row({
    figure: "Miniflare's floor p50 beside wrangler dev's, same bundle: relay; baseline",
    relay: `${ms(mf.relay.p50)} vs ${ms(wr.relay.p50)}`,
    beside: `${ms(mf.baseline.p50)} vs ${ms(wr.baseline.p50)}`,
    ratio: `${x(mf.relay.p50, wr.relay.p50)}; ${x(mf.baseline.p50, wr.baseline.p50)}`,
    goal: "faithful and cheaper",
    verdict: probe.persisted.ok ? "faithful" : "NOT faithful",
  });
  row({ figure: "The bench runs on", relay: label[probe.choice], goal: probe.why });
  const runtime = probe.choice;

  const bench = await startBench({ clients: 32, bundle, runtime, receiver });
  let baseline: Awaited<ReturnType<typeof startBaseline>> | null = null;
  try {
    baseline = await startBaseline({ bundle: baselineBundle, runtime, receiver });
    const relay = relayTarget(bench);
    const both = baseline;
    // Between figures: until neither still works through what the last one left.
    const quietRelay = () => quiesce(relay.url, R.floor?.relay.p50 ?? 2);
    const quietBaseline = () => quiesce(both.url, R.floor?.baseline.p50 ?? 2);
    const quiet = async () => {
      await quietRelay();
      await quietBaseline();
    };

    // The runtime's own floor on the runtime the bench uses.
    const f = await floors({ relay, baseline }, n(300, 30));
    const floor = f.baseline?.p50 ?? Number.NaN;
    R.floor = { relay: f.relay as Floor, baseline: f.baseline as Floor };
    row({
      figure: "Runtime floor: a request that does no I/O (a 404), p50 / p99 (sequential)",
      relay: pair(R.floor.relay.p50, R.floor.relay.p99),
      beside: pair(R.floor.baseline.p50, R.floor.baseline.p99),
      ratio: x(R.floor.relay.p50, R.floor.baseline.p50),
    });
    row({
      figure: "  runtime CPU per request",
      relay: cpu(R.floor.relay.cpuMs),
      beside: cpu(R.floor.baseline.cpuMs),
      ratio: x(R.floor.relay.cpuMs, R.floor.baseline.cpuMs),
    });

    R.enqueue = [];
    for (const c of [1, 32]) {
      const e = await enqueueOverhead(relay, n(c === 1 ? 300 : 640, 10), c, baseline);
      R.enqueue.push(e);
      const added = e.relayP50 - e.directP50;
      const baseAdded = e.baselineP50 - e.directP50;
      const label = c === 1 ? "sequential" : "32 concurrent clients";
      row({
        figure: `Enqueue, ${label}: POST /v1/edits beside the baseline's POST /edits, p50 / p99`,
        relay: pair(e.relayP50, e.relayP99),
        beside: pair(e.baselineP50, e.baselineP99),
        ratio: x(e.relayP50, e.baselineP50),
      });
      row({ figure: "  direct POST /ai/queue, p50 / p99", relay: pair(e.directP50, e.directP99) });
      row({
        figure: "  added to the direct call, p50",
        relay: ms(added),
        beside: ms(baseAdded),
        ratio: x(added, baseAdded),
        goal: `≤ 2× the floor (${ms(2 * floor)})`,
        verdict: verdict(added <= 2 * floor),
      });
      row({
        figure: "  runtime CPU per create (workerd processes)",
        relay: cpu(e.relayCpuMs),
        beside: cpu(e.baselineCpuMs),
        ratio: x(e.relayCpuMs, e.baselineCpuMs),
      });
      // Nothing left running between figures: every job enqueued here finishes, and is settled.
      await finishAll(e.made);
      await quiet();
      phase(`enqueue, concurrency ${c}`);
    }

    const jobs = n(1_000, 20);
    const lr = await notificationLatency(relay, jobs, 20);
    await quiet();
    const lb = await notificationLatency(baseline, jobs, 20);
    R.latency = { relay: lr, baseline: lb };
    phase("completion → webhook");
    row({
      figure: `Completion → webhook, p50 (${jobs} jobs at 20/s)`,
      relay: ms(lr.relayP50),
      beside: ms(lb.relayP50),
      ratio: x(lr.relayP50, lb.relayP50),
      goal: "≤ 1.5×",
      verdict: verdict(lr.relayP50 <= 1.5 * lb.relayP50),
    });
    row({
      figure: "Completion → webhook, p99",
      relay: ms(lr.relayP99),
      beside: ms(lb.relayP99),
      ratio: x(lr.relayP99, lb.relayP99),
      goal: "≤ 2×",
      verdict: verdict(lr.relayP99 <= 2 * lb.relayP99),
    });
    row({
      figure: "  runtime CPU per job (its enqueue, completion and webhook)",
      relay: cpu(lr.cpuMsPerJob),
      beside: cpu(lb.cpuMsPerJob),
      ratio: x(lr.cpuMsPerJob, lb.cpuMsPerJob),
    });
    row({
      figure: "  polling every 2 s (Oxen's advice) instead, p50 / p99, same jobs",
      relay: pair(lr.pollP50, lr.pollP99),
      beside: pair(lb.pollP50, lb.pollP99),
    });
    row({
      figure: "  webhook sooner than polling, at p50",
      relay: sooner(lr.pollP50 / lr.relayP50),
      beside: sooner(lb.pollP50 / lb.relayP50),
      goal: "≥ 100×",
      verdict: verdict(lr.pollP50 / lr.relayP50 >= 100),
    });
    row({
      figure: "  webhooks lost",
      relay: lr.lost,
      beside: lb.lost,
      goal: "0",
      verdict: verdict(lr.lost === 0),
    });

    R.bursts = [];
    for (const size of smoke ? [20] : [500, 2_000]) {
      await quiet();
      const fr = await fanout(relay, size, String(size), quietRelay);
      await quiet();
      const fb = await fanout(baseline, size, String(size), quietBaseline);
      R.bursts.push({ size, relay: fr, baseline: fb });
      phase(`burst of ${size}`);
      const lost = fr.deliveries - fr.delivered;
      row({
        figure: `Burst: ${size} edits × 2 webhooks, deliveries/s`,
        relay: rate(fr.perSecond),
        beside: rate(fb.perSecond),
        ratio: x(fr.perSecond, fb.perSecond),
        goal: "≥ 0.5×, none lost",
        verdict: verdict(fr.perSecond >= 0.5 * fb.perSecond && lost === 0),
      });
      row({
        figure: "  all landed in; latency p50 / p99; lost",
        relay: `${ms(fr.lastLandedMs)}; ${pair(fr.p50, fr.p99)}; ${lost}`,
        beside: `${ms(fb.lastLandedMs)}; ${pair(fb.p50, fb.p99)}; ${fb.deliveries - fb.delivered}`,
      });
      row({
        figure: "  runtime CPU per delivery",
        relay: cpu(fr.cpuMsPerDelivery),
        beside: cpu(fb.cpuMsPerDelivery),
        ratio: x(fr.cpuMsPerDelivery, fb.cpuMsPerDelivery),
      });
    }

    const epEdits = n(500, 10);
    await quiet();
    const ep = await endpointFanout(bench, epEdits, "1", quietRelay);
    R.endpoints = ep;
    phase("endpoints");
    row({
      figure: `Fan-out: ${epEdits} edits of one client with 2 endpoints, beside ${epEdits} edits with 2 webhooks each, deliveries/s`,
      relay: rate(ep.endpoints.perSecond),
      beside: rate(ep.perEdit.perSecond),
      ratio: x(ep.endpoints.perSecond, ep.perEdit.perSecond),
      goal: "≥ 1× (not slower), none lost",
      verdict: verdict(
        ep.endpoints.perSecond >= ep.perEdit.perSecond && ep.endpoints.delivered === ep.endpoints.deliveries,
      ),
    });
    row({
      figure: "  all landed in; latency p50 / p99; lost",
      relay: `${ms(ep.endpoints.lastLandedMs)}; ${pair(ep.endpoints.p50, ep.endpoints.p99)}; ${ep.endpoints.deliveries - ep.endpoints.delivered}`,
      beside: `${ms(ep.perEdit.lastLandedMs)}; ${pair(ep.perEdit.p50, ep.perEdit.p99)}; ${ep.perEdit.deliveries - ep.perEdit.delivered}`,
    });
    row({
      figure: "  runtime CPU per delivery",
      relay: cpu(ep.endpoints.cpuMsPerDelivery),
      beside: cpu(ep.perEdit.cpuMsPerDelivery),
      ratio: x(ep.endpoints.cpuMsPerDelivery, ep.perEdit.cpuMsPerDelivery),
    });

    const routed = n(2_000, 20);
    await quiet();
    const hr = await hubRouting(relay, routed, quietRelay);
    await quiet();
    const hb = await hubRouting(baseline, routed, quietBaseline);
    R.routing = { relay: hr, baseline: hb };
    phase("hub routing");
    row({
      figure: `One hub routing ${routed} completions emitted at once (no webhooks), handed over per second`,
      relay: `${rate(hr.perSecond)} (${hr.routed} in ${ms(hr.ms)})`,
      beside: `${rate(hb.perSecond)} (${hb.routed} in ${ms(hb.ms)})`,
      ratio: x(hr.perSecond, hb.perSecond),
    });
    row({
      figure: "  runtime CPU per completion handed over",
      relay: cpu(hr.cpuMsPerEvent),
      beside: cpu(hb.cpuMsPerEvent),
      ratio: x(hr.cpuMsPerEvent, hb.cpuMsPerEvent),
    });
  } finally {
    await bench.close();
    await baseline?.close();
  }

  // The output copy (R2) on the completion path: the same latency run on a relay with it off.
  const copyJobs = n(300, 10);
  const copyRouted = n(500, 20);
  const copyOn = await (async () => {
    const on = await startBench({ clients: 4, bundle, runtime, receiver });
    try {
      const lat = await notificationLatency(on, copyJobs, 20);
      const quietOn = () => quiesce(on.relay.url, R.floor?.relay.p50 ?? 2);
      await quietOn();
      const routing = await hubRouting(relayTarget(on), copyRouted, quietOn);
      // What the copy needs at least: one GET of Oxen's file, from this machine.
      const fileRtt: number[] = [];
      for (let i = 0; i < n(100, 5); i++) {
        const edit = await createEdit(on, 0, {});
        const gen = edit.outputs[0]?.generation_id as string;
        on.sim.sim.finish(gen, "succeeded");
        const job = await fetch(`${on.sim.baseUrl}/ai/queue/${gen}`, {
          headers: { authorization: `Bearer ${OXEN_KEY}` },
        }).then((r) => r.json() as Promise<{ result_url: string }>);
        const t = performance.now();
        await fetch(job.result_url).then((r) => r.arrayBuffer());
        fileRtt.push(performance.now() - t);
      }
      return { lat, routing, fileP50: percentile(fileRtt, 50) };
    } finally {
      await on.close();
    }
  })();
  const copyOff = await (async () => {
    const off = await startBench({
      clients: 4,
      bundle,
      runtime,
      receiver,
      vars: { PERSIST_OUTPUTS: "false" },
    });
    try {
      const lat = await notificationLatency(off, copyJobs, 20);
      const quietOff = () => quiesce(off.relay.url, R.floor?.relay.p50 ?? 2);
      await quietOff();
      return { lat, routing: await hubRouting(relayTarget(off), copyRouted, quietOff) };
    } finally {
      await off.close();
    }
  })();
  phase("output copy on/off");
  R.copy = {
    on: copyOn.lat,
    off: copyOff.lat,
    fileP50: copyOn.fileP50,
    routing: { on: copyOn.routing, off: copyOff.routing },
  };
  const added = copyOn.lat.relayP50 - copyOff.lat.relayP50;
  row({
    figure: `Completion → webhook with the R2 copy, beside without (PERSIST_OUTPUTS=false), p50 / p99, ${copyJobs} jobs each`,
    relay: pair(copyOn.lat.relayP50, copyOn.lat.relayP99),
    beside: pair(copyOff.lat.relayP50, copyOff.lat.relayP99),
    ratio: x(copyOn.lat.relayP50, copyOff.lat.relayP50),
  });
  row({
    figure: "  runtime CPU per job, with the copy beside without",
    relay: cpu(copyOn.lat.cpuMsPerJob),
    beside: cpu(copyOff.lat.cpuMsPerJob),
    ratio: x(copyOn.lat.cpuMsPerJob, copyOff.lat.cpuMsPerJob),
  });
  row({
    figure: `  one hub routing ${copyRouted} completions (no webhooks), with the copy beside without: runtime CPU per completion; per second`,
    relay: `${cpu(copyOn.routing.cpuMsPerEvent)}; ${rate(copyOn.routing.perSecond)}`,
    beside: `${cpu(copyOff.routing.cpuMsPerEvent)}; ${rate(copyOff.routing.perSecond)}`,
    ratio: x(copyOn.routing.cpuMsPerEvent, copyOff.routing.cpuMsPerEvent),
  });
  row({
    figure: "  added by the copy at p50, beside one GET of Oxen's file (p50)",
    relay: ms(added),
    beside: ms(copyOn.fileP50),
    goal: "less than the round trip + R2 put, no polling delay",
    verdict: verdict(added <= copyOn.fileP50 + 10),
  });
} finally {
  await receiver.close();
}

// Point 5: the hub's own work, outside workerd (see hub.ts and reconcile.ts for why).
R.footprint = await hubFootprint(smoke ? [100, 1_000] : [1_000, 10_000, 100_000], smoke ? 100 : 2_000);
for (const p of R.footprint) {
  row({
    figure: `Hub with ${p.outstanding.toLocaleString("en")} outstanding: register / match / orphan per event`,
    relay: `${p.registerUs.toFixed(1)} / ${p.matchUs.toFixed(1)} / ${p.orphanUs.toFixed(1)} µs; JS heap ${p.heapBytesPerGeneration.toFixed(1)} B per generation`,
    goal: "flat; nothing per generation in JS",
  });
}
phase("hub footprint");
R.reconcile = await reconcileCost(smoke ? [100, 1_000] : [1_000, 10_000, 100_000]);
for (const p of R.reconcile) {
  row({
    figure: `Reconciliation pass (one per 30 s heartbeat), ${p.outstanding.toLocaleString("en")} outstanding: all still running / ${p.missed} finished unseen`,
    relay: `${pair(p.steadyMs, p.gapMs)}; of which SQLite rows ${ms(p.selectMs)}, Oxen's list ${ms(p.listMs)} (${(p.listBytes / 2 ** 20).toFixed(1)} MiB); peak heap ${p.peakHeapMb.toFixed(1)} MiB`,
    goal: "",
  });
}

phase("reconciliation");
R.bundle = bundleSizes(bundle);
rmSync(outdir, { recursive: true, force: true });
row({
  figure: "Bundle (wrangler deploy --dry-run, minified), gzipped, beside a bare Hono app",
  relay: `${(R.bundle.relayGzip / 1024).toFixed(1)} KiB (raw ${(R.bundle.relayBytes / 1024).toFixed(0)} KiB)`,
  beside: `${(R.bundle.helloGzip / 1024).toFixed(1)} KiB`,
  ratio: x(R.bundle.relayGzip, R.bundle.helloGzip),
  goal: "≤ 150 KB",
  verdict: verdict(R.bundle.relayGzip <= 150_000),
});

const seconds = Math.round((Date.now() - started) / 1000);
const machine = `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, wrangler ${execSync("node -p \"require('./node_modules/wrangler/package.json').version\"").toString().trim()}`;
// The machine's other work, for judging the noise: the 1-minute load average as the run began and ended.
const load = `load average ${loadAtStart.toFixed(1)} at the start, ${(loadavg()[0] ?? Number.NaN).toFixed(1)} at the end`;
const run = { seconds, machine: `${machine}; ${load}`, date: new Date().toISOString().slice(0, 10) };
const { table, doc } = report(rows, R as Results, run);
console.log(`\n${table}\n\n${run.machine}; ${seconds} s`);
// Every figure's raw results beside the test output (test/bench/render.ts writes the page again
// from them); a smoke run's page too, for a look (only a full run's page is the record).
mkdirSync("test-output", { recursive: true });
writeFileSync(
  `test-output/bench${smoke ? ".smoke" : ""}.json`,
  JSON.stringify({ run, rows, results: R }, (k, v) => (k === "made" ? undefined : v), 2),
);
if (smoke) writeFileSync("test-output/benchmarks.smoke.md", doc);
else writeFileSync("docs/benchmarks.md", doc);

/** Finishes jobs a figure left running and waits until each hub has handed them over. */
async function finishAll(made: { target: Target; generation: string }[]): Promise<void> {
  const targets = new Set(made.map((m) => m.target));
  for (const t of targets) {
    const gens = made.filter((m) => m.target === t).map((m) => m.generation);
    const before = await t.handed();
    for (const g of gens) t.sim.sim.finish(g, "succeeded");
    await settle(t, before, gens.length);
  }
}
