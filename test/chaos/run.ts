import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Receiver, type Reply } from "../../tools/local/receiver.ts";
import { startWranglerDev, type WranglerDev } from "../../tools/local/wrangler-dev.ts";
import { mulberry32 } from "../../tools/simulator/random.ts";
import { type RunningSimulator, startSimulator } from "../../tools/simulator/server.ts";

/**
 * The chaos run: many edits with several webhooks each, against a simulated Oxen with every
 * fault switched on, receivers that fail about 30% of attempts, Durable Objects aborted mid-run
 * and once the whole runtime stopped and started again on the same persisted storage. Loopback
 * only, bounded in count and time. Ends with what was lost (nothing, or it failed).
 */
export interface ChaosOptions {
  edits: number;
  webhooksPerEdit: number;
  concurrency: number;
  clients: number;
  seed: number;
  /** Abort the hub / a random edit object this often, in ms. */
  hubAbortEveryMs: number;
  editAbortEveryMs: number;
  /** Stop and restart the runtime once, after this share of the edits were submitted (null: never). */
  restartAt: number | null;
  /** Share of webhook attempts the receivers fail (500s, timeouts, resets). */
  receiverFailure: number;
  timeLimitMs: number;
  log?: (line: string) => void;
}

export const DEFAULT_CHAOS: ChaosOptions = {
  edits: 1000,
  webhooksPerEdit: 2,
  concurrency: 24,
  clients: 10,
  seed: 7,
  hubAbortEveryMs: 7_000,
  editAbortEveryMs: 1_500,
  restartAt: 0.4,
  receiverFailure: 0.3,
  timeLimitMs: 8 * 60_000,
};

type Fate = { kind: "finish"; outcomes: ("succeeded" | "failed")[] } | { kind: "cancel" };

interface Tracked {
  index: number;
  client: number;
  id: string;
  generations: string[];
  fate: Fate;
  expected: "succeeded" | "failed" | "cancelled";
  paths: string[];
  final?: {
    status: string;
    error: { message: string } | null;
    outputs: { status: string; error: string | null }[];
  };
}

export interface ChaosReport {
  figures: [string, string | number][];
  edits: number;
  terminal: number;
  rightStatus: number;
  unknownOutcome: number;
  wrongStatus: number;
  expectedDeliveries: number;
  delivered: number;
  lost: number;
  duplicates: number;
  duplicatesWithOtherId: number;
  badSignatures: number;
  relay5xx: number;
  ok: boolean;
}

const ADMIN = "chaos-admin-token";
const OXEN_KEY = "sim_chaos_key";
const UNKNOWN = /outcome is unknown/;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runChaos(options: Partial<ChaosOptions> = {}): Promise<ChaosReport> {
  const o = { ...DEFAULT_CHAOS, ...options };
  const say = o.log ?? (() => {});
  const random = mulberry32(o.seed);
  const started = Date.now();
  const deadline = started + o.timeLimitMs;
  const persist = mkdtempSync(join(tmpdir(), "relay-chaos-"));
  const counts = {
    relayResponses: new Map<number, number>(),
    enqueueRetries: 0,
    connectionErrors: 0,
    hubAborts: 0,
    editAborts: 0,
    restarts: 0,
    receiverFaults: { 500: 0, timeout: 0, reset: 0 } as Record<string, number>,
  };

  let sim: RunningSimulator | undefined;
  let relay: WranglerDev | undefined;
  const receiver = await new Receiver().listen();
  const stopTimers: (() => void)[] = [];
  try {
    sim = await startSimulator({
      apiKeys: [OXEN_KEY],
      queuedMs: 30,
      processingMs: 200,
      autoComplete: false,
      seed: o.seed,
    });
    applySimulatorFaults(sim);
    receiver.policy = () => receiverReply(random, o.receiverFailure, counts.receiverFaults);

    const vars = {
      OXEN_BASE_URL: sim.baseUrl,
      OXEN_API_KEY: OXEN_KEY,
      ADMIN_TOKEN: ADMIN,
      ALLOW_PRIVATE_WEBHOOKS: "true",
      WEBHOOK_RETRY_SCHEDULE: "1,1,1,2,2,3,3,5",
      WEBHOOK_TIMEOUT_MS: "1000",
      CHAOS_HOOKS: "true",
    };
    relay = await startWranglerDev({ vars, persistTo: persist });
    const port = Number(new URL(relay.url).port);

    /** One relay call; connection errors (a restart in progress) are retried, 5xx are counted. */
    let runtimeDown = false;
    const call = async (
      method: string,
      path: string,
      token: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ) => {
      for (;;) {
        try {
          const res = await fetch(`${relay?.url}${path}`, {
            method,
            headers: {
              authorization: `Bearer ${token}`,
              ...(body === undefined ? {} : { "content-type": "application/json" }),
              ...headers,
            },
            body: body === undefined ? undefined : JSON.stringify(body),
            signal: AbortSignal.timeout(30_000),
          });
          const json = (await res.json().catch(() => null)) as any;
          if (json === null && runtimeDown) {
            // Not the relay's answer: wrangler's proxy, with the runtime going down under the request.
            // A retry is safe: edits are created under an Idempotency-Key.
            throw new Error("runtime stopping");
          }
          counts.relayResponses.set(res.status, (counts.relayResponses.get(res.status) ?? 0) + 1);
          if (res.status === 500) say(`chaos: relay 500 on ${method} ${path}: ${JSON.stringify(json)}`);
          return { status: res.status, body: json };
        } catch {
          counts.connectionErrors++;
          if (Date.now() > deadline)
            throw new Error("chaos: time limit reached while the relay was unreachable");
          await sleep(250);
        }
      }
    };

    const clients: { api_key: string; webhook_secret: string }[] = [];
    for (let i = 0; i < o.clients; i++) {
      const res = await call("POST", "/v1/clients", ADMIN, { name: `chaos-${i}` });
      clients.push(res.body);
    }

    const tracked: Tracked[] = [];
    let restarting: Promise<void> | null = null;

    const abortLoop = (everyMs: number, pick: () => string | null, counter: "hubAborts" | "editAborts") => {
      let stopped = false;
      const loop = async () => {
        while (!stopped) {
          await sleep(everyMs * (0.5 + random()));
          const target = pick();
          if (stopped || !target || restarting) continue;
          const res = await call("POST", `/_chaos/abort?target=${target}`, ADMIN).catch(() => null);
          if (res?.status === 200) counts[counter]++;
        }
      };
      const done = loop();
      stopTimers.push(() => {
        stopped = true;
        void done;
      });
    };
    abortLoop(o.hubAbortEveryMs, () => "hub", "hubAborts");
    abortLoop(
      o.editAbortEveryMs,
      () => tracked[Math.floor(random() * tracked.length)]?.id ?? null,
      "editAborts",
    );

    const restart = async () => {
      say("chaos: stopping the runtime");
      runtimeDown = true;
      await relay?.stop();
      // Completions that fire now reach nobody: only REST reconciliation can recover them.
      await sleep(2_000);
      relay = await startWranglerDev({ vars, persistTo: persist, port });
      runtimeDown = false;
      counts.restarts++;
      say("chaos: runtime started again on the same storage");
    };

    const fates: Promise<void>[] = [];
    const submit = async (index: number) => {
      if (o.restartAt !== null && index === Math.floor(o.edits * o.restartAt) && !restarting) {
        restarting = restart().finally(() => {
          restarting = null;
        });
      }
      if (restarting) await restarting;
      if (index === Math.floor(o.edits * 0.55)) sim?.sim.configure({ legacy404AfterFinish: true });
      if (index === Math.floor(o.edits * 0.75)) sim?.sim.configure({ legacy404AfterFinish: false });
      const k = index % clients.length;
      const client = clients[k] as { api_key: string; webhook_secret: string };
      const paths = Array.from({ length: o.webhooksPerEdit }, (_, j) => `/c${k}/e${index}/w${j}`);
      for (const p of paths) receiver.secrets(p, [client.webhook_secret]);
      const n = 1 + Math.floor(random() * 3);
      const body = {
        prompt: `chaos ${index}`,
        input_image: ["https://example.com/in.png"],
        num_generations: n,
        webhooks: paths.map((p) => ({ url: `${receiver.url}${p}` })),
        metadata: { index: String(index) },
      };
      let res = await call("POST", "/v1/edits", client.api_key, body, {
        "idempotency-key": `chaos-${index}`,
      });
      while (res.status === 502 || res.status === 503 || res.status === 429) {
        counts.enqueueRetries++;
        await sleep(200 + random() * 300);
        res = await call("POST", "/v1/edits", client.api_key, body, { "idempotency-key": `chaos-${index}` });
      }
      if (res.status !== 202 && res.status !== 200)
        throw new Error(`chaos: POST /v1/edits answered ${res.status} ${JSON.stringify(res.body)}`);
      const fate: Fate =
        random() < 0.1
          ? { kind: "cancel" }
          : {
              kind: "finish",
              outcomes: Array.from({ length: n }, () => (random() < 0.75 ? "succeeded" : "failed")),
            };
      const expected =
        fate.kind === "cancel" ? "cancelled" : fate.outcomes.includes("succeeded") ? "succeeded" : "failed";
      const t: Tracked = {
        index,
        client: k,
        id: res.body.id,
        generations: res.body.outputs.map((g: { generation_id: string }) => g.generation_id),
        fate,
        expected,
        paths,
      };
      tracked.push(t);
      fates.push(playFate(t, client.api_key));
    };

    const playFate = async (t: Tracked, token: string) => {
      await sleep(random() * 3_000);
      if (t.fate.kind === "cancel") {
        let res = await call("POST", `/v1/edits/${t.id}/cancel`, token);
        while (res.status >= 500 || res.status === 429) {
          await sleep(300);
          res = await call("POST", `/v1/edits/${t.id}/cancel`, token);
        }
        return;
      }
      for (const [i, g] of t.generations.entries()) {
        const status = t.fate.outcomes[i] ?? "succeeded";
        sim?.sim.finish(g, status, status === "failed" ? `chaos failure ${t.index}.${i}` : undefined);
        await sleep(random() * 200);
      }
    };

    let next = 0;
    await Promise.all(
      Array.from({ length: o.concurrency }, async () => {
        while (next < o.edits) {
          if (Date.now() > deadline) throw new Error("chaos: time limit reached while submitting");
          await submit(next++);
        }
      }),
    );
    await Promise.all(fates);
    say(`chaos: ${tracked.length} edits submitted in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    for (const stop of stopTimers) stop();
    if (restarting) await restarting;

    // Settle: every edit terminal, every subscribed (edit, URL) answered 2xx at least once.
    const pending = new Set(tracked);
    while (pending.size > 0 && Date.now() < deadline) {
      await Promise.all(
        [...pending].slice(0, 64).map(async (t) => {
          const res = await call("GET", `/v1/edits/${t.id}`, clients[t.client]?.api_key ?? "", undefined, {
            prefer: "wait=5",
          });
          if (["succeeded", "failed", "cancelled"].includes(res.body?.status)) {
            t.final = { status: res.body.status, error: res.body.error, outputs: res.body.outputs };
            pending.delete(t);
          }
        }),
      );
    }
    const delivered = (path: string) => receiver.on(path).some((r) => r.answered >= 200 && r.answered < 300);
    while (Date.now() < deadline && tracked.some((t) => t.paths.some((p) => !delivered(p)))) await sleep(500);

    return report(tracked, receiver, counts, sim, started, o);
  } finally {
    for (const stop of stopTimers) stop();
    await relay?.stop();
    await Promise.all([sim?.close(), receiver.close()]);
    rmSync(persist, { recursive: true, force: true });
  }
}

function receiverReply(random: () => number, failure: number, faults: Record<string, number>): Reply {
  const r = random();
  if (r >= failure) return { status: 200 };
  const third = failure / 3;
  if (r < third) {
    faults[500] = (faults[500] ?? 0) + 1;
    return { status: 500 };
  }
  if (r < 2 * third) {
    faults.timeout = (faults.timeout ?? 0) + 1;
    return { status: 200, delayMs: 1_500 };
  }
  faults.reset = (faults.reset ?? 0) + 1;
  return { status: 0 };
}

/** Every fault the simulator has, at once (Oxen's legacy 404 is switched on for a window). */
function applySimulatorFaults(sim: RunningSimulator): void {
  sim.sim.configure({ keepAliveMs: 2_000, noiseEveryMs: 700 });
  sim.sim.setStreamFaults({
    closeAfterEvents: 40,
    closeAfterMs: 9_000,
    duplicate: true,
    chunking: "random",
    lineEndings: "mixed",
    junk: 2,
    refuse: { status: 401, probability: 0.2 },
  });
  const rest: [string, number, number, number?][] = [
    ["get", 429, 0.08, 1],
    ["get", 429, 0.04],
    ["get", 500, 0.05],
    ["get", 502, 0.05],
    ["list", 500, 0.1],
    ["cancel", 500, 0.15],
    ["cancel", 502, 0.05],
    ["enqueue", 503, 0.04, 1],
    ["enqueue", 429, 0.03],
    ["enqueue", 502, 0.03],
  ];
  for (const [route, status, probability, retryAfter] of rest) {
    sim.sim.addFault({ route, status, probability, ...(retryAfter ? { retryAfter } : {}) } as never);
  }
  sim.sim.addFault({ route: "get", delayMs: 1_500, probability: 0.05 } as never);
  sim.sim.addFault({ route: "enqueue", delayMs: 800, probability: 0.03 } as never);
}

function report(
  tracked: Tracked[],
  receiver: Receiver,
  counts: {
    relayResponses: Map<number, number>;
    enqueueRetries: number;
    connectionErrors: number;
    hubAborts: number;
    editAborts: number;
    restarts: number;
    receiverFaults: Record<string, number>;
  },
  sim: RunningSimulator,
  started: number,
  o: ChaosOptions,
): ChaosReport {
  let rightStatus = 0;
  let unknownOutcome = 0;
  let wrongStatus = 0;
  const wrong: string[] = [];
  for (const t of tracked) {
    if (!t.final) continue;
    // Under Oxen's legacy 404 a generation whose event was lost can only end "outcome unknown".
    const unknown = t.final.outputs.some((g) => UNKNOWN.test(g.error ?? ""));
    if (t.final.status === t.expected) rightStatus++;
    else if (unknown && t.expected !== "cancelled" && t.final.status === "failed") unknownOutcome++;
    else {
      wrongStatus++;
      wrong.push(`${t.id}: expected ${t.expected}, got ${t.final.status} ${JSON.stringify(t.final.outputs)}`);
    }
  }
  let expectedDeliveries = 0;
  let delivered = 0;
  let duplicates = 0;
  let duplicatesWithOtherId = 0;
  let badSignatures = 0;
  for (const t of tracked) {
    const type = `edit.${t.final?.status ?? t.expected}`;
    for (const p of t.paths) {
      expectedDeliveries++;
      const got = receiver.on(p);
      if (got.some((r) => r.answered >= 200 && r.answered < 300)) delivered++;
      const accepted = got.filter((r) => r.answered >= 200 && r.answered < 300);
      if (accepted.length > 1) duplicates += accepted.length - 1;
      if (new Set(got.map((r) => r.headers["webhook-id"])).size > 1) duplicatesWithOtherId++;
      badSignatures += got.filter((r) => r.verified !== true).length;
      const types = got.map((r) => JSON.parse(r.body).type as string).filter((x) => x !== type);
      if (types.length > 0) {
        wrongStatus++;
        wrong.push(`${t.id} ${p}: webhook types ${types.join(",")} for a ${type} edit`);
      }
    }
  }
  for (const w of wrong.slice(0, 20)) console.error(`chaos: wrong: ${w}`);
  const relay5xx = [...counts.relayResponses].filter(([s]) => s === 500).reduce((n, [, c]) => n + c, 0);
  const terminal = tracked.filter((t) => t.final).length;
  const lost = expectedDeliveries - delivered;
  const snapshot = sim.sim.snapshot() as any;
  const injected = snapshot.injected ?? snapshot.faults ?? {};
  const attempts = receiver.received.length;
  const figures: [string, string | number][] = [
    ["edits submitted", tracked.length],
    ["edits terminal", terminal],
    ["  with the expected status", rightStatus],
    ["  failed as outcome unknown (Oxen's legacy 404)", unknownOutcome],
    ["  with a wrong status", wrongStatus],
    ["webhook (edit, URL) pairs expected", expectedDeliveries],
    ["  delivered (a 2xx at least once)", delivered],
    ["  lost", lost],
    ["webhook attempts received", attempts],
    ["  accepted more than once (same webhook-id)", duplicates],
    ["  pairs that saw two different webhook-ids", duplicatesWithOtherId],
    ["  bad signatures", badSignatures],
    ["relay 500s to clients", relay5xx],
    [
      "relay answers by status",
      [...counts.relayResponses]
        .sort(([a], [b]) => a - b)
        .map(([s, c]) => `${s}: ${c}`)
        .join(", "),
    ],
    ["enqueues retried (Oxen 429/502/503 passed on)", counts.enqueueRetries],
    ["client calls refused during the restart", counts.connectionErrors],
    ["hub aborts", counts.hubAborts],
    ["edit object aborts", counts.editAborts],
    ["runtime restarts (same storage)", counts.restarts],
    [
      "receiver faults (500 / timeout / reset)",
      `${counts.receiverFaults[500]} / ${counts.receiverFaults.timeout} / ${counts.receiverFaults.reset}`,
    ],
    ["Oxen completions emitted / dropped (no listener)", `${snapshot.emitted} / ${snapshot.dropped}`],
    ...flatten("Oxen faults injected", injected),
    ["duration (s)", ((Date.now() - started) / 1000).toFixed(1)],
  ];
  const ok =
    terminal === tracked.length &&
    tracked.length === o.edits &&
    wrongStatus === 0 &&
    lost === 0 &&
    duplicatesWithOtherId === 0 &&
    badSignatures === 0 &&
    relay5xx === 0;
  return {
    figures,
    edits: tracked.length,
    terminal,
    rightStatus,
    unknownOutcome,
    wrongStatus,
    expectedDeliveries,
    delivered,
    lost,
    duplicates,
    duplicatesWithOtherId,
    badSignatures,
    relay5xx,
    ok,
  };
}

function flatten(prefix: string, value: unknown): [string, string | number][] {
  if (value && typeof value === "object") {
    return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) =>
      flatten(`${prefix}: ${k}`, v),
    );
  }
  return typeof value === "number" ? [[prefix, value]] : [];
}

export function formatTable(rows: [string, string | number][]): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `| ${k.padEnd(width)} | ${String(v)} |`).join("\n");
}
