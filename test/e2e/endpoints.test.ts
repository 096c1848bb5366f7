import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Received, Receiver, type Reply } from "../../tools/local/receiver.ts";
import { startWranglerDev, type WranglerDev } from "../../tools/local/wrangler-dev.ts";
import { type RunningSimulator, startSimulator } from "../../tools/simulator/server.ts";

// Contract v1.1, "Endpoints, events and usage (per client)", black box: the worker under
// `wrangler dev`, the simulator as Oxen, a receiver that verifies every signature with the
// standardwebhooks package. Each scenario has a client of its own (its own log and usage); one
// relay for the file. Nothing waits a fixed time: every step waits for a condition.
let sim: RunningSimulator;
let receiver: Receiver;
let relay: WranglerDev;
const ADMIN = "e2e-endpoints-admin-token-000000000000000";
/**
 * Twenty 1 s retries: an endpoint kept down while the scenario builds its backlog (a few hundred
 * ms) stays far inside the schedule, so its oldest event is never given up on.
 */
const RETRY_SCHEDULE = Array.from({ length: 20 }, () => "1").join(",");

/** Paths whose requests fail (500 and connection resets, in turn) until taken out. */
const down = new Set<string>();
let downCount = 0;

beforeAll(async () => {
  sim = await startSimulator({
    apiKeys: ["sim_endpoints_key"],
    queuedMs: 10,
    processingMs: 50,
    autoComplete: false,
    noiseEveryMs: 0,
  });
  receiver = await new Receiver().listen();
  receiver.policy = (path): Reply =>
    down.has(path) ? { status: downCount++ % 2 === 0 ? 500 : 0 } : { status: 200 };
  relay = await startWranglerDev({
    vars: {
      OXEN_BASE_URL: sim.baseUrl,
      OXEN_API_KEY: "sim_endpoints_key",
      ADMIN_TOKEN: ADMIN,
      ALLOW_PRIVATE_WEBHOOKS: "true",
      WEBHOOK_RETRY_SCHEDULE: RETRY_SCHEDULE,
      WEBHOOK_TIMEOUT_MS: "3000",
    },
  });
}, 90_000);

afterAll(async () => {
  await relay?.stop();
  await Promise.all([sim?.close(), receiver?.close()]);
});

type Json = any;
interface Client {
  name: string;
  key: string;
  secret: string;
}
interface LoggedEvent {
  id: string;
  type: string;
  timestamp: string;
  data: Json;
}

async function api(method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(`${relay.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as Json };
}

/** `api`, insisting on one status: anything else fails the test with the request and the answer. */
async function must(status: number, method: string, path: string, token: string, body?: unknown) {
  const res = await api(method, path, token, body);
  if (res.status !== status) {
    throw new Error(
      `${method} ${path} ${JSON.stringify(body ?? null)}: expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`,
    );
  }
  return res.body;
}

/** Polls `probe` until it answers something other than null/false; fails naming `what` after `timeoutMs`. */
async function until<T>(
  what: string,
  probe: () => Promise<T | null | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    const got = await probe();
    if (got !== null && got !== false) return got;
    last = got;
    if (Date.now() > deadline)
      throw new Error(`not met in ${timeoutMs} ms: ${what} (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function newClient(name: string): Promise<Client> {
  const c = await must(201, "POST", "/v1/clients", ADMIN, { name: `e2e-endpoints-${name}` });
  return { name, key: c.api_key, secret: c.webhook_secret };
}

/** A receiver path of the client's (signatures checked with its secret). */
function path(client: Client, name: string): string {
  const p = `/${client.name}/${name}`;
  receiver.secrets(p, [client.secret]);
  return p;
}

async function endpoint(client: Client, p: string, extra: object = {}): Promise<string> {
  const ep = await must(201, "POST", "/v1/endpoints", client.key, { url: `${receiver.url}${p}`, ...extra });
  expect(ep).toMatchObject({ status: "active", health: { pending: 0 } });
  return ep.id;
}

const getEndpoint = (client: Client, id: string) => must(200, "GET", `/v1/endpoints/${id}`, client.key);

type Ending = "succeeded" | "failed";

/** An edit created and ended in Oxen (`outcomes` per generation, or cancelled through the relay). */
async function edit(client: Client, outcomes: Ending[] | "cancel", extra: object = {}): Promise<string> {
  const n = outcomes === "cancel" ? 1 : outcomes.length;
  const made = await must(202, "POST", "/v1/edits", client.key, {
    prompt: `endpoints ${client.name} ${crypto.randomUUID()}`,
    input_image: ["https://example.com/a.png"],
    num_generations: n,
    ...extra,
  });
  if (outcomes === "cancel") {
    await must(200, "POST", `/v1/edits/${made.id}/cancel`, client.key);
  } else {
    for (const [i, g] of made.outputs.entries()) {
      const status = outcomes[i] as Ending;
      sim.sim.finish(g.generation_id, status, status === "failed" ? "chaos in the prompt" : undefined);
    }
  }
  return made.id as string;
}

/** The whole event log, read `limit` at a time through the cursor. */
async function eventLog(client: Client, limit = 2, type?: string): Promise<LoggedEvent[]> {
  const all: LoggedEvent[] = [];
  let after: string | null = null;
  for (let pages = 0; pages < 1000; pages++) {
    const q = new URLSearchParams({ limit: String(limit) });
    if (after) q.set("after", after);
    if (type) q.set("type", type);
    const page = await must(200, "GET", `/v1/events?${q}`, client.key);
    expect(page.data.length).toBeLessThanOrEqual(limit);
    all.push(...page.data);
    if (page.next_cursor === null) return all;
    expect(page.next_cursor).toBe(page.data.at(-1)?.id);
    after = page.next_cursor;
  }
  throw new Error("the event log never ended");
}

/** The log once it holds `n` events. */
const logOf = (client: Client, n: number) =>
  until(`${client.name}: ${n} events logged`, async () => {
    const log = await eventLog(client, 100);
    return log.length >= n ? log : null;
  });

const ok = (r: Received) => r.answered >= 200 && r.answered < 300;
const idOf = (r: Received) => r.headers["webhook-id"] as string;
const editOf = (r: Received) => JSON.parse(r.body).data.id as string;

/** Requests to `p` answered 2xx, once there are at least `n`. */
const deliveredTo = (p: string, n: number) =>
  until(`${n} deliveries at ${p}`, async () => {
    const got = receiver.on(p).filter(ok);
    return got.length >= n ? got : null;
  });

/** Every request to `p` verified (by the receiver, with standardwebhooks) and is the logged event, byte for byte in meaning. */
function expectLogged(client: Client, p: string, log: LoggedEvent[]): void {
  const byId = new Map(log.map((e) => [e.id, e]));
  const wh = new Webhook(client.secret);
  for (const r of receiver.on(p)) {
    expect(r.verified, `signature of ${idOf(r)} at ${p}`).toBe(true);
    expect(wh.verify(r.body, r.headers)).toEqual(JSON.parse(r.body));
    const e = byId.get(idOf(r));
    expect(e, `${idOf(r)} at ${p} is in the log`).toBeDefined();
    expect(JSON.parse(r.body)).toEqual({ type: e?.type, timestamp: e?.timestamp, data: e?.data });
  }
}

/** What each scenario did, for the usage check at the end. */
const expectedUsage = new Map<Client, Record<string, number>>();

describe("endpoints under wrangler dev", () => {
  it("an endpoint down for a while, then back, gets every event in log order, original ids, signed", async () => {
    const c = await newClient("down");
    const ep = path(c, "ep");
    down.add(ep);
    const id = await endpoint(c, ep);
    const own = (i: number) => ({ webhook: `${receiver.url}${path(c, `own${i}`)}` });

    // The first event's attempt fails: the endpoint now has a backlog (a failing streak).
    const edits = [await edit(c, ["succeeded"], own(0))];
    await until("the first attempt's failure reported", async () => {
      const e = await getEndpoint(c, id);
      return e.health.failing_since !== null && e.health.pending === 1;
    });
    // The rest queue behind it while the endpoint stays down.
    edits.push(await edit(c, ["failed"], own(1)));
    edits.push(await edit(c, ["succeeded", "succeeded"], own(2)));
    edits.push(await edit(c, "cancel", own(3)));
    edits.push(await edit(c, ["succeeded"], own(4)));
    const log = await logOf(c, 5);
    await until(
      "all five held for the endpoint",
      async () => (await getEndpoint(c, id)).health.pending === 5,
    );
    const failedWhileDown = receiver.on(ep);
    expect(failedWhileDown.length).toBeGreaterThan(0);
    expect(failedWhileDown.every((r) => !ok(r))).toBe(true);

    // Back: everything, in the log's order, with the ids of the log (and of the edits' own webhooks).
    down.delete(ep);
    const got = await deliveredTo(ep, 5);
    expect(got.map(idOf)).toEqual(log.map((e) => e.id));
    expect(got.map(editOf)).toEqual(edits);
    expect(log.map((e) => e.type)).toEqual([
      "edit.succeeded",
      "edit.failed",
      "edit.succeeded",
      "edit.cancelled",
      "edit.succeeded",
    ]);
    // While down, only the oldest event was tried (the backlog's head, on the retry schedule).
    expect(
      new Set(
        receiver
          .on(ep)
          .filter((r) => !ok(r))
          .map(idOf),
      ),
    ).toEqual(new Set([log[0]?.id]));
    expectLogged(c, ep, log);
    // One webhook-id per event across the endpoint and the edit's own webhook.
    for (const [i, editId] of edits.entries()) {
      const [hook] = await deliveredTo(`/${c.name}/own${i}`, 1);
      expect(editOf(hook as Received)).toBe(editId);
      expect(idOf(hook as Received)).toBe(log[i]?.id);
      expectLogged(c, `/${c.name}/own${i}`, log);
    }
    const after = await until("the endpoint healthy again", async () => {
      const e = await getEndpoint(c, id);
      return e.health.pending === 0 && e.health.failing_since === null ? e : null;
    });
    expect(after).toMatchObject({ status: "active" });
    expect(after.health.last_success_at).not.toBeNull();
    expect(after.health.success_rate_24h).toBeLessThan(1);
    expect(receiver.on(ep).filter(ok)).toHaveLength(5);
    expectedUsage.set(c, {
      edits_created: 5,
      generations_succeeded: 4,
      generations_failed: 1,
      generations_cancelled: 1,
      // Five own webhooks, five endpoint deliveries.
      webhooks_delivered: 10,
      webhooks_failed: 0,
    });
  });

  it("a paused endpoint receives nothing until resumed, then everything in log order", async () => {
    const c = await newClient("paused");
    const paused = path(c, "paused");
    const live = path(c, "live");
    const pausedId = await endpoint(c, paused);
    await endpoint(c, live);
    const patched = await must(200, "PATCH", `/v1/endpoints/${pausedId}`, c.key, { status: "paused" });
    expect(patched).toMatchObject({ id: pausedId, status: "paused" });

    const edits: string[] = [];
    for (let i = 0; i < 4; i++) edits.push(await edit(c, [i === 2 ? "failed" : "succeeded"]));
    const log = await logOf(c, 4);
    // The other endpoint has had them all, and the paused one holds them all.
    await deliveredTo(live, 4);
    await until("four held", async () => (await getEndpoint(c, pausedId)).health.pending === 4);
    expect(receiver.on(paused)).toEqual([]);

    const resumed = await must(200, "PATCH", `/v1/endpoints/${pausedId}`, c.key, { status: "active" });
    expect(resumed).toMatchObject({ id: pausedId, status: "active" });
    const got = await deliveredTo(paused, 4);
    expect(got.map(idOf)).toEqual(log.map((e) => e.id));
    expect(got.map(editOf)).toEqual(edits);
    expect(new Set(receiver.on(live).map(idOf))).toEqual(new Set(log.map((e) => e.id)));
    expectLogged(c, paused, log);
    expectLogged(c, live, log);
    await until("nothing pending", async () => (await getEndpoint(c, pausedId)).health.pending === 0);
    expect(receiver.on(paused)).toHaveLength(4);
    expectedUsage.set(c, {
      edits_created: 4,
      generations_succeeded: 3,
      generations_failed: 1,
      generations_cancelled: 0,
      webhooks_delivered: 8,
      webhooks_failed: 0,
    });
  });

  it("recover re-sends exactly what the endpoint did not acknowledge, same ids, in order", async () => {
    const c = await newClient("recover");
    const ep = path(c, "ep");
    // The receiver took some and refused others with 410 (a refusal for good: no retries).
    receiver.script(ep, [
      { status: 200 },
      { status: 410 },
      { status: 200 },
      { status: 410 },
      { status: 200 },
    ]);
    const id = await endpoint(c, ep);
    const since = new Date(Date.now() - 1_000).toISOString();
    for (let i = 0; i < 5; i++) await edit(c, ["succeeded"]);
    const log = await logOf(c, 5);
    const first = await until("five answered and reported", async () => {
      const got = receiver.on(ep);
      return got.length >= 5 && (await getEndpoint(c, id)).health.pending === 0 ? got : null;
    });
    expect(first.map((r) => r.answered).sort()).toEqual([200, 200, 200, 410, 410]);
    const acknowledged = new Set(first.filter(ok).map(idOf));
    const refused = log.map((e) => e.id).filter((x) => !acknowledged.has(x));
    expect(refused).toHaveLength(2);

    // The receiver lost its data: it asks again for what it never acknowledged.
    expect(await must(202, "POST", `/v1/endpoints/${id}/recover`, c.key, { since })).toEqual({ events: 2 });
    const all = await until("the two re-sent", async () => {
      const got = receiver.on(ep);
      return got.length >= 7 && (await getEndpoint(c, id)).health.pending === 0 ? got : null;
    });
    expect(all.slice(5).map(idOf)).toEqual(refused);
    expect(all.slice(5).every(ok)).toBe(true);
    expectLogged(c, ep, log);
    // Nothing else: everything is acknowledged now, a second recover finds nothing, and a
    // recover from now on neither.
    expect(await must(202, "POST", `/v1/endpoints/${id}/recover`, c.key, { since })).toEqual({ events: 0 });
    const now = new Date().toISOString();
    expect(await must(202, "POST", `/v1/endpoints/${id}/recover`, c.key, { since: now })).toEqual({
      events: 0,
    });
    expect((await getEndpoint(c, id)).health.pending).toBe(0);
    expect(receiver.on(ep)).toHaveLength(7);
    expectedUsage.set(c, {
      edits_created: 5,
      generations_succeeded: 5,
      generations_failed: 0,
      // Three acknowledged at once, two after the recovery.
      webhooks_delivered: 5,
    });
  });

  it("pages GET /v1/events with the cursor, filters by type, and matches what was delivered", async () => {
    const c = await newClient("log");
    const ep = path(c, "ep");
    const failedOnly = path(c, "failed-only");
    await endpoint(c, ep);
    await endpoint(c, failedOnly, { events: ["edit.failed"] });
    const edits: string[] = [];
    const plan: (Ending[] | "cancel")[] = [
      ["succeeded"],
      ["failed"],
      "cancel",
      ["succeeded", "failed"],
      ["failed", "failed"],
    ];
    for (const p of plan) edits.push(await edit(c, p));
    await logOf(c, 5);
    const full = await eventLog(c, 100);
    // Cursor pages of 1, 2 and 3 read the same log as one page of 100.
    for (const limit of [1, 2, 3]) expect(await eventLog(c, limit)).toEqual(full);
    expect(full.map((e) => e.data.id)).toEqual(edits);
    expect(full.map((e) => e.type)).toEqual([
      "edit.succeeded",
      "edit.failed",
      "edit.cancelled",
      "edit.succeeded",
      "edit.failed",
    ]);
    expect(new Set(full.map((e) => e.id)).size).toBe(5);
    const failed = await eventLog(c, 1, "edit.failed");
    expect(failed).toEqual(full.filter((e) => e.type === "edit.failed"));
    // A page starting after the last event is empty, without a cursor.
    expect(await must(200, "GET", `/v1/events?after=${full.at(-1)?.id}`, c.key)).toEqual({
      data: [],
      next_cursor: null,
    });

    // What the endpoints got is the log: every event once, the same ids and payloads.
    const got = await deliveredTo(ep, 5);
    expect(new Set(got.map(idOf))).toEqual(new Set(full.map((e) => e.id)));
    expectLogged(c, ep, full);
    const gotFailed = await deliveredTo(failedOnly, 2);
    expect(new Set(gotFailed.map(idOf))).toEqual(new Set(failed.map((e) => e.id)));
    expectLogged(c, failedOnly, full);
    // Another client's log is its own.
    const other = await newClient("log-other");
    expect(await eventLog(other, 100)).toEqual([]);
    expect((await api("GET", `/v1/events?after=${full[0]?.id}`, other.key)).status).toBe(400);
    expectedUsage.set(c, {
      edits_created: 5,
      generations_succeeded: 2,
      generations_failed: 4,
      generations_cancelled: 1,
      webhooks_delivered: 7,
      webhooks_failed: 0,
    });
  });

  it("GET /v1/usage counts what each client's run did, endpoint deliveries among the webhooks", async () => {
    expect(expectedUsage.size).toBe(4);
    for (const [c, expected] of expectedUsage) {
      const keys = Object.keys(expected);
      let last: Record<string, number> = {};
      await until(`${c.name}: usage ${JSON.stringify(expected)}`, async () => {
        const usage = await must(200, "GET", "/v1/usage", c.key);
        last = {};
        for (const row of usage.data) for (const k of keys) last[k] = (last[k] ?? 0) + Number(row[k] ?? 0);
        return keys.every((k) => last[k] === expected[k]) ? last : null;
      }).catch((e: Error) => {
        throw new Error(`${e.message}; usage was ${JSON.stringify(last)}`);
      });
      const usage = await must(200, "GET", "/v1/usage", c.key);
      for (const row of usage.data) expect(row.model).toBe("qwen-image-edit-2511");
    }
  });
});
