import { execSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { bundleSizes } from "./bundle.ts";
import { enqueueOverhead } from "./enqueue.ts";
import { fanout } from "./fanout.ts";
import { buildBundle, createEdit, OXEN_KEY, startBench } from "./harness.ts";
import { hubFootprint } from "./hub.ts";
import { notificationLatency } from "./latency.ts";
import { ms, percentile } from "./stats.ts";

// `npm run bench` (full, writes docs/benchmarks.md) or `npm run bench -- --smoke` (tiny counts).
const smoke = process.argv.includes("--smoke");
const n = (full: number, tiny: number) => (smoke ? tiny : full);
const rows: string[][] = [];
const row = (...cells: (string | number)[]) => {
  rows.push(cells.map(String));
  console.log(cells.join(" | "));
};
const pass = (ok: boolean) => (ok ? "met" : "MISSED");

const started = Date.now();
const outdir = mkdtempSync(join(tmpdir(), "relay-bench-build-"));
const bench = await startBench({ clients: 32, bundle: buildBundle(outdir) });
try {
  // The runtime's own floor: a route that does no I/O, through the same wrangler dev.
  const floor: number[] = [];
  for (let i = 0; i < n(300, 20); i++) {
    const t = performance.now();
    await fetch(`${bench.relay.url}/no-such-route`).then((r) => r.arrayBuffer());
    floor.push(performance.now() - t);
  }
  row(
    "Runtime floor: a request that does no I/O, p50 / p99 (sequential)",
    `${ms(percentile(floor, 50))} / ${ms(percentile(floor, 99))}`,
    "",
    "",
  );

  const lat = await notificationLatency(bench, n(1_000, 20), 20);
  const ratio = lat.pollP50 / lat.relayP50;
  row(
    "Notification latency (completion → webhook), p50",
    ms(lat.relayP50),
    "≤ 10 ms",
    pass(lat.relayP50 <= 10),
  );
  row("Notification latency, p99", ms(lat.relayP99), "≤ 50 ms", pass(lat.relayP99 <= 50));
  row(
    `Polling every 2 s (Oxen's advice), p50 / p99, same ${lat.jobs} jobs`,
    `${ms(lat.pollP50)} / ${ms(lat.pollP99)}`,
    "",
    "",
  );
  row("Relay vs polling at p50", `${ratio.toFixed(0)}× sooner`, "≥ 100×", pass(ratio >= 100));
  row("Webhooks lost (latency run)", lat.lost, "0", pass(lat.lost === 0));

  for (const c of [1, 32]) {
    const e = await enqueueOverhead(bench, n(c === 1 ? 300 : 640, 10), c);
    const added50 = e.relayP50 - e.directP50;
    row(
      `Enqueue, ${c === 1 ? "sequential" : "32 concurrent clients"}: POST /v1/edits p50 / p99`,
      `${ms(e.relayP50)} / ${ms(e.relayP99)}`,
      "",
      "",
    );
    row(`  direct POST /ai/queue p50 / p99`, `${ms(e.directP50)} / ${ms(e.directP99)}`, "", "");
    row(
      `  added by the relay, p50 / p99`,
      `${ms(added50)} / ${ms(e.relayP99 - e.directP99)}`,
      "≤ 5 ms at p50",
      pass(added50 <= 5),
    );
  }

  for (const size of smoke ? [10] : [500, 1_000, 2_000]) {
    const f = await fanout(bench, size, String(size));
    row(
      `Fan-out burst: ${size} edits × 2 webhooks`,
      `${f.deliveries} in ${ms(f.lastLandedMs)}: ${f.perSecond.toFixed(0)}/s, p50 ${ms(f.p50)}, p99 ${ms(f.p99)}, lost ${f.deliveries - f.delivered}`,
      "≥ 500/s, none lost",
      pass(f.perSecond >= 500 && f.delivered === f.deliveries),
    );
  }
} finally {
  await bench.close();
}

// The output copy (R2) on the completion path: the same latency run on a relay with it off.
const copyOn = await (async () => {
  const on = await startBench({ clients: 4, bundle: join(outdir, "index.js") });
  try {
    const jobs = n(300, 10);
    const lat = await notificationLatency(on, jobs, 20);
    // What the copy needs at least: one GET of Oxen's file, from this machine.
    const fileRtt: number[] = [];
    for (let i = 0; i < n(100, 5); i++) {
      const edit = await createEdit(on, 0, {});
      const gen = edit.outputs[0]?.generation_id as string;
      on.sim.sim.finish(gen, "succeeded");
      const job = await fetch(`${on.sim.baseUrl}/ai/queue/${gen}`, {
        headers: { authorization: `Bearer ${OXEN_KEY}` },
      }).then((r) => r.json() as Promise<{ result_url: string }>);
      const url = job.result_url;
      const t = performance.now();
      await fetch(url).then((r) => r.arrayBuffer());
      fileRtt.push(performance.now() - t);
    }
    return { lat, fileP50: percentile(fileRtt, 50) };
  } finally {
    await on.close();
  }
})();
const copyOff = await (async () => {
  const off = await startBench({
    clients: 4,
    bundle: join(outdir, "index.js"),
    vars: { PERSIST_OUTPUTS: "false" },
  });
  try {
    return await notificationLatency(off, n(300, 10), 20);
  } finally {
    await off.close();
    rmSync(outdir, { recursive: true, force: true });
  }
})();
const added = copyOn.lat.relayP50 - copyOff.relayP50;
row(
  `Completion → webhook with the R2 copy / without (PERSIST_OUTPUTS=false), p50, ${copyOff.jobs} jobs each`,
  `${ms(copyOn.lat.relayP50)} / ${ms(copyOff.relayP50)} (p99 ${ms(copyOn.lat.relayP99)} / ${ms(copyOff.relayP99)}); ${(copyOn.lat.relayP50 / copyOff.relayP50).toFixed(2)}×`,
  "",
  "",
);
row(
  "  added by the copy at p50, against one GET of Oxen's file (p50)",
  `${ms(added)} vs ${ms(copyOn.fileP50)}`,
  "less than the round trip + R2 put, no polling delay",
  pass(added <= copyOn.fileP50 + 10),
);

for (const p of await hubFootprint(smoke ? [100, 1_000] : [1_000, 10_000, 100_000], smoke ? 100 : 2_000)) {
  row(
    `Hub with ${p.outstanding.toLocaleString("en")} outstanding: register / match / orphan per event`,
    `${p.registerUs.toFixed(1)} / ${p.matchUs.toFixed(1)} / ${p.orphanUs.toFixed(1)} µs; JS heap ${p.heapBytesPerGeneration.toFixed(1)} B per generation`,
    "flat; nothing per generation in JS",
    "",
  );
}

const b = bundleSizes();
row(
  "Bundle (wrangler deploy --dry-run, minified), gzipped",
  `${(b.relayGzip / 1024).toFixed(1)} KiB (raw ${(b.relayBytes / 1024).toFixed(0)} KiB); bare Hono ${(b.helloGzip / 1024).toFixed(1)} KiB, ${(b.relayGzip / b.helloGzip).toFixed(1)}×`,
  "≤ 150 KB",
  pass(b.relayGzip <= 150_000),
);

const seconds = ((Date.now() - started) / 1000).toFixed(0);
const machine = `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, wrangler ${execSync("node -p \"require('./node_modules/wrangler/package.json').version\"").toString().trim()}`;
const table = [
  "| figure | result | goal | |",
  "|---|---|---|---|",
  ...rows.map((r) => `| ${r.join(" | ")} |`),
].join("\n");
console.log(`\n${table}\n\n${machine}; ${seconds} s`);
if (!smoke) {
  writeFileSync(
    "docs/benchmarks.md",
    `# Benchmarks

Latest full run: \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}, ${seconds} s.
Machine: ${machine}.

The relay runs under \`wrangler dev\` serving the production bundle (minified, \`--no-bundle\`, no
watching), on the bundled Oxen simulator with no artificial delay, with webhook receivers on
loopback, all on this one machine: every figure includes workerd's local HTTP stack and shares two
cores with the load generator, the simulator and the receivers.

${table}

How each figure is taken:

- **Notification latency**: jobs enqueued through \`POST /v1/edits\` at a steady rate; each is finished
  300 ms later by the simulator, which timestamps the completion as it writes it to the event stream;
  the receiver timestamps the webhook once its body has arrived (same process, same clock). Beside it,
  for the same jobs, a client polls \`GET /ai/queue/{id}\` every 2 s from enqueue, as Oxen's docs advise.
- **Enqueue overhead**: \`POST /v1/edits\` and a direct \`POST /ai/queue\` with the same body,
  interleaved, sequentially and from 32 concurrent clients; "added" is the difference of percentiles.
- **Fan-out**: N edits with two webhooks each are created, then every generation is finished at once;
  the time runs from the first completion to the last webhook landing.
- **Hub footprint**: the hub's own storage code (\`src/hub/store.ts\`) on SQLite, outside workerd
  (workerd's clock stands still while JavaScript runs, so microseconds cannot be read inside it);
  per-event times at each size, and the JavaScript heap it holds per generation (SQLite's pages are not
  JavaScript memory; in a Durable Object they are on disk).
- **Bundle**: \`wrangler deploy --dry-run --outdir\` of the relay and of a bare Hono app
  (\`test/bench/hello\`), both minified, gzipped at level 9.

## Where goals are missed, and why

Where the table says MISSED, the local runtime is what binds first:

- **The floor.** A request that does no I/O at all (an unknown route answered with a 404 by Hono)
  takes the "runtime floor" time above, sequentially, through the same \`wrangler dev\`: two workerd
  processes (wrangler's dev proxy and the worker), on two shared cores. A direct call to the
  simulator, a plain Node server, is the baseline the enqueue goal compares with; the floor alone is
  already past "≤ 5 ms added".
- **One thread, local storage.** Locally every Durable Object, KV and the rate limiter share one
  workerd thread, and every storage commit is a local SQLite write (on tmpfs here: on the VM's disk
  40% of the CPU time was I/O wait, so the bench keeps Durable Object storage in \`/dev/shm\`). At
  20 jobs/s a completion now and then queues behind the enqueues sharing that thread: that is the
  p99. The burst throughput is flat in the burst size (about 90–135 deliveries/s): the runtime's
  rate, not something that degrades with load.
- **What was ours, and fixed.** Timeline probes on single jobs (completion → edit object 3–5 ms,
  the KV read of the client's secrets 10–15 ms, the signed POST 7–13 ms including the storage commit
  that must precede it) showed a KV read on the hot path. Authentication now reads one KV key, not
  two; the client's live secrets travel with the create call and are reread at most once a minute
  (a rotation keeps the old secret signing for 24 h, so that lag breaks nobody); KV snapshots are
  written off the request and notification paths. A single job's completion → webhook time went
  from 20–25 ms to 11–13 ms in that probe (sequential, one job at a time). Later, every read of
  an edit asked SQLite whether the edit's table existed; the object now remembers. The full run
  before that change measured a p50 of 115.6 ms at the same 20 jobs/s (p99 447.8 ms); the two full
  runs after it, with the same code on that path, measured p50 9.6 ms (p99 80.7 ms, 177× sooner
  than polling) and 17.3 ms (p99 130.6 ms, 99×): the local runtime varies that much from run to run.
- **What was ruled out.** Microbenchmarks of the relay's own CPU work per edit, in Node: request
  validation 40 µs, signing 27 µs, URL safety check 37 µs, request fingerprint 113 µs. The relay's
  own code is not where the milliseconds go.
- **What would move the figures** (not done): measuring on Cloudflare itself, where each Durable
  Object runs on its own and storage is not a local file; and, for bursts, more than one hub per
  account is impossible (Oxen gives one stream per user), but the hub could hand events to edit
  objects without waiting for each acknowledgement before reading the next.
`,
  );
}
