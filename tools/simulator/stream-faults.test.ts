import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createSimulator } from "./app.ts";
import { type RunningSimulator, startSimulator } from "./server.ts";
import { createHub } from "./sse.ts";
import { DEFAULT_STREAM_FAULTS } from "./stream-faults.ts";
import {
  EDIT_REQUEST,
  http,
  type Json,
  openParsedEvents,
  type ParsedEvents,
  sleep,
  waitUntil,
} from "./testing.ts";
import type { EmittedEvent } from "./types.ts";

const UNAUTHENTICATED = {
  error: { type: "unauthenticated", title: "Unauthenticated" },
  status: "error",
  status_message: "unauthenticated",
};
const COMPLETED = "media_generation_completed";

let sim: RunningSimulator;
let api: string;
const emitted: EmittedEvent[] = [];
const clients: ParsedEvents[] = [];

const control = (path: string, body?: unknown, method?: string) =>
  http(`${sim.url}/_control${path}`, { body, method, key: null });
const injected = async (): Promise<Json> => (await control("/state")).body.injected;
async function connect(): Promise<ParsedEvents> {
  const client = await openParsedEvents(api);
  clients.push(client);
  expect(client.status).toBe(200);
  return client;
}
const enqueue = async (body: Json = EDIT_REQUEST): Promise<string[]> =>
  (await http(`${api}/ai/queue`, { body })).body.generations.map((g: Json) => g.generation_id);

/** Three successes and one run-time failure; resolves once all four completion events fired. */
async function fourCompletions(): Promise<string[]> {
  const ids = [
    ...(await enqueue({ ...EDIT_REQUEST, num_generations: 3 })),
    ...(await enqueue({ ...EDIT_REQUEST, aspect_ratio: "7:3" })),
  ];
  await waitUntil(() => emitted.length === ids.length);
  return ids;
}

/** The completion events a stream carried must be exactly what the simulator emitted, byte for byte. */
function expectExactCompletions(client: ParsedEvents, copies = 1): void {
  const real = client.events.filter((e) => e.event === COMPLETED);
  expect(real.map((e) => e.data)).toEqual(emitted.flatMap((e) => Array(copies).fill(JSON.stringify(e.data))));
  expect(real.every((e) => e.id === undefined)).toBe(true);
}

beforeAll(async () => {
  sim = await startSimulator({
    queuedMs: 10,
    processingMs: 20,
    noiseEveryMs: 0,
    seed: 42,
    onEmit: (e) => emitted.push(e),
  });
  api = sim.baseUrl;
});
afterAll(() => sim?.close());
beforeEach(() => {
  sim.sim.reset();
  emitted.length = 0;
});
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});

describe("wire faults: chunking, line endings, junk", () => {
  it("byte-chunked, mixed line endings and junk still reassemble into exactly the completion events", async () => {
    const set = await control("/stream-faults", { chunking: "byte", lineEndings: "mixed", junk: 6 });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ chunking: "byte", lineEndings: "mixed", junk: 6, duplicate: false });
    await control("/config", { keepAliveMs: 15, noiseEveryMs: 25 });
    const stream = await connect();
    const ids = await fourCompletions();
    await waitUntil(() => stream.completions().length === 4);
    await sleep(40);

    expectExactCompletions(stream);
    expect(stream.completions().map((d) => d.generation_id)).toEqual(ids);
    expect(stream.completions().map((d) => d.status)).toEqual([
      "succeeded",
      "succeeded",
      "succeeded",
      "failed",
    ]);
    // Every line-ending kind went over the wire.
    expect(stream.raw).toMatch(/[^\r]\n/);
    expect(stream.raw).toMatch(/\r\n/);
    expect(stream.raw).toMatch(/\r[^\n]/);
    // The junk came through as valid SSE of each kind, around the real events.
    const names = new Set(stream.events.map((e) => e.event));
    expect(names).toContain("sim_unknown_event");
    expect(names).toContain("deployment_status");
    const messages = stream.events.filter((e) => e.event === undefined).map((e) => e.data);
    expect(messages).toContain("");
    expect(messages.some((d) => d.startsWith("<<not json"))).toBe(true);
    expect(messages.some((d) => d.includes("sim_message_without_event_name"))).toBe(true);
    expect(stream.comments).toContain("keep-alive");
    expect(stream.comments.some((c) => c.startsWith("sim junk comment"))).toBe(true);
    expect(stream.errors.some((e) => e.includes("sim_unknown_field"))).toBe(true);

    // 4 events x 6 blocks = 4 full rounds of the 6 kinds, 9 non-blank lines per round.
    expect(await injected()).toMatchObject({ events_chunked: 4, events_line_endings: 4, junk_lines: 36 });
  });

  for (const lineEndings of ["crlf", "cr", "lf"] as const) {
    it(`random chunk boundaries with ${lineEndings} line endings reassemble exactly`, async () => {
      sim.sim.setStreamFaults({ chunking: "random", lineEndings, junk: 2, duplicate: false });
      const stream = await connect();
      await fourCompletions();
      await waitUntil(() => stream.completions().length === 4);
      expectExactCompletions(stream);
      if (lineEndings === "cr") expect(stream.raw).not.toContain("\n");
      if (lineEndings === "crlf") expect(stream.raw.replaceAll("\r\n", "")).not.toMatch(/[\r\n]/);
      if (lineEndings === "lf") expect(stream.raw).not.toContain("\r");
      expect(sim.sim.snapshot().injected).toMatchObject({
        events_chunked: 4,
        events_line_endings: lineEndings === "lf" ? 0 : 4,
      });
    });
  }

  it("writes one byte per write in byte mode and 1..24 bytes in random mode", async () => {
    let last: EmittedEvent | undefined;
    const local = createSimulator({ autoComplete: false, queuedMs: 0, seed: 3, onEmit: (e) => (last = e) });
    try {
      const pieces = async (chunking: "byte" | "random"): Promise<number[]> => {
        local.setStreamFaults({ chunking });
        const res = await local.app.request("/api/events", {
          headers: { authorization: "Bearer sim_dev_key" },
        });
        const reader = res.body!.getReader();
        const enq = await local.app.request("/api/ai/queue", {
          method: "POST",
          headers: { authorization: "Bearer sim_dev_key" },
          body: JSON.stringify(EDIT_REQUEST),
        });
        const id = ((await enq.json()) as Json).generations[0].generation_id;
        expect(local.finish(id, "succeeded").ok).toBe(true);
        const sizes: number[] = [];
        let text = "";
        while (!text.endsWith("\n\n")) {
          const { value } = await reader.read();
          sizes.push(value!.byteLength);
          text += new TextDecoder().decode(value);
        }
        expect(last?.data.generation_id).toBe(id);
        expect(text).toBe(`event: ${COMPLETED}\ndata: ${JSON.stringify(last?.data)}\n\n`);
        await reader.cancel();
        return sizes;
      };
      const bytes = await pieces("byte");
      expect(new Set(bytes)).toEqual(new Set([1]));
      const random = await pieces("random");
      expect(Math.min(...random)).toBeGreaterThanOrEqual(1);
      expect(Math.max(...random)).toBeLessThanOrEqual(24);
      expect(new Set(random).size).toBeGreaterThan(3);
    } finally {
      local.dispose();
    }
  });
});

describe("delivery faults", () => {
  it("sends each completion event twice, counted once as emitted", async () => {
    await control("/stream-faults", { duplicate: true });
    const stream = await connect();
    const ids = await fourCompletions();
    await waitUntil(() => stream.completions().length === 8);
    await sleep(30);
    expectExactCompletions(stream, 2);
    expect(stream.completions().map((d) => d.generation_id)).toEqual(ids.flatMap((id) => [id, id]));
    const state = (await control("/state")).body;
    expect(state).toMatchObject({ emitted: 4, dropped: 0 });
    expect(state.injected.events_duplicated).toBe(4);
  });

  it("closes each stream after N completion events; events fired meanwhile are lost and counted", async () => {
    await control("/stream-faults", { closeAfterEvents: 2, duplicate: true });
    const first = await connect();
    const ids = await enqueue({ ...EDIT_REQUEST, num_generations: 2 });
    await first.ended;
    expect(first.completions().map((d) => d.generation_id)).toEqual([ids[0], ids[0], ids[1], ids[1]]);
    await waitUntil(() => sim.sim.subscribers === 0);

    const [lost] = await enqueue();
    await waitUntil(() => emitted.length === 3);
    const second = await connect();
    const [seen] = await enqueue();
    await waitUntil(() => second.completions().length === 2);
    expect(second.completions().map((d) => d.generation_id)).toEqual([seen, seen]);
    expect(sim.sim.snapshot().log.map((r) => [r.generation_id, r.delivered_to])).toEqual([
      [ids[0], 1],
      [ids[1], 1],
      [lost, 0],
      [seen, 1],
    ]);
    const state = (await control("/state")).body;
    expect(state).toMatchObject({ emitted: 3, dropped: 1, subscribers: 1 });
    expect(state.injected).toMatchObject({ stream_closed_after_events: 1, events_dropped: 1 });
  });

  it("reports exactly the events a stream really got, also when a stalled reader is dropped", async () => {
    const hub = createHub(() => ({ keepAliveMs: 0, noiseEveryMs: 0, faults: DEFAULT_STREAM_FAULTS }));
    const reader = hub.subscribe().getReader(); // never read while writing: the backlog grows
    let reported = 0;
    for (let i = 0; i < 10_050; i++) reported += hub.broadcastCompletion(COMPLETED, { i });
    expect(hub.size).toBe(0);
    expect(reported).toBeGreaterThan(10_000);
    expect(reported).toBeLessThan(10_050);
    let received = 0;
    for (;;) {
      const { done } = await reader.read();
      if (done) break;
      received++;
    }
    expect(received).toBe(reported);
  });

  it("closes each stream T ms after it opened, also a stream opened before the setting", async () => {
    const early = await connect();
    await sleep(100);
    const started = Date.now();
    sim.sim.setStreamFaults({ closeAfterMs: 250 });
    const late = await connect();
    await early.ended;
    const earlyAt = Date.now() - started;
    await late.ended;
    const lateAt = Date.now() - started;
    expect(earlyAt).toBeGreaterThanOrEqual(130);
    expect(earlyAt).toBeLessThan(230);
    expect(lateAt).toBeGreaterThanOrEqual(240);
    expect(lateAt).toBeLessThan(1000);
    expect(sim.sim.snapshot().injected.stream_closed_after_ms).toBe(2);
  });
});

describe("refusal", () => {
  it("refuses every stream with 401 and Oxen's envelope until cleared", async () => {
    await control("/stream-faults", { refuse: { status: 401 } });
    for (let i = 0; i < 3; i++) {
      const res = await http(`${api}/events`);
      expect(res.status).toBe(401);
      expect(res.body).toEqual(UNAUTHENTICATED);
    }
    await control("/stream-faults", { refuse: { status: 503, retryAfter: 4 } });
    const busy = await http(`${api}/events`);
    expect(busy.status).toBe(503);
    expect(busy.headers.get("retry-after")).toBe("4");
    expect(busy.body.status_message).toBe("unknown_error");
    expect((await injected()).stream_refused).toBe(4);

    expect((await control("/stream-faults", { refuse: null })).body.refuse).toBeNull();
    await connect();
  });

  it("refuses a seeded share of streams", async () => {
    await control("/config", { seed: 9 });
    sim.sim.setStreamFaults({ refuse: { status: 503, probability: 0.5 } });
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      const abort = new AbortController();
      const res = await fetch(`${api}/events`, {
        headers: { authorization: "Bearer sim_dev_key" },
        signal: abort.signal,
      });
      statuses.push(res.status);
      abort.abort();
    }
    const refused = statuses.filter((s) => s === 503).length;
    expect(refused).toBeGreaterThanOrEqual(10);
    expect(refused).toBeLessThanOrEqual(30);
    expect(statuses.filter((s) => s === 200)).toHaveLength(40 - refused);
    expect(sim.sim.snapshot().injected.stream_refused).toBe(refused);
  });
});

/** A raw `/api/events` request that settles only when headers arrive or it fails. */
function pendingStream(base: string, key = "sim_dev_key") {
  const abort = new AbortController();
  const outcome = { settled: false };
  const response = fetch(`${base}/events`, {
    headers: { authorization: `Bearer ${key}` },
    signal: abort.signal,
  });
  const settled = response.then(
    (res) => ({ status: res.status, error: null }),
    (error: Error) => ({ status: 0, error: error.name }),
  );
  void settled.then(() => (outcome.settled = true));
  return { abort: () => abort.abort(), settled, outcome };
}

describe("half-open faults: silent streams and requests held without headers", () => {
  it("a silent stream gets the headers and then not one byte; streams opened after it is off are normal", async () => {
    await control("/config", { keepAliveMs: 40, noiseEveryMs: 100 });
    const set = await control("/stream-faults", { silent: true, junk: 2, duplicate: true });
    expect(set.body).toMatchObject({ silent: true, hangOnOpen: false });
    const quiet = await connect();
    expect(quiet.headers.get("content-type")).toBe("text/event-stream");
    expect(quiet.headers.get("cache-control")).toBe("no-cache");

    await control("/stream-faults", { silent: false, junk: 0, duplicate: false });
    const normal = await connect();
    await waitUntil(() => sim.sim.subscribers === 2);
    const [id] = await enqueue();
    await waitUntil(() => normal.completions().length === 1);
    await sleep(300);

    expect(quiet.raw).toBe("");
    expect(quiet.events).toEqual([]);
    expect(quiet.comments).toEqual([]);
    expect(normal.completions().map((d) => d.generation_id)).toEqual([id]);
    expect(normal.comments).toContain("keep-alive");
    expect(normal.events.some((e) => e.event === "deployment_status")).toBe(true);
    expect(sim.sim.snapshot().log.map((r) => [r.generation_id, r.delivered_to])).toEqual([[id, 1]]);
    const state = (await control("/state")).body;
    expect(state).toMatchObject({ subscribers: 2, emitted: 1, dropped: 0 });
    expect(state.injected).toMatchObject({ stream_silent: 1, events_duplicated: 0, junk_lines: 0 });

    // The client dropping it is what ends a silent stream.
    quiet.close();
    await quiet.ended;
    await waitUntil(() => sim.sim.subscribers === 1);
  });

  it("completions that fire while only silent streams are open are lost; closing streams ends them", async () => {
    sim.sim.setStreamFaults({ silent: true, closeAfterMs: 50, closeAfterEvents: 1 });
    const first = await connect();
    const second = await connect();
    const [id] = await enqueue();
    await waitUntil(() => emitted.length === 1);
    await sleep(300);
    expect(emitted[0]?.data.generation_id).toBe(id);
    expect(emitted[0]?.delivered_to).toBe(0);
    expect(first.raw + second.raw).toBe("");
    const state = (await control("/state")).body;
    expect(state).toMatchObject({ subscribers: 2, emitted: 0, dropped: 1 });
    expect(state.injected).toMatchObject({
      stream_silent: 2,
      events_dropped: 1,
      stream_closed_after_ms: 0,
      stream_closed_after_events: 0,
    });

    expect((await control("/streams/close", undefined, "POST")).body).toEqual({ closed: 2 });
    await first.ended;
    await second.ended;
    expect(first.raw + second.raw).toBe("");
    expect(sim.sim.subscribers).toBe(0);
  });

  it("holds a stream request without headers until the client aborts; off again, streams open normally", async () => {
    const set = await control("/stream-faults", { hangOnOpen: true });
    expect(set.body).toMatchObject({ hangOnOpen: true, silent: false });
    const held = pendingStream(api);
    // Held ahead of auth too: a server that never answers checks no keys.
    const wrongKey = pendingStream(api, "not_a_key");
    try {
      await waitUntil(() => sim.sim.heldStreams === 2);
      await sleep(300);
      expect(held.outcome.settled).toBe(false);
      expect(wrongKey.outcome.settled).toBe(false);
      expect(sim.sim.subscribers).toBe(0);
      expect(await injected()).toMatchObject({ stream_hung: 2 });
    } finally {
      held.abort();
      wrongKey.abort();
    }
    expect(await held.settled).toEqual({ status: 0, error: "AbortError" });
    expect(await wrongKey.settled).toEqual({ status: 0, error: "AbortError" });
    await waitUntil(() => sim.sim.heldStreams === 0);

    expect((await control("/stream-faults", { hangOnOpen: false })).body.hangOnOpen).toBe(false);
    const stream = await connect();
    const [id] = await enqueue();
    await waitUntil(() => stream.completions().length === 1);
    expect(stream.completions()[0].generation_id).toBe(id);
    expect((await http(`${api}/events`, { key: "not_a_key" })).status).toBe(401);
    expect((await injected()).stream_hung).toBe(2);
  });

  it("close() does not wait for a silent stream or a held request", async () => {
    const local = await startSimulator({ keepAliveMs: 40, noiseEveryMs: 0 });
    local.sim.setStreamFaults({ silent: true });
    const quiet = await openParsedEvents(local.baseUrl);
    expect(quiet.status).toBe(200);
    local.sim.setStreamFaults({ hangOnOpen: true });
    const held = pendingStream(local.baseUrl);
    try {
      await waitUntil(() => local.sim.heldStreams === 1 && local.sim.subscribers === 1);
      await local.close();
      await quiet.ended;
      expect(quiet.raw).toBe("");
      expect((await held.settled).status).not.toBe(200);
      expect(local.sim.heldStreams).toBe(0);
      expect(local.sim.subscribers).toBe(0);
    } finally {
      quiet.close();
      held.abort();
      await local.close();
    }
  });

  it("dispose() ends silent streams and answers held requests 503", async () => {
    const local = createSimulator({ keepAliveMs: 40, noiseEveryMs: 0 });
    const headers = { authorization: "Bearer sim_dev_key" };
    local.setStreamFaults({ silent: true });
    const quiet = await local.app.request("/api/events", { headers });
    expect(quiet.status).toBe(200);
    local.setStreamFaults({ silent: false, hangOnOpen: true });
    const held = local.app.request("/api/events", { headers });
    await waitUntil(() => local.heldStreams === 1);
    local.dispose();
    expect((await held).status).toBe(503);
    expect(await quiet.text()).toBe("");
    expect(local.snapshot().injected).toMatchObject({ stream_silent: 1, stream_hung: 1 });
  });
});

describe("control surface", () => {
  it("validates, reads and clears the stream faults", async () => {
    for (const bad of [
      { chunking: "bits" },
      { lineEndings: "lfcr" },
      { closeAfterEvents: 0 },
      { junk: -1 },
      { refuse: { status: 200 } },
      { refuse: { status: 503, probability: 2 } },
      { silent: "yes" },
      { hangOnOpen: 1 },
      { nope: true },
    ]) {
      expect((await control("/stream-faults", bad)).status).toBe(400);
    }
    await control("/stream-faults", { closeAfterMs: 500, lineEndings: "cr", silent: true, hangOnOpen: true });
    expect((await control("/stream-faults")).body).toEqual({
      closeAfterEvents: null,
      closeAfterMs: 500,
      duplicate: false,
      chunking: "none",
      lineEndings: "cr",
      junk: 0,
      refuse: null,
      silent: true,
      hangOnOpen: true,
    });
    const cleared = await control("/stream-faults", undefined, "DELETE");
    expect(cleared.body).toMatchObject({
      closeAfterMs: null,
      lineEndings: "lf",
      silent: false,
      hangOnOpen: false,
    });
    expect(sim.sim.setStreamFaults({ silent: true })).toMatchObject({ silent: true, hangOnOpen: false });
    expect(sim.sim.setStreamFaults({ silent: false, hangOnOpen: true })).toMatchObject({
      silent: false,
      hangOnOpen: true,
    });
    sim.sim.clearStreamFaults();
    expect(sim.sim.state.streamFaults).toEqual(DEFAULT_STREAM_FAULTS);
    expect(() => sim.sim.setStreamFaults({ chunking: "bits" as "byte" })).toThrow();
  });

  it("reset clears stream faults, REST chaos rules, injected counts and restores the seed", async () => {
    await control("/stream-faults", {
      duplicate: true,
      junk: 1,
      refuse: { status: 401, probability: 0 },
      silent: true,
      hangOnOpen: true,
    });
    await control("/faults", { route: "list", status: 500, probability: 1 });
    await control("/config", { seed: 1 });
    expect((await http(`${api}/ai/queue`)).status).toBe(500);
    expect(await injected()).toMatchObject({ rest: { "list:500": 1 } });

    expect((await control("/reset", undefined, "POST")).body).toEqual({ ok: true });
    const state = (await control("/state")).body;
    expect(state.faults).toEqual([]);
    expect(state.streamFaults).toEqual(DEFAULT_STREAM_FAULTS);
    expect(state.config.seed).toBe(42);
    expect(state.injected).toEqual({
      stream_closed_after_events: 0,
      stream_closed_after_ms: 0,
      events_duplicated: 0,
      events_chunked: 0,
      events_line_endings: 0,
      junk_lines: 0,
      stream_refused: 0,
      stream_silent: 0,
      stream_hung: 0,
      events_dropped: 0,
      legacy_404: 0,
      rest: {},
    });
    expect((await http(`${api}/ai/queue`)).status).toBe(200);
  });
});
