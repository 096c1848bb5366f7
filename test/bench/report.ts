import type { BundleResult } from "./bundle.ts";
import type { EndpointFanout } from "./endpoints.ts";
import type { EnqueueResult } from "./enqueue.ts";
import { BURST_TIMEOUT_MS, type FanoutResult } from "./fanout.ts";
import type { Floor } from "./floor.ts";
import type { HubPoint } from "./hub.ts";
import type { LatencyResult } from "./latency.ts";
import type { ReconcilePoint } from "./reconcile.ts";
import type { RoutingResult } from "./routing.ts";
import type { RuntimeProbe } from "./runtimes.ts";
import { ms } from "./stats.ts";

export interface Row {
  figure: string;
  relay: string | number;
  /** What the figure is compared with: the baseline, or the alternative the figure names. */
  beside?: string | number;
  /** relay ÷ beside. */
  ratio?: string;
  goal?: string;
  verdict?: string;
}

export interface Results {
  smoke: boolean;
  probe: RuntimeProbe;
  floor: { relay: Floor; baseline: Floor };
  enqueue: EnqueueResult[];
  latency: { relay: LatencyResult; baseline: LatencyResult };
  bursts: { size: number; relay: FanoutResult; baseline: FanoutResult }[];
  endpoints: EndpointFanout;
  routing: { relay: RoutingResult; baseline: RoutingResult };
  copy: {
    on: LatencyResult;
    off: LatencyResult;
    fileP50: number;
    routing: { on: RoutingResult; off: RoutingResult };
  };
  footprint: HubPoint[];
  reconcile: ReconcilePoint[];
  bundle: BundleResult;
}

const cell = (v: string | number | undefined) => String(v ?? "").replaceAll("|", "\\|");

export function table(rows: Row[]): string {
  return [
    "| figure | relay | beside it | ratio | goal | |",
    "|---|---|---|---|---|---|",
    ...rows.map(
      (r) => `| ${[r.figure, r.relay, r.beside, r.ratio, r.goal, r.verdict].map(cell).join(" | ")} |`,
    ),
  ].join("\n");
}

export function report(
  rows: Row[],
  r: Results,
  run: { seconds: number; machine: string; date: string },
): { table: string; doc: string } {
  const t = table(rows);
  return { table: t, doc: document(t, r, run) };
}

/** Rewraps generated prose (paragraphs and "- " bullets, nested ones too) at `width` columns. */
export function reflow(text: string, width = 100): string {
  const out: string[] = [];
  let item: { prefix: string; words: string[] } | null = null;
  const flush = () => {
    if (!item) return;
    const indent = " ".repeat(item.prefix.length);
    let line = item.prefix;
    let fresh = true;
    for (const w of item.words) {
      if (!fresh && line.length + 1 + w.length > width) {
        out.push(line);
        line = indent + w;
      } else line = fresh ? line + w : `${line} ${w}`;
      fresh = false;
    }
    out.push(line);
    item = null;
  };
  for (const raw of text.split("\n")) {
    const bullet = raw.match(/^(\s*- )(.*)$/);
    if (raw.trim() === "") {
      flush();
      out.push("");
    } else if (bullet) {
      flush();
      item = { prefix: bullet[1] as string, words: (bullet[2] as string).split(/\s+/).filter(Boolean) };
    } else if (item) item.words.push(...raw.trim().split(/\s+/));
    else item = { prefix: "", words: raw.trim().split(/\s+/) };
  }
  flush();
  return out.join("\n");
}

const cpuText = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)} ms` : "(not measurable here)");
/** CPU ms per second as a share of one core. */
const share = (msPerSecond: number) =>
  Number.isFinite(msPerSecond) ? `${(msPerSecond / 10).toFixed(0)}%` : "n/a";
const times = (a: number, b: number) => `${(a / b).toFixed(a / b < 10 ? 2 : 0)}×`;
const perS = (n: number) => `${n.toFixed(0)}/s`;
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const seq = (r: Results) => r.enqueue.find((e) => e.concurrency === 1) as EnqueueResult;
const conc = (r: Results) => r.enqueue.find((e) => e.concurrency !== 1) as EnqueueResult;
const biggest = (r: Results) => r.bursts[r.bursts.length - 1] as Results["bursts"][number];
const lost = (f: FanoutResult) => f.deliveries - f.delivered;

function goals(r: Results): string {
  const lat = r.latency;
  const p50 = lat.relay.relayP50 / lat.baseline.relayP50;
  const p99 = lat.relay.relayP99 / lat.baseline.relayP99;
  const b = biggest(r);
  const burst = b.relay.perSecond / b.baseline.perSecond;
  const e = seq(r);
  const added = e.relayP50 - e.directP50;
  const baseAdded = e.baselineP50 - e.directP50;
  const floor = r.floor.baseline.p50;
  const verdict = (ok: boolean) => (ok ? "**met**" : "**missed**");
  return `- Completion → webhook p50 ≤ 1.5× the baseline's: ${verdict(p50 <= 1.5)}, ${ms(lat.relay.relayP50)}
  against ${ms(lat.baseline.relayP50)} (${times(lat.relay.relayP50, lat.baseline.relayP50)}); p99 ≤ 2×:
  ${verdict(p99 <= 2)}, ${ms(lat.relay.relayP99)} against ${ms(lat.baseline.relayP99)}
  (${times(lat.relay.relayP99, lat.baseline.relayP99)}).
- Burst of ${b.size.toLocaleString("en")} edits × 2 webhooks ≥ 0.5× the baseline's deliveries/s with none lost:
  ${verdict(burst >= 0.5 && lost(b.relay) === 0)}, ${perS(b.relay.perSecond)} against ${perS(b.baseline.perSecond)}
  (${times(b.relay.perSecond, b.baseline.perSecond)}), ${lost(b.relay)} lost.
- Enqueue (\`POST /v1/edits\` minus a direct \`POST /ai/queue\`, sequential, p50) ≤ 2× the runtime's
  no-I/O floor: ${verdict(added <= 2 * floor)}, ${ms(added)} added against a floor of ${ms(floor)}
  (${times(added, floor)}). The baseline's own enqueue, whose I/O is the least an enqueue can do
  (one RPC to the hub, Oxen's POST, one RPC that writes one row), adds ${ms(baseAdded)}
  (${times(baseAdded, floor)} the floor).`;
}

function runtimeSection(r: Results): string {
  const p = r.probe;
  const w = p.floors.wrangler;
  const m = p.floors.miniflare;
  return `Measured at the start of every run, on the same two bundles, sequential no-I/O requests
interleaved across the four (relay and baseline under each runtime):

- **wrangler dev** (\`--no-bundle\` on the prebuilt bundle, as the bench always ran): floor p50
  ${ms(w.relay.p50)} for the relay, ${ms(w.baseline.p50)} for the baseline, costing its workerd processes
  ${cpuText(w.relay.cpuMs)} / ${cpuText(w.baseline.cpuMs)} of CPU per request; start-up
  ${ms(p.startupMs.wrangler.relay)} / ${ms(p.startupMs.wrangler.baseline)}.
- **Miniflare's API** (\`new Miniflare(...)\` from the bench's process, the same bundle as one ES module):
  floor p50 ${ms(m.relay.p50)} / ${ms(m.baseline.p50)} (${times(m.relay.p50, w.relay.p50)} and
  ${times(m.baseline.p50, w.baseline.p50)} wrangler dev's), ${cpuText(m.relay.cpuMs)} / ${cpuText(m.baseline.cpuMs)}
  of CPU per request; start-up ${ms(p.startupMs.miniflare.relay)} / ${ms(p.startupMs.miniflare.baseline)}.

Why the difference: wrangler dev puts its own development proxy in front of the Worker (a second
workerd with live reload and the DevTools inspector), so every request crosses two runtimes and a
loopback hop; through Miniflare's API the request enters the Worker's own workerd directly.

Whether Miniflare is faithful: its options are not written by hand but read from the same
\`wrangler.toml\` by wrangler itself (\`unstable_getMiniflareWorkerOptions\`, what wrangler's own test
pool uses): the same Durable Object classes on SQLite, KV, R2, the two rate limiters, the static
assets with \`run_worker_first\`, the compatibility date and flags; it is the same Miniflare
package and workerd binary wrangler dev runs; storage is persisted in the layout wrangler dev uses
(\`<dir>/v3\`). Checked in every run: ${p.persisted.ok ? p.persisted.detail : `**failed**: ${p.persisted.detail}`}.
What it leaves out is what wrangler dev adds for development: the proxy, live reload and the
inspector (CPU profiles, \`test/bench/profile.ts\`, still need wrangler dev).

This run used **${p.choice === "miniflare" ? "Miniflare's API" : "wrangler dev"}**: ${p.why}. Both the
relay and the baseline always run on the same one; \`--runtime=wrangler\` or \`--runtime=miniflare\`
forces it.`;
}

function timeSection(r: Results): string {
  const b = biggest(r);
  const small = r.bursts[0] as Results["bursts"][number];
  const e = seq(r);
  const c = conc(r);
  const ro = r.routing;
  const ep = r.endpoints;
  const binds = b.relay.perSecond < 0.8 * b.baseline.perSecond;
  const alsoSmall =
    small.size === b.size
      ? ""
      : `; at ${small.size.toLocaleString("en")} edits ${perS(small.baseline.perSecond)} and ${perS(small.relay.perSecond)}`;
  return `- **${binds ? "The runtime is not what binds" : "The runtime is what binds now"}.** On the same runtime, machine
  and load, the baseline delivered ${perS(b.baseline.perSecond)} in the ${b.size.toLocaleString("en")}-edit burst and
  the relay ${perS(b.relay.perSecond)}, ${times(b.relay.perSecond, b.baseline.perSecond)}${alsoSmall}. Earlier versions
  of this page put the missed goals on the local runtime (one workerd thread shared by every object,
  local SQLite). That still explains the absolute figures, ${
    binds
      ? "but not the gap: the runtime does the same hot-path I/O several times faster than the relay, so the difference is the relay's own work per edit."
      : "and now the gap too: the relay runs within 20% of the bare Worker doing the same I/O."
  } Counted in CPU rather than wall time (the runtimes' workerd processes, from /proc, which the
  machine's other load does not inflate the way it does wall time), the relay's runtime spent
  ${cpuText(b.relay.cpuMsPerDelivery)} per delivery in that burst against the baseline's
  ${cpuText(b.baseline.cpuMsPerDelivery)} (${times(b.relay.cpuMsPerDelivery, b.baseline.cpuMsPerDelivery)}), and
  ${cpuText(r.latency.relay.cpuMsPerJob)} per job at 20 jobs/s against ${cpuText(r.latency.baseline.cpuMsPerJob)}.
- **Completion → webhook.** At 20 jobs/s the relay's runtime needed ${cpuText(r.latency.relay.cpuMsPerJob)} of CPU
  per job (its enqueue, completion and webhook together), ${share(r.latency.relay.cpuMsPerJob * 20)} of one core,
  against ${cpuText(r.latency.baseline.cpuMsPerJob)} and ${share(r.latency.baseline.cpuMsPerJob * 20)} for the baseline. The
  more of its time the runtime's one thread is busy (on two cores shared with the load generator, the
  simulator and the receivers), the more often a completion waits behind creates and other
  completions${
    r.latency.relay.relayP50 > 1_000
      ? "; and a runtime that needs more CPU than the machine gives it falls behind for good, as the relay did in this run (its completions queued for seconds)"
      : ""
  }: the relay's p50 was ${ms(r.latency.relay.relayP50)} and its p99
  ${ms(r.latency.relay.relayP99)}, the baseline's ${ms(r.latency.baseline.relayP50)} and ${ms(r.latency.baseline.relayP99)}.
- **The floor.** The relay's 404 (${ms(r.floor.relay.p50)}) against the bare Worker's
  (${ms(r.floor.baseline.p50)}): the relay's goes through the static-assets router (\`run_worker_first\`
  lists only the console's pages), Hono's routing and middleware and one log line; the baseline's
  through none of them.
- **Enqueue.** Sequentially the relay adds ${ms(e.relayP50 - e.directP50)} to a direct call, the baseline
  ${ms(e.baselineP50 - e.directP50)}. The relay's create does, besides Oxen's POST, the client's key
  read from KV, the rate limiter, the client object's quota reservation, the edit object's create
  (the hub's stream check, the intent row, the edit's transaction, its alarm, the registration with
  the hub) and a KV write off the request path; the baseline two RPCs and one row (\`docs/cost.md\`
  counts them per edit). From 32 concurrent clients the relay's p50 is ${ms(c.relayP50)}, the baseline's
  ${ms(c.baselineP50)}, a direct call ${ms(c.directP50)}: everything shares two cores.
- **The hub's own work is not what binds a burst.** Its storage work is microseconds per event (the
  footprint rows). Routing completions with no webhooks, the relay's hub had
  ${perS(ro.relay.perSecond)} acknowledged by edit objects, the baseline's ${perS(ro.baseline.perSecond)}
  (${times(ro.relay.perSecond, ro.baseline.perSecond)}), at ${cpuText(ro.relay.cpuMsPerEvent)} and
  ${cpuText(ro.baseline.cpuMsPerEvent)} of runtime CPU per completion. The hub already hands each completion
  on without waiting for the previous one (an earlier version of this page proposed that as future
  work); an acknowledgement waits for the edit object's \`applyUpdates\` (\`src/hub/hub.ts\`), and the
  CPU per completion is the edit objects' work on it and what it sets off (the output copy, the
  edit's transaction and outbox row, KV, the usage report to the client's object, alarms). Of that,
  the output copy's share, routing the same way on two relays beside each other:
  ${cpuText(r.copy.routing.on.cpuMsPerEvent)} per completion with it, ${cpuText(r.copy.routing.off.cpuMsPerEvent)}
  without (${perS(r.copy.routing.on.perSecond)} and ${perS(r.copy.routing.off.perSecond)}). Locally KV and R2 are
  themselves simulated inside the same workerd, so their work is counted here; on Cloudflare they
  are services elsewhere, and what they cost is counted in \`docs/cost.md\`.
- **Endpoints.** ${ep.endpoints.edits.toLocaleString("en")} edits of one client with two endpoints delivered
  ${perS(ep.endpoints.perSecond)}; the same count with two webhooks per edit (another single client)
  ${perS(ep.perEdit.perSecond)} (${times(ep.endpoints.perSecond, ep.perEdit.perSecond)}; CPU per delivery
  ${cpuText(ep.endpoints.cpuMsPerDelivery)} against ${cpuText(ep.perEdit.cpuMsPerDelivery)}): ${
    ep.endpoints.perSecond >= ep.perEdit.perSecond
      ? "endpoints are not slower, as the contract requires."
      : `**slower than per-edit delivery, which the contract does not allow**. An endpoint's first attempt is made by the edit's object, then reported to the client's one object (and the event logged there): every delivery of one client passes through that one object.${
          ep.endpoints.cpuMsPerDelivery / ep.perEdit.cpuMsPerDelivery <
          0.8 * (ep.perEdit.perSecond / ep.endpoints.perSecond)
            ? " The rate falls further than the CPU rises: the deliveries wait, consistent with that one object serialising them."
            : ""
        }`
  }
- **The output copy.** With \`PERSIST_OUTPUTS\` on, completion → webhook took ${ms(r.copy.on.relayP50)} at
  p50 (p99 ${ms(r.copy.on.relayP99)}), without it ${ms(r.copy.off.relayP50)} (p99 ${ms(r.copy.off.relayP99)}), while one
  GET of Oxen's file from this machine takes ${ms(r.copy.fileP50)}; runtime CPU per job
  ${cpuText(r.copy.on.cpuMsPerJob)} with it, ${cpuText(r.copy.off.cpuMsPerJob)} without. ${
    r.copy.on.relayP50 - r.copy.off.relayP50 <= r.copy.fileP50 + 10
      ? "The copy adds about its own round trip and R2 write, as designed."
      : "The copy adds more than one GET of the file: a success is held back until its output is in R2 (`src/edits/object.ts`), so the webhook waits for the GET, the R2 write (locally simulated in the same workerd, on its thread) and the copy's bookkeeping in the edit object."
  }
- **History, kept because it still holds.** Timeline probes on single jobs (under wrangler dev)
  found a KV read of the client's secrets on the hot path (10–15 ms of a 20–25 ms completion →
  webhook); authentication now reads one KV key, the client's secrets travel with the create call
  and are reread at most once a minute, KV snapshots are written off the request and notification
  paths, and an edit no longer asks SQLite whether its table exists on every read.
- **The profile, and what was cut (2026-12-01).** A V8 CPU profile of the worker during a 300-edit
  burst (\`node test/bench/profile.ts\`, through wrangler dev's inspector) put about a quarter of the
  samples in SQLite \`exec\` calls, spread over many small statements, then R2 and KV \`put\`, alarm
  writes (\`setAlarm\`/\`getAlarm\` on every state change), one JSON log line per successful
  attempt, and one usage RPC per webhook. Cut: the edit object's scheduling notes, origin and alarm
  time are kept in memory (it is their only writer), the attempt log is trimmed only past 50, usage
  is counted once per delivery pass, successful attempts are no longer logged (they are in the
  attempt log), KV holds 3 writes per edit instead of two per state, registration with the hub left
  the create's answer path, and the client object moves its alarm only earlier. CPU per delivery in
  the 2,000-edit burst went from 5.0–7.0 ms (two full runs of the bench's first version, on a loaded
  machine) to the figure above; what is left is the number of storage statements, KV and R2 writes
  per edit, not one hot spot.
- **What the microbenchmarks say.** The relay's own CPU work per edit, in Node: request validation
  40 µs, signing 27 µs, URL safety check 37 µs, request fingerprint 113 µs. That is far less than the
  gap to the baseline, which points at the number of storage transactions, RPCs, KV writes and alarm
  resets per edit (each a trip through the runtime) rather than at computation; a CPU profile of the
  worker during a burst (\`node test/bench/profile.ts\`) says which.`;
}

function scalingSection(r: Results): string {
  const ro = r.routing;
  const pts = r.reconcile;
  const at = (n: number) => pts.find((p) => p.outstanding === n);
  const lines = pts
    .map(
      (p) =>
        `  - ${p.outstanding.toLocaleString("en")} outstanding: ${ms(p.steadyMs)} when all are still running, ${ms(p.gapMs)} when ${p.missed} finished unseen; reading every row ${ms(p.selectMs)}, Oxen's list ${ms(p.listMs)} for ${mib(p.listBytes)}; ${p.peakHeapMb.toFixed(1)} MiB of JavaScript heap at the pass's peak.`,
    )
    .join("\n");
  const k10 = at(10_000);
  const k100 = at(100_000);
  const heavy = k100 ?? pts[pts.length - 1];
  return `- **Events per second one hub routes** (one hub per Oxen account: Oxen has one stream per user).
  ${ro.relay.events.toLocaleString("en")} completions emitted at once for registered generations without webhooks:
  the relay's hub had them acknowledged at ${perS(ro.relay.perSecond)}, the baseline's at ${perS(ro.baseline.perSecond)}.
  Locally the hub shares its thread with every edit object; on Cloudflare each object runs on its own,
  so these are lower bounds for the hub, set by the edit objects' work.
- **Reconciliation cost per pass** (\`src/hub/reconcile.ts\`, its one-by-one reads bounded to 200 per
  pass; measured outside workerd with the hub's own store and Oxen client, Oxen answering from memory):
${lines}
- **The bound caps the one-by-one reads, not the pass.** Each pass still reads every outstanding row
  and parses Oxen's whole active list (it has no pagination), so its cost grows linearly with what is
  outstanding, every 30 s heartbeat and after every reconnect.
- **At 10× and 100× the load.** The bench's steady load is 20 jobs/s on one account; outstanding
  generations are the rate times the job time, and images take 5–30 s: 100–600 outstanding now,
  1,000–6,000 at 10× (200 jobs/s), 10,000–60,000 at 100× (2,000 jobs/s). On one account, 10× means a
  hub routing 200 completions/s${k10 ? ` and a pass of about ${ms(k10.steadyMs)} every 30 s over ${mib(k10.listBytes)} of Oxen's list` : ""}; 100× means
  2,000 completions/s (${times(2000, ro.relay.perSecond)} what one hub had acknowledged here)${heavy ? ` and, at ${heavy.outstanding.toLocaleString("en")} outstanding, passes of ${ms(heavy.steadyMs)} that hold ${heavy.peakHeapMb.toFixed(0)} MiB of JavaScript heap (plus Oxen's ${mib(heavy.listBytes)} answer while it is parsed) in an isolate allowed 128 MB` : ""}.
  Several Oxen accounts, one hub each, divide all of that: the hubs are separate objects, so 100× over
  ten accounts is 10× per hub, and the edit objects (one per edit) spread anyway. What does not
  divide by accounts is per client: one client object takes every usage report and endpoint report
  of its client, and the per-client rate limit (600 calls per 10 s) caps one client's creates at 60/s;
  a client at 10× today's whole load needs that limit raised and its object kept off the per-delivery
  path. ${
    heavy && heavy.peakHeapMb + heavy.listBytes / 2 ** 20 > 64
      ? `At ${heavy.outstanding.toLocaleString("en")} outstanding on one account a pass needs more than half of an isolate's memory: beyond that the hub must page its rows and Oxen's list (which has no pagination, only filters), or the load must be spread over more accounts.`
      : "The pass stays linear in what is outstanding; paging the hub's rows would bound it, Oxen's list has no pagination."
  }`;
}

function document(t: string, r: Results, run: { seconds: number; machine: string; date: string }): string {
  const runtime = r.probe.choice === "miniflare" ? "Miniflare's API" : "wrangler dev";
  return `# Benchmarks

${reflow(`Latest full run: \`npm run bench\` on ${run.date}, ${run.seconds} s (\`npm run bench -- --smoke\` is the
quick check, about a minute). Machine: ${run.machine}. The relay and the baseline ran under ${runtime}.`)}

Every figure is taken beside a baseline measured in the same run, on the same machine, runtime,
simulator set-up, receiver and load, and the goals are ratios to it (issue 13): absolute times on
these shared machines vary several-fold from run to run.

## What runs

- **The relay**: the production bundle (\`wrangler deploy --dry-run\`, minified), served as built, its
  Durable Object, KV and R2 storage persisted on tmpfs (\`/dev/shm\`: on the VM's disk 40% of the CPU
  time was I/O wait, which says nothing about the relay).
- **The baseline** (\`test/bench/baseline/\`): a bare Worker doing the relay's hot-path I/O and nothing
  else, built and served the same way. \`POST /edits\` sends \`POST /ai/queue\` the body the relay sends,
  writes the generation's webhooks in one SQLite row of a per-job Durable Object named by the
  generation id, and answers 202. One hub object holds the simulator's \`/events\` stream (opened before
  the first enqueue, read with \`eventsource-parser\`) and hands each completion by RPC to its job's
  object without waiting for one before reading the next; that object commits one row, then POSTs a
  body signed with the relay's own \`signWebhook\` (Standard Webhooks) to each URL. Any other path is a
  bare 404: the runtime's floor.
- The Oxen simulator (no artificial delay; a job finishes when the bench says so), one per target and
  configured alike (one account's stream reaches every subscriber, so two hubs on one simulator would
  each see the other's completions), and one webhook receiver, in the bench's Node process; all on
  loopback on this one machine, sharing its cores.

## Results

${t}

"beside it" is the baseline, unless the figure names something else (the other runtime, polling,
the relay without the output copy, per-edit webhooks, a bare Hono app); "ratio" is the first over
the second. Between figures the bench waits until both targets answer their floor quickly again, so
no figure pays for background work the previous one left (KV writes, copies, usage reports).

## How each figure is taken

- **Floor**: sequential \`GET\` of an unknown path, relay and baseline interleaved.
- **Enqueue**: \`POST /v1/edits\`, the baseline's \`POST /edits\` and a direct \`POST /ai/queue\` with the
  same body, interleaved, sequentially and from 32 concurrent clients; "added" is the difference of
  medians. The jobs are then finished and handed over before the next figure.
- **Completion → webhook**: jobs enqueued at 20/s, each finished 300 ms later by the simulator, which
  timestamps the completion as it writes it to the event stream; the receiver timestamps the webhook
  once its body has arrived (same process, same clock). The same jobs are also polled with
  \`GET /ai/queue/{id}\` every 2 s from enqueue, as Oxen's docs advise.
- **Burst**: N edits with two webhooks each are created, then every generation is finished at once;
  deliveries per second from the first completion to the last webhook landing; lost = never landed
  within ${BURST_TIMEOUT_MS / 1000} s.
- **Fan-out through endpoints**: one client with two endpoints (\`POST /v1/endpoints\`) makes N edits
  without webhooks; another client makes N edits with two webhooks each; each batch finishes at once.
- **Hub routing**: N edits without webhooks, finished at once; the clock stops when the hub has had
  every completion acknowledged by its edit's object (the relay's outstanding count, from the admin
  \`/healthz\`, back to where it was; the baseline's count of answered RPCs), polled every 50 ms.
- **Output copy**: the completion → webhook run and the hub routing run on a relay with
  \`PERSIST_OUTPUTS\` on and one with it off, beside one GET of Oxen's file from this machine.
- **Hub footprint** and **reconciliation pass**: the hub's own code (\`src/hub/store.ts\`,
  \`src/hub/reconcile.ts\`, \`src/oxen/client.ts\`) on SQLite, in Node, outside workerd (workerd's clock
  stands still while JavaScript runs, so microseconds cannot be read inside it). A pass is timed with
  every outstanding generation still running (the heartbeat's usual case) and with 200 of them
  finished unseen (after a stream gap).
- **Runtime CPU** ("runtime CPU per ..." rows): user and system time of the runtime's workerd
  processes (\`/proc\`, 10 ms ticks) over a figure, divided by its operations. The relay and the
  baseline run in separate processes, so each one's CPU is its own; the bench's own process
  (simulator, receiver, load) is not counted. Less noisy than wall time on a shared machine.
- **Bundle**: \`wrangler deploy --dry-run --outdir\` of the relay and of a bare Hono app
  (\`test/bench/hello\`), both minified, gzipped at level 9.

## The runtime: wrangler dev or Miniflare

${reflow(runtimeSection(r))}

## Goals

${reflow(goals(r))}

## Where the relay's time goes

${reflow(timeSection(r))}

## Scaling

${reflow(scalingSection(r))}
`;
}
