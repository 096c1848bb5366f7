import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Receiver } from "../../tools/local/receiver.ts";
import { startWranglerDev, type WranglerDev } from "../../tools/local/wrangler-dev.ts";
import type { RunningSimulator } from "../../tools/simulator/server.ts";
import { benchSimulator, OXEN_KEY } from "./harness.ts";

/**
 * What an edit costs on Cloudflare: the relay built with its bindings counted
 * (test/bench/cost-worker.ts), driven through scenarios against the simulator and a receiver,
 * each measured as the operations between a reset and a quiet moment, divided by its count.
 * `measureCost()` is the whole measurement; test/bench/cost-main.ts runs it and writes docs/cost.md.
 */

const ADMIN = "cost-bench-admin-token-000000000000000000";

// ---- Prices: Workers Paid list prices, as published on the pages below when this was written.

export const PRICES = {
  checked: "2026-12-01",
  sources: [
    "https://developers.cloudflare.com/workers/platform/pricing/",
    "https://developers.cloudflare.com/durable-objects/platform/pricing/",
    "https://developers.cloudflare.com/kv/platform/pricing/",
    "https://developers.cloudflare.com/r2/pricing/",
  ],
  /** USD per unit, beyond the monthly inclusion. */
  workerRequest: 0.3 / 1e6,
  workerCpuMs: 0.02 / 1e6,
  doRequest: 0.15 / 1e6,
  doGbSecond: 12.5 / 1e6,
  /** Duration is billed for the 128 MB an object is given, whatever it uses. */
  doGb: 128 / 1024,
  sqlRowRead: 0.001 / 1e6,
  sqlRowWritten: 1.0 / 1e6,
  sqlGbMonth: 0.2,
  kvRead: 0.5 / 1e6,
  kvWrite: 5.0 / 1e6,
  kvDelete: 5.0 / 1e6,
  kvList: 5.0 / 1e6,
  kvGbMonth: 0.5,
  r2ClassA: 4.5 / 1e6,
  r2ClassB: 0.36 / 1e6,
  r2GbMonth: 0.015,
  included: {
    workerRequests: 10e6,
    workerCpuMs: 30e6,
    doRequests: 1e6,
    doGbSeconds: 400_000,
    sqlRowsRead: 25e9,
    sqlRowsWritten: 50e6,
    sqlGb: 5,
    kvReads: 10e6,
    kvWrites: 1e6,
    kvDeletes: 1e6,
    kvLists: 1e6,
    kvGb: 1,
    r2ClassA: 1e6,
    r2ClassB: 10e6,
    r2Gb: 10,
  },
} as const;

// ---- Counted operations.

export interface RawOp {
  scope: string;
  trigger: string;
  op: string;
  n: number;
}

interface Snapshot {
  isolate: string;
  at: number;
  ops: RawOp[];
  active: Record<string, { objects: number; activeMs: number; inflight: number }>;
  storage: Record<string, { objects: number; bytes: number }>;
}

/** The billable operations of a window, in Cloudflare's units. */
export interface Ops {
  workerRequests: number;
  /** Billed Durable Object requests: stub calls (RPC or fetch) and alarm invocations. */
  doRequests: number;
  doRpc: number;
  alarmsFired: number;
  setAlarm: number;
  deleteAlarm: number;
  getAlarm: number;
  rowsRead: number;
  /** SQL rows written, plus one per setAlarm (billed as a row written). */
  rowsWritten: number;
  kvReads: number;
  kvWrites: number;
  kvDeletes: number;
  kvLists: number;
  r2ClassA: number;
  r2ClassB: number;
  r2Free: number;
  subrequests: number;
  rateLimiterCalls: number;
}

const ZERO: Ops = {
  workerRequests: 0,
  doRequests: 0,
  doRpc: 0,
  alarmsFired: 0,
  setAlarm: 0,
  deleteAlarm: 0,
  getAlarm: 0,
  rowsRead: 0,
  rowsWritten: 0,
  kvReads: 0,
  kvWrites: 0,
  kvDeletes: 0,
  kvLists: 0,
  r2ClassA: 0,
  r2ClassB: 0,
  r2Free: 0,
  subrequests: 0,
  rateLimiterCalls: 0,
};

export function summarize(raw: RawOp[]): Ops {
  const o = { ...ZERO };
  for (const { op, n } of raw) {
    if (op === "worker.request") o.workerRequests += n;
    else if (op === "do.request") {
      o.doRequests += n;
      o.doRpc += n;
    } else if (op === "invoked.alarm") {
      o.doRequests += n;
      o.alarmsFired += n;
    } else if (op === "storage.setAlarm") {
      o.setAlarm += n;
      o.rowsWritten += n;
    } else if (op === "storage.deleteAlarm") o.deleteAlarm += n;
    else if (op === "storage.getAlarm") o.getAlarm += n;
    else if (op === "sql.rowsRead") o.rowsRead += n;
    else if (op === "sql.rowsWritten") o.rowsWritten += n;
    // The objects' key-value API lives in a hidden SQLite table: a row per key.
    else if (op === "storage.kv.get" || op === "storage.kv.list") o.rowsRead += n;
    else if (op === "storage.kv.put" || op === "storage.kv.delete") o.rowsWritten += n;
    else if (op === "kv.get") o.kvReads += n;
    else if (op === "kv.put") o.kvWrites += n;
    else if (op === "kv.delete") o.kvDeletes += n;
    else if (op === "kv.list") o.kvLists += n;
    else if (op === "r2.put" || op === "r2.list" || op.startsWith("r2.create") || op.startsWith("r2.resume"))
      o.r2ClassA += n;
    else if (op === "r2.get" || op === "r2.head") o.r2ClassB += n;
    else if (op === "r2.delete") o.r2Free += n;
    else if (op === "fetch") o.subrequests += n;
    else if (op.startsWith("ratelimit.")) o.rateLimiterCalls += n;
  }
  return o;
}

export const scaleOps = (o: Ops, k: number): Ops =>
  Object.fromEntries(Object.entries(o).map(([key, v]) => [key, v * k])) as unknown as Ops;
export const subOps = (a: Ops, b: Ops): Ops =>
  Object.fromEntries(Object.entries(a).map(([key, v]) => [key, v - b[key as keyof Ops]])) as unknown as Ops;
export const addOps = (a: Ops, b: Ops): Ops =>
  Object.fromEntries(Object.entries(a).map(([key, v]) => [key, v + b[key as keyof Ops]])) as unknown as Ops;

/** The hub's heartbeat (its alarm) and what runs inside it: the watchdog, not any one edit. */
const isHubAlarm = (r: RawOp) => r.scope === "Hub" && r.trigger === "alarm";

export interface Window {
  /** Everything counted, divided by `count`, minus the hub's heartbeats (kept in `watchdog`). */
  ops: Ops;
  watchdog: Ops;
  /** The raw entries (not divided), for attribution. */
  raw: RawOp[];
  count: number;
  /** Active time of the objects, ms, divided by `count` (local: loopback round trips). */
  activeMs: Record<string, number>;
  ms: number;
  cpuMs: number | null;
}

// ---- The run.

interface Rig {
  sim: RunningSimulator;
  receiver: Receiver;
  relay: WranglerDev;
  client: { id: string; api_key: string; webhook_secret: string };
  persist: string;
  outdir: string;
}

async function json<T>(res: Response, what: string): Promise<T> {
  if (!res.ok) throw new Error(`cost bench: ${what} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

async function snapshot(rig: Rig): Promise<Snapshot> {
  return json<Snapshot>(await fetch(`${rig.relay.url}/_cost/ops`), "GET /_cost/ops");
}

async function reset(rig: Rig): Promise<void> {
  await json(await fetch(`${rig.relay.url}/_cost/reset`, { method: "POST" }), "POST /_cost/reset");
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const total = (s: Snapshot) => s.ops.filter((r) => !isHubAlarm(r)).reduce((a, r) => a + r.n, 0);
const busy = (s: Snapshot) =>
  Object.entries(s.active)
    .filter(([scope]) => scope !== "Hub")
    .reduce((a, [, v]) => a + v.inflight, 0);

/** Waits until nothing but the hub's heartbeat has moved for `quietMs` (deferred KV writes, usage reports, alarms). */
async function quiesce(rig: Rig, quietMs = 2_500, timeoutMs = 60_000): Promise<Snapshot> {
  const deadline = Date.now() + timeoutMs;
  let last = await snapshot(rig);
  let since = Date.now();
  for (;;) {
    await sleep(250);
    const now = await snapshot(rig);
    if (total(now) !== total(last) || busy(now) > 0) since = Date.now();
    last = now;
    if (Date.now() - since >= quietMs) return now;
    if (Date.now() > deadline) throw new Error("cost bench: the relay never went quiet");
  }
}

/** CPU time of every workerd process in wrangler's process group (Linux only; null elsewhere). */
function workerdCpuMs(relay: WranglerDev): number | null {
  const pgid = relay.child.pid;
  if (pgid === undefined || !existsSync("/proc/self/stat")) return null;
  const tick = 1000 / Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim() || 100);
  let ms = 0;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // After the command: state, ppid, pgrp, ... utime (14th field overall), stime (15th).
      if (Number(fields[2]) !== pgid || !comm.includes("workerd")) continue;
      ms += (Number(fields[11]) + Number(fields[12])) * tick;
    } catch {
      // The process ended while we looked.
    }
  }
  return ms;
}

/** Runs `body` between a reset and a quiet moment; the operations divided by `count`. */
async function measure(rig: Rig, count: number, body: () => Promise<void>): Promise<Window> {
  await quiesce(rig);
  await reset(rig);
  const before = await snapshot(rig);
  const cpu0 = workerdCpuMs(rig.relay);
  const t0 = Date.now();
  await body();
  const after = await quiesce(rig);
  const cpu1 = workerdCpuMs(rig.relay);
  const raw = after.ops;
  const activeMs: Record<string, number> = {};
  for (const [scope, a] of Object.entries(after.active)) {
    activeMs[scope] = (a.activeMs - (before.active[scope]?.activeMs ?? 0)) / count;
  }
  return {
    ops: scaleOps(summarize(raw.filter((r) => !isHubAlarm(r))), 1 / count),
    watchdog: summarize(raw.filter(isHubAlarm)),
    raw,
    count,
    activeMs,
    ms: Date.now() - t0 - 2_500,
    cpuMs: cpu0 !== null && cpu1 !== null ? (cpu1 - cpu0) / count : null,
  };
}

/** `wrangler deploy --dry-run` of the counted entry point, with the relay's own wrangler.toml. */
function buildCountedBundle(outdir: string): string {
  execFileSync(
    process.execPath,
    [
      join("node_modules", "wrangler", "bin", "wrangler.js"),
      "deploy",
      "test/bench/cost-worker.ts",
      "--dry-run",
      "--outdir",
      outdir,
    ],
    { stdio: "ignore", env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
  );
  return join(outdir, "cost-worker.js");
}

async function startRig(log: (s: string) => void): Promise<Rig> {
  const outdir = mkdtempSync(join(tmpdir(), "relay-cost-build-"));
  let bundle = "";
  try {
    buildCountedBundle(outdir);
    bundle = readdirSync(outdir).find((f) => f.endsWith(".js")) ?? "";
    if (!bundle) throw new Error("cost bench: the build wrote no script");
  } catch (e) {
    rmSync(outdir, { recursive: true, force: true });
    throw e;
  }
  log(`built ${bundle}`);
  const { sim } = await benchSimulator();
  const receiver = await new Receiver().listen();
  const persist = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "relay-cost-"));
  let relay: WranglerDev;
  try {
    relay = await startWranglerDev({
      persistTo: persist,
      vars: {
        OXEN_BASE_URL: sim.baseUrl,
        OXEN_API_KEY: OXEN_KEY,
        ADMIN_TOKEN: ADMIN,
        ALLOW_PRIVATE_WEBHOOKS: "true",
      },
      script: join(outdir, bundle),
      extraArgs: ["--no-bundle", "-c", "wrangler.toml", "--log-level", process.env.COST_LOG_LEVEL ?? "warn"],
    });
  } catch (e) {
    await Promise.all([sim.close(), receiver.close()]);
    rmSync(persist, { recursive: true, force: true });
    rmSync(outdir, { recursive: true, force: true });
    throw e;
  }
  const rig = { sim, receiver, relay, persist, outdir } as Omit<Rig, "client"> as Rig;
  try {
    rig.client = await json(
      await fetch(`${relay.url}/v1/clients`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
        body: JSON.stringify({ name: "cost" }),
      }),
      "POST /v1/clients",
    );
  } catch (e) {
    const output = relay.output().slice(-8_000);
    await stopRig(rig);
    throw new Error(`${(e as Error).message}\nwrangler dev said:\n${output}`);
  }
  return rig;
}

async function stopRig(rig: Rig): Promise<void> {
  try {
    await rig.relay.stop();
  } finally {
    await Promise.all([rig.sim.close(), rig.receiver.close()]);
    rmSync(rig.persist, { recursive: true, force: true });
    rmSync(rig.outdir, { recursive: true, force: true });
  }
}

interface EditView {
  id: string;
  status: string;
  outputs: { generation_id: string; url: string | null }[];
}

function call(rig: Rig, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${rig.relay.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${rig.client.api_key}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function createEdit(rig: Rig, body: Record<string, unknown>): Promise<EditView> {
  return json<EditView>(
    await call(rig, "POST", "/v1/edits", {
      prompt: "Add a funny hat",
      input_image: ["https://example.com/a.png"],
      ...body,
    }),
    "POST /v1/edits",
  );
}

let seq = 0;
/**
 * How long each measured job runs before the simulator finishes it: longer than the edit's KV
 * coalescing (1 s), shorter than the hub's heartbeat (30 s), whose cost while a job is
 * outstanding is measured on its own (`outstanding`).
 */
const JOB_MS = 1_500;

/** One edit with `hooks` webhook URLs, finished at once; resolves when every webhook (and `extra` deliveries) has landed. */
async function editToWebhook(
  rig: Rig,
  hooks: number,
  extra: { path: string } | null = null,
): Promise<EditView> {
  const tag = `e${seq++}`;
  const paths = Array.from({ length: hooks }, (_, i) => `/${tag}/hook${i}`);
  const edit = await createEdit(rig, {
    ...(hooks > 0 ? { webhooks: paths.map((p) => ({ url: `${rig.receiver.url}${p}` })) } : {}),
  });
  const gen = edit.outputs[0]?.generation_id as string;
  const endpointBefore = extra ? rig.receiver.on(extra.path).length : 0;
  // A job takes a while: the create's deferred work (its KV snapshot) is done before it finishes.
  await sleep(JOB_MS);
  rig.sim.sim.finish(gen, "succeeded");
  await rig.receiver.waitFor(
    () =>
      paths.every((p) => rig.receiver.on(p).length > 0) &&
      (!extra || rig.receiver.on(extra.path).length > endpointBefore),
    30_000,
  );
  return edit;
}

async function getEdit(rig: Rig, id: string): Promise<EditView> {
  return json<EditView>(await call(rig, "GET", `/v1/edits/${id}`), "GET /v1/edits/{id}");
}

export interface CostOptions {
  /** Edits per scenario (default 10). */
  edits?: number;
  /** Idle time watched with nothing outstanding (default 6.5 min: past the hub's 5-minute idle close). */
  idleMs?: number;
  /** Idle time watched with one job outstanding (default 5.5 min: one edit watchdog re-registration). */
  outstandingMs?: number;
  log?: (line: string) => void;
}

export interface IdleWindow {
  ms: number;
  ops: Ops;
  raw: RawOp[];
  /** Ops per minute, sampled every 10 s: when the hub's heartbeat stopped, if it did. */
  timeline: { atMs: number; alarms: number; hubAlarms: number; doRequests: number; workerRequests: number }[];
  activeMs: Record<string, number>;
}

export interface CostResult {
  date: string;
  edits: number;
  sameIsolate: boolean;
  /** One edit: create, one generation, succeeded, R2 copy, one webhook; no reads. */
  core: Window;
  /** A GET of a finished edit. */
  get: Window;
  /** A list call (`GET /v1/edits?limit=1`) that returns the edit. */
  list: Window;
  /** A download of the output through the relay's signed URL. */
  download: Window;
  /** An edit with two webhooks (the extra one is `twoHooks − core`). */
  twoHooks: Window;
  /** `POST /v1/endpoints`, once per client. */
  endpointCreate: Window;
  /** An edit with one webhook for a client with one endpoint (the endpoint's share is `withEndpoint − core`). */
  withEndpoint: Window;
  /** `DELETE /v1/edits/{id}`: the erasure the retention alarm also runs. */
  erase: Window;
  idle: IdleWindow;
  outstanding: IdleWindow;
  /** Bytes of SQLite per edit object once finished, and KV bytes written per edit. */
  storage: { editObjectBytes: number; clientObjectBytesPerEdit: number; kvBytesPerEdit: number };
}

async function watchIdle(rig: Rig, ms: number, log: (s: string) => void): Promise<IdleWindow> {
  await reset(rig);
  const before = await snapshot(rig);
  const t0 = Date.now();
  const timeline: IdleWindow["timeline"] = [];
  const hubAlarms = (ops: RawOp[]) =>
    ops.filter((x) => x.scope === "Hub" && x.op === "invoked.alarm").reduce((a, x) => a + x.n, 0);
  let last = summarize(before.ops);
  let lastHub = hubAlarms(before.ops);
  let lastAt = 0;
  while (Date.now() - t0 < ms) {
    await sleep(Math.min(10_000, ms - (Date.now() - t0)));
    const s = await snapshot(rig);
    const o = summarize(s.ops);
    const at = Date.now() - t0;
    timeline.push({
      atMs: at,
      alarms: o.alarmsFired - last.alarmsFired,
      hubAlarms: hubAlarms(s.ops) - lastHub,
      doRequests: o.doRequests - last.doRequests,
      workerRequests: o.workerRequests - last.workerRequests,
    });
    if (at - lastAt >= 60_000) {
      log(`  idle ${Math.round(at / 1000)} s: ${o.alarmsFired} alarms, ${o.doRequests} DO requests`);
      lastAt = at;
    }
    last = o;
    lastHub = hubAlarms(s.ops);
  }
  const after = await snapshot(rig);
  const activeMs: Record<string, number> = {};
  for (const [scope, a] of Object.entries(after.active)) {
    activeMs[scope] = a.activeMs - (before.active[scope]?.activeMs ?? 0);
  }
  return { ms: Date.now() - t0, ops: summarize(after.ops), raw: after.ops, timeline, activeMs };
}

export async function measureCost(opts: CostOptions = {}): Promise<CostResult> {
  const n = opts.edits ?? 10;
  const log = opts.log ?? (() => {});
  const rig = await startRig(log);
  try {
    // Warm-up: the hub's stream, the client's tables, the first-use paths; not counted.
    await editToWebhook(rig, 1);
    await quiesce(rig);

    log(`core: ${n} edits, one webhook each`);
    const preCore = await snapshot(rig);
    const edits: EditView[] = [];
    const core = await measure(rig, n, async () => {
      for (let i = 0; i < n; i++) edits.push(await editToWebhook(rig, 1));
    });
    const coreSnap = await snapshot(rig);
    const ids = edits.map((e) => e.id);

    log("GET of a finished edit");
    const views: EditView[] = [];
    const get = await measure(rig, n, async () => {
      for (const id of ids) views.push(await getEdit(rig, id));
    });
    if (views.some((v) => v.status !== "succeeded")) throw new Error("cost bench: an edit did not succeed");

    log("list (limit=1)");
    const list = await measure(rig, n, async () => {
      for (let i = 0; i < n; i++) await json(await call(rig, "GET", "/v1/edits?limit=1"), "GET /v1/edits");
    });

    log("download of the output");
    const download = await measure(rig, n, async () => {
      for (const v of views) {
        const url = v.outputs[0]?.url as string;
        if (!url.startsWith(rig.relay.url)) throw new Error(`cost bench: output not copied to R2: ${url}`);
        const res = await fetch(url);
        if (!res.ok) throw new Error(`cost bench: download answered ${res.status}`);
        await res.arrayBuffer();
      }
    });

    log("two webhooks");
    const twoHooks = await measure(rig, n, async () => {
      for (let i = 0; i < n; i++) await editToWebhook(rig, 2);
    });

    log("erase (DELETE /v1/edits/{id})");
    const erase = await measure(rig, n, async () => {
      for (const id of ids) {
        const res = await call(rig, "DELETE", `/v1/edits/${id}`);
        if (res.status !== 204) throw new Error(`cost bench: DELETE answered ${res.status}`);
      }
    });

    log("endpoint: create, then edits delivered to it");
    const endpointPath = "/endpoint";
    const endpointCreate = await measure(rig, 1, async () => {
      await json(
        await call(rig, "POST", "/v1/endpoints", { url: `${rig.receiver.url}${endpointPath}` }),
        "POST /v1/endpoints",
      );
    });
    const withEndpoint = await measure(rig, n, async () => {
      for (let i = 0; i < n; i++) await editToWebhook(rig, 1, { path: endpointPath });
    });

    // Storage, as the core edits left it (before they were erased): each finished edit object's
    // database, the client object's growth per edit, and the KV bytes written per edit.
    const editObjects = coreSnap.storage.EditObject;
    const kvBytes = core.raw.filter((r) => r.op === "kv.put.bytes").reduce((a, r) => a + r.n, 0);
    const clientBefore = preCore.storage.ClientObject?.bytes ?? 0;
    const clientAfter = coreSnap.storage.ClientObject?.bytes ?? 0;

    const idleMs = opts.idleMs ?? 390_000;
    log(`idle, nothing outstanding, hub connected: ${Math.round(idleMs / 1000)} s`);
    await quiesce(rig);
    const idle = await watchIdle(rig, idleMs, log);

    const outstandingMs = opts.outstandingMs ?? 330_000;
    log(`idle, one job outstanding: ${Math.round(outstandingMs / 1000)} s`);
    const pending = await createEdit(rig, { webhook: `${rig.receiver.url}/pending` });
    await quiesce(rig);
    const outstanding = await watchIdle(rig, outstandingMs, log);
    rig.sim.sim.finish(pending.outputs[0]?.generation_id as string, "succeeded");
    await rig.receiver.waitFor(() => rig.receiver.on("/pending").length > 0, 30_000);

    const sameIsolate = core.raw.some((r) => r.scope === "EditObject" && r.op === "sql.rowsRead" && r.n > 0);
    if (!sameIsolate) {
      throw new Error(
        "cost bench: the objects' counts never reached the Worker: they run in another isolate here, so the counters must be read from each object",
      );
    }
    return {
      date: new Date().toISOString().slice(0, 10),
      edits: n,
      sameIsolate,
      core,
      get,
      list,
      download,
      twoHooks,
      endpointCreate,
      withEndpoint,
      erase,
      idle,
      outstanding,
      storage: {
        // Less the one 4 KiB page of the local runtime's own table (`__miniflare_do_name`).
        editObjectBytes: editObjects ? editObjects.bytes / Math.max(1, editObjects.objects) - 4096 : 0,
        clientObjectBytesPerEdit: (clientAfter - clientBefore) / n,
        kvBytesPerEdit: kvBytes / n,
      },
    };
  } catch (e) {
    // What the relay said is the first thing to read when a scenario fails.
    const said = rig.relay
      .output()
      .split("\n")
      .filter((l) => !/Request\.cf|ENOTFOUND|onlookupall/.test(l))
      .slice(-60)
      .join("\n");
    throw new Error(`${(e as Error).message}\nwrangler dev said (last lines):\n${said}`);
  } finally {
    await stopRig(rig);
  }
}
