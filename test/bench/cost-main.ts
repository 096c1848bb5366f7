import { execSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import {
  addOps,
  type CostResult,
  type IdleWindow,
  measureCost,
  type Ops,
  PRICES,
  type RawOp,
  scaleOps,
  subOps,
  summarize,
  type Window,
} from "./cost.ts";

/**
 * `npm run bench:cost` (writes docs/cost.md and test-output/cost.json), `-- --quick` (5 edits,
 * 2-minute idle windows), `-- --no-write` (prints only), `-- --from test-output/cost.json` (renders a
 * saved run again, without measuring). See test/bench/cost.ts.
 */

const quick = process.argv.includes("--quick");
const write = !process.argv.includes("--no-write");
const fromIndex = process.argv.indexOf("--from");
const SAVED = "test-output/cost.json";

interface Saved {
  result: CostResult;
  quick: boolean;
  seconds: string;
  commit: string;
  dirty: boolean;
}

async function run(): Promise<Saved> {
  const started = Date.now();
  // The code measured: the bundle is built from the working tree as it is now.
  const commit = execSync("git rev-parse --short HEAD").toString().trim();
  const dirty = execSync("git status --porcelain src").toString().trim() !== "";
  const result = await measureCost({
    edits: quick ? 5 : 10,
    idleMs: quick ? 120_000 : undefined,
    outstandingMs: quick ? 120_000 : undefined,
    log: (l) => console.log(l),
  });
  const saved = { result, quick, seconds: ((Date.now() - started) / 1000).toFixed(0), commit, dirty };
  mkdirSync("test-output", { recursive: true });
  writeFileSync(SAVED, JSON.stringify(saved));
  return saved;
}

// `--from test-output/cost.json` renders a saved run again (docs wording) without measuring.
const saved: Saved =
  fromIndex > 0 ? JSON.parse(readFileSync(process.argv[fromIndex + 1] ?? SAVED, "utf8")) : await run();
const { result: r, seconds, commit, dirty } = saved;

// ---- Figures.

/** Output size assumed for R2 storage: the simulator's images are a few bytes. */
const ASSUMED_OUTPUT_BYTES = 1.5 * 2 ** 20;
/** Round trips the local run does not have (Oxen enqueue, Oxen file read and R2 put, webhook POST, KV): an allowance. */
const ASSUMED_NETWORK_MS = 1_000;
const RETENTION_MONTHS = 30 / 30;
const GB = 2 ** 30;

const f = (n: number, d = 2) =>
  Number.isInteger(n) || d === 0 ? n.toFixed(0) : n.toFixed(d).replace(/0+$/, "").replace(/\.$/, "");
const usd = (n: number) => (n === 0 ? "$0" : n < 0.01 ? `$${n.toPrecision(2)}` : `$${n.toFixed(2)}`);

const extraHook = subOps(r.twoHooks.ops, r.core.ops);
const endpointDelivery = subOps(r.withEndpoint.ops, r.core.ops);
const lifecycle = [r.core.ops, r.get.ops, r.list.ops, r.erase.ops].reduce(addOps);

const ROWS: [keyof Ops, string][] = [
  ["workerRequests", "Worker requests"],
  ["doRequests", "Durable Object requests (RPC calls + alarms fired)"],
  ["doRpc", "  of which RPC calls"],
  ["alarmsFired", "  of which alarms fired"],
  ["rowsRead", "SQLite rows read"],
  ["rowsWritten", "SQLite rows written (incl. one per setAlarm)"],
  ["setAlarm", "  of which setAlarm"],
  ["kvReads", "KV reads"],
  ["kvWrites", "KV writes"],
  ["kvDeletes", "KV deletes"],
  ["kvLists", "KV lists"],
  ["r2ClassA", "R2 class A (put, list)"],
  ["r2ClassB", "R2 class B (get, head)"],
  ["r2Free", "R2 deletes (free)"],
  ["subrequests", "Subrequests (fetch; not billed)"],
  ["rateLimiterCalls", "Rate limiter calls (not billed)"],
  ["getAlarm", "getAlarm (not billed)"],
];

function opsTable(cols: [string, Ops][]): string {
  const head = `| operation | ${cols.map(([c]) => c).join(" | ")} |`;
  const sep = `|---|${cols.map(() => "---:").join("|")}|`;
  const body = ROWS.map(([k, label]) => `| ${label} | ${cols.map(([, o]) => f(o[k])).join(" | ")} |`);
  return [head, sep, ...body].join("\n");
}

/** Cost of a set of operations at list prices, beyond any inclusion, by line. */
function priced(o: Ops): [string, number][] {
  return [
    ["Worker requests", o.workerRequests * PRICES.workerRequest],
    ["Durable Object requests", o.doRequests * PRICES.doRequest],
    ["SQLite rows read", o.rowsRead * PRICES.sqlRowRead],
    ["SQLite rows written", o.rowsWritten * PRICES.sqlRowWritten],
    ["KV reads", o.kvReads * PRICES.kvRead],
    ["KV writes", o.kvWrites * PRICES.kvWrite],
    ["KV deletes", o.kvDeletes * PRICES.kvDelete],
    ["KV lists", o.kvLists * PRICES.kvList],
    ["R2 class A", o.r2ClassA * PRICES.r2ClassA],
    ["R2 class B", o.r2ClassB * PRICES.r2ClassB],
  ];
}
const sum = (lines: [string, number][]) => lines.reduce((a, [, v]) => a + v, 0);

// Time the edit's and the client's objects are active per edit (the hub is always on; see idle).
const activeMs = (w: Window) => (w.activeMs.EditObject ?? 0) + (w.activeMs.ClientObject ?? 0);
const localActiveMs = activeMs(r.core) + activeMs(r.get) + activeMs(r.list) + activeMs(r.erase);
const gbs = (ms: number) => (ms / 1000) * PRICES.doGb;
const cpuMs = [r.core, r.get, r.list, r.erase].reduce((a, w) => a + (w.cpuMs ?? 0), 0);
const kvStored = r.storage.kvBytesPerEdit; // an upper bound: every byte put, overwritten ones too
const M = 1e6;

const opLines = priced(lifecycle);
const perMillion: [string, number, string][] = [
  ...opLines.map(([k, v]): [string, number, string] => [k, v * M, ""]),
  [
    "Worker CPU time",
    cpuMs * PRICES.workerCpuMs * M,
    `${f(cpuMs, 0)} ms: all CPU of the local workerd processes per edit (Worker, objects, SQLite, HTTP), an upper bound`,
  ],
  [
    "Durable Object duration",
    gbs(localActiveMs + ASSUMED_NETWORK_MS) * PRICES.doGbSecond * M,
    `${f(localActiveMs, 0)} ms active locally + ${ASSUMED_NETWORK_MS} ms assumed for real round trips, × 128 MB`,
  ],
  [
    "SQLite storage (30-day retention)",
    ((r.storage.editObjectBytes + r.storage.clientObjectBytesPerEdit) / GB) *
      RETENTION_MONTHS *
      PRICES.sqlGbMonth *
      M,
    `${f(r.storage.editObjectBytes / 1024, 0)} KiB per edit object + ${f(r.storage.clientObjectBytesPerEdit / 1024, 1)} KiB in the client object`,
  ],
  [
    "KV storage (30-day retention)",
    (kvStored / GB) * RETENTION_MONTHS * PRICES.kvGbMonth * M,
    `${f(kvStored, 0)} bytes put per edit`,
  ],
  [
    "R2 storage (30-day retention)",
    (ASSUMED_OUTPUT_BYTES / GB) * RETENTION_MONTHS * PRICES.r2GbMonth * M,
    `assumed ${ASSUMED_OUTPUT_BYTES / 2 ** 20} MiB per output (the simulator's are tiny)`,
  ],
];
const opsTotal = sum(opLines) * M;
const allTotal = perMillion.reduce((a, [, v]) => a + v, 0);

// ---- Idle.

const isWatchdog = (x: RawOp) => x.scope === "Hub" && x.trigger === "alarm";
/** Requests (Worker or Durable Object) not made by the hub's heartbeat. */
function beyondWatchdog(w: IdleWindow): RawOp[] {
  return w.raw.filter(
    (x) =>
      !isWatchdog(x) &&
      (x.op === "worker.request" || x.op === "do.request" || x.op === "invoked.alarm") &&
      x.n > 0,
  );
}
const minutes = (w: IdleWindow) => w.ms / 60_000;
const lastAlarmAt = (w: IdleWindow) =>
  w.timeline.filter((t) => (t.hubAlarms ?? t.alarms) > 0).at(-1)?.atMs ?? 0;
const hubAlarmsIn = (w: IdleWindow) =>
  w.raw.filter((x) => x.scope === "Hub" && x.op === "invoked.alarm").reduce((a, x) => a + x.n, 0);
const closed = r.idle.ms - lastAlarmAt(r.idle) > 45_000;
const idleExtra = beyondWatchdog(r.idle);
const afterClose = r.idle.timeline.some(
  (t) => t.atMs > lastAlarmAt(r.idle) && t.doRequests + t.workerRequests > 0,
);
const outstandingExtra = beyondWatchdog(r.outstanding);
const perMinute = (w: IdleWindow) => scaleOps(w.ops, 1 / minutes(w));
// With nothing outstanding the hub closes its stream 5 minutes after the last activity and its
// heartbeat stops: the idle hour is what the window saw once it did, nothing after.
const idleHour = closed ? r.idle.ops : scaleOps(r.idle.ops, 5.5 / minutes(r.idle));
// With a job outstanding, three things run: the hub's heartbeat (every 30 s, whatever is
// outstanding), the edit's own watchdog (a re-registration every 5 minutes, per outstanding edit),
// and, once per job, the status change the first reconciliation finds (forwarded to the edit).
const o = r.outstanding.raw;
const isForward = (x: RawOp) =>
  (x.scope === "EditObject" && x.trigger === "rpc:applyUpdates") ||
  (x.scope === "Hub" && x.trigger === "alarm" && x.op.startsWith("do."));
const isHubBeat = (x: RawOp) => x.scope === "Hub" && x.trigger === "alarm" && !isForward(x);
const isEditWatch = (x: RawOp) =>
  (x.scope === "EditObject" && x.trigger === "alarm") || (x.scope === "Hub" && x.trigger === "rpc:register");
const hubBeat = summarize(o.filter(isHubBeat));
const editWatch = summarize(o.filter(isEditWatch));
const forward = summarize(o.filter(isForward));
/** Per-statement detail and op sub-labels: already inside the totals they belong to. */
const isDetail = (x: RawOp) =>
  /^(sql[xrw] |sql\.exec$|fetch |kv\.put )/.test(x.op) || x.op === "kv.put.bytes";
/** Work outside any entry point: an object's constructor (it starts again after an eviction). */
const isStartup = (x: RawOp) => x.trigger === "-" && !isDetail(x);
const startup = summarize(o.filter(isStartup));
const unexplained = o.filter(
  (x) => !isHubBeat(x) && !isEditWatch(x) && !isForward(x) && !isStartup(x) && !isDetail(x) && x.n !== 0,
);
const hubBeatHour = hubBeat.alarmsFired > 0 ? scaleOps(hubBeat, 120 / hubBeat.alarmsFired) : hubBeat;
const editWatchHour = editWatch.alarmsFired > 0 ? scaleOps(editWatch, 12 / editWatch.alarmsFired) : editWatch;
const hubHourGbs = gbs(3_600_000);

function rawTable(raw: RawOp[], keep: (x: RawOp) => boolean, scale = 1): string {
  const rows = raw
    .filter((x) => keep(x) && x.n !== 0)
    .sort((a, b) => a.scope.localeCompare(b.scope) || a.trigger.localeCompare(b.trigger));
  return [
    "| object | entry point | operation | count |",
    "|---|---|---|---:|",
    ...rows.map((x) => `| ${x.scope} | ${x.trigger} | \`${x.op}\` | ${f(x.n * scale)} |`),
  ].join("\n");
}

const BILLED = new Set(["worker.request", "do.request", "invoked.alarm", "storage.setAlarm", "fetch"]);
const billed = (x: RawOp) =>
  BILLED.has(x.op) ||
  /^(kv\.(get|delete|list)|r2\.(get|put|delete|list|head))$/.test(x.op) ||
  x.op.startsWith("kv.put ");

/** SQLite rows by statement, per edit, largest first, with how often each ran. */
function statements(w: Window, kind: "sqlw" | "sqlr", top: number): string {
  const calls = new Map(
    w.raw.filter((x) => x.op.startsWith("sqlx ")).map((x) => [`${x.scope} ${x.op.slice(5)}`, x.n]),
  );
  const rows = w.raw
    .filter((x) => x.op.startsWith(`${kind} `))
    .map((x) => ({
      scope: x.scope,
      q: x.op.slice(5),
      n: x.n / w.count,
      calls: (calls.get(`${x.scope} ${x.op.slice(5)}`) ?? 0) / w.count,
    }))
    .sort((a, b) => b.n - a.n)
    .slice(0, top);
  return [
    "| object | statement (first 90 characters) | runs per edit | rows per edit |",
    "|---|---|---:|---:|",
    ...rows.map((x) => `| ${x.scope} | \`${x.q.replace(/\|/g, "\\|")}\` | ${f(x.calls)} | ${f(x.n)} |`),
  ].join("\n");
}

// The lines by size, and what is behind the largest ones (from the statement breakdown).
const ranked = [...perMillion].sort((a, b) => b[1] - a[1]);
const stmtRows = (w: Window, test: (q: string) => boolean) =>
  w.raw.filter((x) => x.op.startsWith("sqlw ") && test(x.op.slice(5))).reduce((a, x) => a + x.n, 0) / w.count;
const stmtRuns = (w: Window, test: (q: string) => boolean) =>
  w.raw.filter((x) => x.op.startsWith("sqlx ") && test(x.op.slice(5))).reduce((a, x) => a + x.n, 0) / w.count;
const isMeta = (q: string) => /^INSERT (OR \w+ )?INTO meta\b/.test(q);
const isSchema = (q: string) => /^(CREATE|ALTER|DROP) /.test(q) || q.includes("_schema");
const rowsPerEdit = r.core.ops.rowsWritten;
const metaEach = stmtRows(r.core, isMeta) / Math.max(1, stmtRuns(r.core, isMeta));
const pages = r.storage.editObjectBytes / 4096;
const eraseOnly = (r.erase.ops.kvDeletes * PRICES.kvDelete + r.erase.ops.r2ClassA * PRICES.r2ClassA) * M;
const drivers = [
  "| line | per million edits | share |",
  "|---|---:|---:|",
  ...ranked.map(([k, v]) => `| ${k} | ${usd(v)} | ${f((100 * v) / allTotal, 0)}% |`),
  "",
  `- **SQLite rows written**: ${f(rowsPerEdit)} per edit (${f(r.core.ops.setAlarm)} of them \`setAlarm\`). ` +
    `${f(stmtRows(r.core, isMeta))} come from the edit object's \`meta\` upserts ` +
    `(${f(stmtRuns(r.core, isMeta))} per edit, ${f(metaEach)} rows each${metaEach >= 1.9 ? ": the row and its primary-key index" : ""}), ` +
    `${f(stmtRows(r.core, isSchema))} from the schema every new edit object ` +
    "creates (its migrations replayed from step 1), the rest from the edit's, the outbox's, the hub's and the " +
    "client's own rows (statement table above).",
  `- **SQLite storage**: ${f(r.storage.editObjectBytes / 1024, 0)} KiB per edit object, about ${f(pages, 0)} pages ` +
    "of 4 KiB: SQLite gives every table and every index (a TEXT primary key has one) at least one page, so the " +
    "size is the number of tables and indexes, not the data.",
  `- **The erasure** (at the end of retention) is ${f(r.erase.ops.kvDeletes)} KV deletes and ` +
    `${f(r.erase.ops.r2ClassA)} R2 list (class A) per edit: ${usd(eraseOnly)} per million edits, though the KV ` +
    "entries expire on their own a day after retention (their TTL) and R2 deletes are free.",
  `- **R2 storage** depends only on the output's size; **KV writes** are ${f(r.core.ops.kvWrites)} per edit.`,
].join("\n");

const kvWrites = r.core.ops.kvWrites;
const kvMet = kvWrites <= 3;
const idleMet = idleExtra.length === 0;
const listOps = (xs: RawOp[]) => xs.map((x) => `${x.scope} ${x.trigger} \`${x.op}\` ×${x.n}`).join(", ");
// Known sources of requests beyond the heartbeat, explained where they show up.
const idleWhy = idleExtra.some((x) => x.scope === "ClientObject" && x.trigger === "alarm")
  ? " The client object's alarm is its lease check: when an edit hands it first attempts for the " +
    "client's endpoints (`settle`), it moves its alarm to the lease's end (2 min) and does not move it back " +
    "when every attempt has been reported, so it fires once, about 2 minutes after the last endpoint " +
    "delivery, finds nothing to reclaim (in this run) and re-arms for the event log's expiry."
  : "";

const machine = `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, wrangler ${execSync("node -p \"require('./node_modules/wrangler/package.json').version\"").toString().trim()}`;

const doc = `# What an edit costs on Cloudflare

Measured by \`npm run bench:cost\` on ${r.date}${saved.quick ? " (quick run)" : ""}, ${seconds} s, at commit ${commit}${dirty ? " (with uncommitted changes in src/)" : ""}; machine: ${machine}.
Prices: Workers Paid list prices as published on ${PRICES.checked} (below).

**Per million edits: ${usd(opsTotal)} in operations, ${usd(allTotal)} with Durable Object duration,
CPU and 30 days of storage** (list prices, before the plan's monthly inclusions; an edit here is one
generation, succeeded, copied to R2, one webhook, read once with \`GET /v1/edits/{id}\`, listed once,
erased when its retention ends). Budgets: ≤ 3 KV writes per edit: **${kvMet ? "met" : "MISSED"}** (${f(kvWrites)});
0 requests per idle minute beyond the watchdog: **${idleMet ? "met" : "MISSED"}** (${idleMet ? "none" : `${listOps(idleExtra)} in the idle window`}).

## How it is counted

\`test/bench/cost-worker.ts\` is the relay's own default export and Durable Object classes, with
every binding counted: KV and R2 calls, each Durable Object stub call (one RPC method call or
\`fetch\` is one billed request), each \`alarm()\` the runtime invokes (also a billed request),
every \`sql.exec\` cursor's \`rowsRead\`/\`rowsWritten\` (what Cloudflare bills), \`setAlarm\`
(billed as one row written), \`globalThis.fetch\` (subrequests), and Worker requests. It is built
with \`wrangler deploy --dry-run\` and served by \`wrangler dev\`, where the Worker and its objects
share one isolate (checked: the objects' counts reach the Worker's \`/_cost/ops\`). Each scenario
runs ${r.edits} times against the Oxen simulator and a webhook receiver on loopback, between a reset of
the counters and a quiet moment (2.5 s with nothing moving, deferred work included: the KV
snapshot, the usage report, the alarm after the webhook), and is divided by its count. Each job
runs 1.5 s before the simulator finishes it. The hub's heartbeat is set apart (it belongs to
time, not to an edit).

## Operations per edit

"Edit" is \`POST /v1/edits\` (one generation, one webhook), the completion through the hub, the
copy of the output into R2, the signed webhook, the usage report, and the alarms that follow.
"Extra webhook" is an edit with two webhook URLs minus one with one; "endpoint delivery" is an
edit of a client with one endpoint (\`POST /v1/endpoints\`) minus one without; "erase" is
\`DELETE /v1/edits/{id}\` (the retention alarm runs the same erasure, with one alarm instead of the
Worker request, its KV read and its RPC).

${opsTable([
  ["edit", r.core.ops],
  ["+ GET", r.get.ops],
  ["+ list (limit=1)", r.list.ops],
  ["+ erase", r.erase.ops],
  ["= lifecycle", lifecycle],
  ["extra webhook", extraHook],
  ["endpoint delivery", endpointDelivery],
  ["download of the output", r.download.ops],
  ["POST /v1/endpoints (once)", r.endpointCreate.ops],
])}

A list call reads one KV key per edit on its page (plus the auth read): a page of 20 finished edits
is 1 list and 21 reads; an edit still in flight on a page is read from its object instead (a KV
read that misses, then one RPC).

Time the edit's and the client's objects were active, per edit, locally: ${f(activeMs(r.core), 0)} ms
(edit), ${f(activeMs(r.erase), 0)} ms (erase). Local round trips are loopback: on Cloudflare the
enqueue, the read of Oxen's file, the R2 put and the webhook POST each wait on the network.

### Where the operations of an edit come from

Billed operations of the ${r.edits} edits of the "edit" column (not divided):

${rawTable(r.core.raw, billed)}

### SQLite rows written, by statement (the largest line of the bill)

${statements(r.core, "sqlw", 15)}

Rows read, by statement:

${statements(r.core, "sqlr", 8)}

## An idle hour

**Nothing outstanding, hub connected** (watched ${f(minutes(r.idle), 1)} min from the last edit):
the hub's heartbeat (an alarm every 30 s while its stream is open) ${closed ? `fired ${hubAlarmsIn(r.idle)} times and stopped ${f(lastAlarmAt(r.idle) / 60_000, 1)} min in, when the hub closed its idle stream (5 min after the last activity); ${afterClose ? "requests went on after that (timeline in test-output/cost.json)" : "nothing ran after that"}` : `fired ${hubAlarmsIn(r.idle)} times (the window was too short to see the hub close its idle stream at 5 min; the hour is extrapolated to 5.5 min of heartbeat)`}.
Requests beyond the heartbeat: ${idleMet ? "none." : `${listOps(idleExtra)}.${idleWhy}`}
The hub was active (its stream open) ${f((r.idle.activeMs.Hub ?? 0) / 1000, 0)} s of the window.

${opsTable([
  ["per connected minute", perMinute(r.idle)],
  ["idle hour", idleHour],
])}

Everything counted in that window:

${rawTable(r.idle.raw, (x) => !x.op.startsWith("sql") && !x.op.startsWith("fetch "))}

**One job outstanding** (watched ${f(minutes(r.outstanding), 1)} min): the hub's heartbeat reconciles
(one \`GET /ai/queue\` per pass), and the edit's own watchdog re-registers with the hub every
5 minutes. Requests beyond the hub's heartbeat: ${outstandingExtra.length === 0 ? "none" : outstandingExtra.map((x) => `${x.scope} ${x.trigger} \`${x.op}\` ×${x.n}`).join(", ")}.

${opsTable([
  ["window", r.outstanding.ops],
  ["hub heartbeat, per hour (120)", hubBeatHour],
  ["edit watchdog, per outstanding edit-hour (12)", editWatchHour],
  ["once per job (status change found)", forward],
])}

${editWatch.alarmsFired === 0 ? "The window was too short to see the edit's 5-minute re-registration.\n\n" : ""}${startup.rowsRead + startup.rowsWritten > 0 ? `Objects that started again (their constructor, after the local runtime evicted them) read ${f(startup.rowsRead)} and wrote ${f(startup.rowsWritten)} SQLite rows in the window.\n\n` : ""}${unexplained.length > 0 ? `Not explained by those three: ${unexplained.map((x) => `${x.scope} ${x.trigger} \`${x.op}\` ×${x.n}`).join(", ")}.\n\n` : ""}At list prices: ${usd(sum(priced(hubBeatHour)))} per hour for the hub's heartbeat while anything is outstanding
(shared by all outstanding jobs), ${usd(sum(priced(editWatchHour)))} per outstanding edit-hour, and ${usd(sum(priced(forward)))} once per job
that the heartbeat sees change status (the hub's REST reconciliation, one \`GET /ai/queue\` per pass, is a
subrequest: not billed).

${rawTable(r.outstanding.raw, (x) => !x.op.startsWith("sql") && !x.op.startsWith("fetch "))}

Duration is what an idle hour really costs: an open outbound stream keeps the hub from
hibernating, so while connected it is billed 128 MB of wall-clock time: ${f(hubHourGbs, 0)} GB-s per hour,
${usd(hubHourGbs * PRICES.doGbSecond)} at list price (an always-connected hub: ${f(hubHourGbs * 24 * 30, 0)} GB-s a month, inside the
plan's 400,000 included). With nothing outstanding it stops after 5 minutes: ${usd(gbs(5 * 60_000) * PRICES.doGbSecond)} per idle period.
The heartbeat's own requests are ${f(idleHour.doRequests)} per idle hour (${usd(idleHour.doRequests * PRICES.doRequest)}), or 120 an hour (${usd(120 * PRICES.doRequest)}) while
anything is outstanding.

## Prices used

Workers Paid (Standard usage model), list prices as published on ${PRICES.checked}:
${PRICES.sources.map((s) => `<${s}>`).join(", ")}. Included monthly usage in parentheses; the cost
figures below ignore the inclusions and the $5 monthly minimum.

| item | price |
|---|---|
| Worker requests | $0.30 / million (10 million included); requests to static assets free; subrequests not billed |
| Worker CPU time | $0.02 / million CPU ms (30 million included) |
| Durable Object requests (HTTP, RPC calls, alarms) | $0.15 / million (1 million included) |
| Durable Object duration | $12.50 / million GB-s, 128 MB per active object (400,000 GB-s included) |
| SQLite rows read | $0.001 / million (25 billion included) |
| SQLite rows written (each \`setAlarm\` is one; deletes count) | $1.00 / million (50 million included) |
| SQLite stored data | $0.20 / GB-month (5 GB included) |
| KV reads | $0.50 / million (10 million included) |
| KV writes, deletes, lists | $5.00 / million each (1 million each included) |
| KV stored data | $0.50 / GB-month (1 GB included) |
| R2 class A (put, list, multipart) | $4.50 / million (1 million included) |
| R2 class B (get, head) | $0.36 / million (10 million included) |
| R2 deletes | free |
| R2 storage (standard) | $0.015 / GB-month (10 GB included) |
| Rate limiting binding | not priced separately on these pages |

## Cost per million edits

The lifecycle above (edit, one GET, one list, erase), at list prices:

| line | per million edits | basis |
|---|---:|---|
${perMillion.map(([k, v, basis]) => `| ${k} | ${usd(v)} | ${basis} |`).join("\n")}
| **operations only** | **${usd(opsTotal)}** | |
| **all lines** | **${usd(allTotal)}** | |

Each extra webhook adds ${usd(sum(priced(extraHook)) * M)} per million edits; an endpoint delivery ${usd(sum(priced(endpointDelivery)) * M)};
a download of the output through the relay ${usd(sum(priced(r.download.ops)) * M)} (Worker request + R2 class B). Durable
Object duration costs ${usd(gbs(100) * PRICES.doGbSecond * M)} per million edits for each 100 ms an object is active per edit.
Storage lines assume the default 30-day retention (\`RETENTION_SECONDS\`); the R2 line depends on
the output's size only.

## What drives the bill

${drivers}

## Budgets

- **≤ 3 KV writes per edit: ${kvMet ? "met" : "MISSED"}** (${f(kvWrites)} per edit: ${r.core.raw
  .filter((x) => x.op.startsWith("kv.put "))
  .map((x) => `${f(x.n / r.edits)} \`${x.op.slice(7)}\` from ${x.scope} ${x.trigger}`)
  .join(", ")}). A GET, a list and the erase write nothing (the erase deletes 2 keys).
- **0 requests per idle minute beyond the watchdog: ${idleMet ? "met" : "MISSED"}**. With nothing outstanding the
  hub's heartbeat made ${f(hubAlarmsIn(r.idle))} requests, stopping with its idle stream after 5 minutes; ${idleMet ? "nothing else ran;" : `beyond it: ${listOps(idleExtra)}.${idleWhy}`}
  0 Worker requests. With a job outstanding, the other requests are the edit's own watchdog:
  ${f(editWatchHour.alarmsFired)} alarms and ${f(editWatchHour.doRpc)} re-registrations with the hub per outstanding edit-hour.
`;

console.log(doc);
if (write) writeFileSync("docs/cost.md", doc);
const detail = (w: Window) => ({ ...w, raw: undefined });
console.log(
  JSON.stringify(
    {
      core: detail(r.core),
      lifecycle,
      extraHook,
      endpointDelivery,
      idle: { ...r.idle, raw: undefined },
      outstanding: { ...r.outstanding, raw: undefined },
    } satisfies Record<string, unknown>,
    null,
    1,
  ),
);
