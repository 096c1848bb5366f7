import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createSimulator } from "./app.ts";
import { type RunningSimulator, startSimulator } from "./server.ts";
import { EDIT_REQUEST, http, openEvents, waitUntil } from "./testing.ts";

let sim: RunningSimulator;
let api: string;
const control = (path: string, body?: unknown, method?: string) =>
  http(`${sim.url}/_control${path}`, { body, method, key: null });

beforeAll(async () => {
  sim = await startSimulator({ queuedMs: 10, processingMs: 20, noiseEveryMs: 0 });
  api = sim.baseUrl;
});
afterAll(() => sim?.close());
beforeEach(() => sim.sim.reset());

describe("faults", () => {
  it("answers the next N calls of a route with the status, Retry-After and Oxen's envelope", async () => {
    const added = await control("/faults", { route: "enqueue", status: 429, count: 2, retryAfter: 7 });
    expect(added.status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const res = await http(`${api}/ai/queue`, { body: EDIT_REQUEST });
      expect(res.status).toBe(429);
      expect(res.headers.get("retry-after")).toBe("7");
      expect(res.body).toEqual({
        error: { type: "rate_limited", title: expect.any(String) },
        status: "error",
        status_message: "rate_limited",
      });
    }
    expect((await http(`${api}/ai/queue`, { body: EDIT_REQUEST })).status).toBe(200);
    expect((await control("/faults")).body).toEqual({ faults: [] });
  });

  it("only hits its own route, and covers get, list, cancel, models and events", async () => {
    const id = (await http(`${api}/ai/queue`, { body: EDIT_REQUEST })).body.generations[0].generation_id;
    for (const route of ["get", "list", "cancel", "models", "events"]) {
      await control("/faults", { route, status: 500 });
    }
    expect((await http(`${api}/ai/queue`, { body: EDIT_REQUEST })).status).toBe(200);
    const calls = [
      () => http(`${api}/ai/queue/${id}`),
      () => http(`${api}/ai/queue`),
      () => http(`${api}/ai/queue/${id}`, { method: "DELETE" }),
      () => http(`${api}/ai/models/qwen-image-edit-2511`),
      () => http(`${api}/events`),
    ];
    for (const call of calls) {
      const res = await call();
      expect(res.status).toBe(500);
      expect(res.body.status_message).toBe("unknown_error");
    }
    for (const call of calls.slice(0, 4)) expect((await call()).status).toBe(200);
    const stream = await openEvents(api);
    expect(stream.status).toBe(200);
    stream.close();
  });

  it("can delay a call, send a raw body, and be cleared", async () => {
    sim.sim.addFault({ route: "get", delayMs: 150 });
    const id = (await http(`${api}/ai/queue`, { body: EDIT_REQUEST })).body.generations[0].generation_id;
    const started = Date.now();
    expect((await http(`${api}/ai/queue/${id}`)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);

    await control("/faults", { route: "list", status: 502, body: "<html>Bad gateway</html>" });
    const html = await http(`${api}/ai/queue`);
    expect(html.status).toBe(502);
    expect(html.headers.get("content-type")).toContain("text/html");
    expect(html.text).toBe("<html>Bad gateway</html>");

    await control("/faults", { route: "list", status: 503, count: 5 });
    expect((await control("/faults", undefined, "DELETE")).body).toEqual({ faults: [] });
    expect((await http(`${api}/ai/queue`)).status).toBe(200);
  });

  it("rejects invalid fault specs", async () => {
    expect((await control("/faults", { route: "nowhere", status: 500 })).status).toBe(400);
    expect((await control("/faults", { route: "get" })).status).toBe(400);
    expect((await control("/faults", { route: "get", status: 200 })).status).toBe(400);
    expect(() => sim.sim.addFault({ route: "get", status: 500, count: 0 })).toThrow();
  });

  it("keeps auth in front: a bad key still gets 401 and leaves the fault unused", async () => {
    await control("/faults", { route: "list", status: 500 });
    expect((await http(`${api}/ai/queue`, { key: "nope" })).status).toBe(401);
    expect((await http(`${api}/ai/queue`)).status).toBe(500);
  });
});

describe("config, reset and state", () => {
  it("applies a partial config and rejects unknown or invalid keys", async () => {
    const res = await control("/config", { processingMs: 5, credits: 3, enqueueStatus: "processing" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      processingMs: 5,
      credits: 3,
      enqueueStatus: "processing",
      queuedMs: 10,
    });
    expect((await control("/config", { nope: 1 })).status).toBe(400);
    expect((await control("/config", { queuedMs: -1 })).status).toBe(400);
    expect((await control("/config", { enqueueStatus: "done" })).status).toBe(400);
    expect((await http(`${sim.url}/_control/config`, { raw: "{", method: "POST", key: null })).status).toBe(
      400,
    );
    expect((await control("/config")).body.processingMs).toBe(5);
  });

  it("reset drops generations, counters and faults and restores the start options", async () => {
    await control("/config", { processingMs: 5, autoComplete: false });
    await control("/faults", { route: "models", status: 500, count: 3 });
    const id = (await http(`${api}/ai/queue`, { body: EDIT_REQUEST })).body.generations[0].generation_id;
    expect((await control("/reset", undefined, "POST")).body).toEqual({ ok: true });
    expect((await http(`${api}/ai/queue/${id}`)).status).toBe(404);
    const state = (await control("/state")).body;
    expect(state).toMatchObject({ generations: [], emitted: 0, dropped: 0, faults: [], log: [] });
    expect(state.config).toMatchObject({ processingMs: 20, autoComplete: true, queuedMs: 10 });
    expect((await http(`${api}/ai/models/qwen-image-edit-2511`)).status).toBe(200);
  });

  it("reports generations, subscribers, counters and the emit log", async () => {
    const stream = await openEvents(api);
    try {
      const id = (await http(`${api}/ai/queue`, { body: EDIT_REQUEST })).body.generations[0].generation_id;
      await waitUntil(() => sim.sim.snapshot().emitted === 1);
      const state = (await control("/state")).body;
      expect(state.subscribers).toBe(1);
      expect(state.generations).toEqual([
        expect.objectContaining({ generation_id: id, status: "succeeded" }),
      ]);
      expect(state.log).toEqual([
        {
          generation_id: id,
          status: "succeeded",
          model: "qwen-image-edit-2511",
          at_ms: expect.any(Number),
          delivered_to: 1,
        },
      ]);
      expect(Math.abs(state.log[0].at_ms - Date.now())).toBeLessThan(5000);
    } finally {
      stream.close();
    }
  });

  it("caps the emit log", async () => {
    const local = createSimulator({ logLimit: 2, autoComplete: false, queuedMs: 0 });
    try {
      const res = await local.app.request("/api/ai/queue", {
        method: "POST",
        headers: { authorization: "Bearer sim_dev_key" },
        body: JSON.stringify({ ...EDIT_REQUEST, num_generations: 3 }),
      });
      const body = (await res.json()) as { generations: { generation_id: string }[] };
      const ids = body.generations.map((g) => g.generation_id);
      for (const id of ids) local.finish(id, "succeeded");
      expect(local.snapshot().log.map((r) => r.generation_id)).toEqual(ids.slice(1));
      expect(local.snapshot().dropped).toBe(3);
    } finally {
      local.dispose();
    }
  });
});

describe("server lifecycle", () => {
  it("close() ends open streams, frees the port and is idempotent", async () => {
    const local = await startSimulator({ port: 0 });
    expect(local.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(local.baseUrl).toBe(`${local.url}/api`);
    const stream = await openEvents(local.baseUrl);
    await waitUntil(() => local.sim.subscribers === 1);
    const started = Date.now();
    await Promise.all([local.close(), local.close()]);
    await stream.ended;
    expect(Date.now() - started).toBeLessThan(1000);
    await expect(fetch(`${local.url}/api/ai/queue`)).rejects.toThrow();
  });

  it("main.ts prints its URL, serves, and exits cleanly on SIGTERM", async () => {
    const localNode = resolve(import.meta.dirname, "../../node_modules/.bin/node");
    const child = spawn(
      existsSync(localNode) ? localNode : process.execPath,
      [resolve(import.meta.dirname, "main.ts")],
      {
        env: {
          ...process.env,
          SIM_PORT: "0",
          SIM_API_KEYS: "k_one, k_two",
          SIM_QUEUED_MS: "0",
          SIM_PROCESSING_MS: "5",
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    try {
      let out = "";
      child.stdout.on("data", (chunk) => {
        out += chunk;
      });
      const url = await waitUntil(() => /(http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1], 10_000);
      expect(out.trim().split("\n")).toHaveLength(1);
      expect((await http(`${url}/api/ai/queue`, { key: "k_two" })).status).toBe(200);
      expect((await http(`${url}/api/ai/queue`)).status).toBe(401);
      const stream = await openEvents(`${url}/api`, "k_one");
      const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      await stream.ended;
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
