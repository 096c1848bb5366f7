import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type RunningSimulator, startSimulator } from "./server.ts";
import { EDIT_REQUEST, http, type Json, waitUntil } from "./testing.ts";

const NOT_FOUND = {
  error: { type: "resource_not_found", title: "The requested resource could not be found" },
  status: "error",
  status_message: "resource_not_found",
};

let sim: RunningSimulator;
let api: string;
const control = (path: string, body?: unknown, method?: string) =>
  http(`${sim.url}/_control${path}`, { body, method, key: null });
const injected = async (): Promise<Json> => (await control("/state")).body.injected;
const enqueueOne = async (): Promise<string> =>
  (await http(`${api}/ai/queue`, { body: EDIT_REQUEST })).body.generations[0].generation_id;

beforeAll(async () => {
  sim = await startSimulator({ queuedMs: 5, processingMs: 10, noiseEveryMs: 0, seed: 2024 });
  api = sim.baseUrl;
});
afterAll(() => sim?.close());
beforeEach(() => sim.sim.reset());

describe("probabilistic REST faults", () => {
  it("hits a seeded share of calls, counts each one, and replays identically after a reset", async () => {
    const run = async (): Promise<number[]> => {
      const id = await enqueueOne();
      const added = await control("/faults", { route: "get", status: 429, probability: 0.2, retryAfter: 2 });
      expect(added.body.faults).toEqual([
        {
          route: "get",
          status: 429,
          remaining: null,
          probability: 0.2,
          retryAfter: 2,
          delayMs: 0,
          body: null,
        },
      ]);
      const statuses: number[] = [];
      for (let i = 0; i < 250; i++) {
        const res = await http(`${api}/ai/queue/${id}`);
        statuses.push(res.status);
        if (res.status === 429) {
          expect(res.headers.get("retry-after")).toBe("2");
          expect(res.body.status_message).toBe("rate_limited");
        } else {
          expect(res.status).toBe(200);
        }
      }
      return statuses;
    };
    const first = await run();
    const hits = first.filter((s) => s === 429).length;
    expect(hits).toBeGreaterThanOrEqual(30);
    expect(hits).toBeLessThanOrEqual(70);
    expect(await injected()).toMatchObject({ rest: { "get:429": hits } });
    expect((await control("/faults")).body.faults).toHaveLength(1); // persistent

    sim.sim.reset(); // restores seed 2024
    expect(await run()).toEqual(first);
  });

  it("answers 500 and 502 persistently, without Retry-After unless asked, until cleared", async () => {
    sim.sim.addFault({ route: "enqueue", status: 500, probability: 1 });
    await control("/faults", { route: "list", status: 502, probability: 1 });
    for (let i = 0; i < 5; i++) {
      const enq = await http(`${api}/ai/queue`, { body: EDIT_REQUEST });
      expect(enq.status).toBe(500);
      expect(enq.body.status_message).toBe("unknown_error");
      const list = await http(`${api}/ai/queue`);
      expect(list.status).toBe(502);
      expect(list.headers.get("retry-after")).toBeNull();
    }
    expect((await injected()).rest).toEqual({ "enqueue:500": 5, "list:502": 5 });
    await control("/faults", undefined, "DELETE");
    expect((await http(`${api}/ai/queue`, { body: EDIT_REQUEST })).status).toBe(200);
    expect((await http(`${api}/ai/queue`)).status).toBe(200);
  });

  it("slows calls down with delayMs and counts them as route:delay", async () => {
    await control("/faults", { route: "list", delayMs: 60, probability: 1 });
    for (let i = 0; i < 2; i++) {
      const started = Date.now();
      expect((await http(`${api}/ai/queue`)).status).toBe(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(55);
    }
    expect((await injected()).rest).toEqual({ "list:delay": 2 });
  });

  it("probability 0 never fires; counted rules go first and are counted too", async () => {
    await control("/faults", { route: "models", status: 500, probability: 0 });
    await control("/faults", { route: "models", status: 503, count: 2 });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await http(`${api}/ai/models/qwen-image-edit-2511`)).status);
    expect(statuses).toEqual([503, 503, 200, 200]);
    expect((await injected()).rest).toEqual({ "models:503": 2 });
  });

  it("refuses the event stream persistently with a rule on the events route", async () => {
    await control("/faults", { route: "events", status: 401, probability: 1 });
    for (let i = 0; i < 2; i++) {
      const res = await http(`${api}/events`);
      expect(res.status).toBe(401);
      expect(res.body.status_message).toBe("unauthenticated");
    }
    expect((await injected()).rest).toEqual({ "events:401": 2 });
  });

  it("rejects a count with a probability, and a probability out of range", async () => {
    expect((await control("/faults", { route: "get", status: 429, probability: 0.5, count: 2 })).status).toBe(
      400,
    );
    expect((await control("/faults", { route: "get", status: 429, probability: 1.5 })).status).toBe(400);
    expect((await control("/faults", { route: "get", status: 429, probability: -0.1 })).status).toBe(400);
    expect((await control("/config", { seed: 1.5 })).status).toBe(400);
    expect((await control("/faults")).body.faults).toEqual([]);
  });
});

describe("legacy 404 after finish", () => {
  it("can be toggled at run time over /_control/config and is counted", async () => {
    const done = await enqueueOne();
    await waitUntil(async () => (await http(`${api}/ai/queue/${done}`)).body.status === "succeeded");
    await control("/config", { autoComplete: false });
    const running = await enqueueOne();

    expect((await control("/config", { legacy404AfterFinish: true })).body.legacy404AfterFinish).toBe(true);
    const gone = await http(`${api}/ai/queue/${done}`);
    expect(gone.status).toBe(404);
    expect(gone.body).toEqual(NOT_FOUND);
    expect((await http(`${api}/ai/queue/${running}`)).status).toBe(200);
    expect((await http(`${api}/ai/queue/nope`)).status).toBe(404);
    expect((await injected()).legacy_404).toBe(1);

    await control("/config", { legacy404AfterFinish: false });
    expect((await http(`${api}/ai/queue/${done}`)).status).toBe(200);
  });
});
