import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type RunningSimulator, startSimulator } from "./server.ts";
import {
  completionFor,
  EDIT_REQUEST,
  http,
  type Json,
  openEvents,
  type SseClient,
  sleep,
  waitUntil,
} from "./testing.ts";
import type { EmittedEvent } from "./types.ts";

let sim: RunningSimulator;
let api: string;
const clients: SseClient[] = [];

async function connect(key?: string): Promise<SseClient> {
  const client = await openEvents(api, key);
  clients.push(client);
  return client;
}
const enqueue = async (body: Json = EDIT_REQUEST): Promise<string[]> =>
  (await http(`${api}/ai/queue`, { body })).body.generations.map((g: Json) => g.generation_id);
const dataOf = (frame: { data?: string }): Json => JSON.parse(frame.data ?? "null");

beforeAll(async () => {
  sim = await startSimulator({
    apiKeys: ["sim_dev_key", "sim_second_key"],
    queuedMs: 20,
    processingMs: 40,
    noiseEveryMs: 0,
  });
  api = sim.baseUrl;
});
afterAll(() => sim?.close());
beforeEach(() => sim.sim.reset());
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});

describe("GET /events", () => {
  it("is a text/event-stream and carries media_generation_completed for a success", async () => {
    const stream = await connect();
    expect(stream.status).toBe(200);
    expect(stream.headers.get("content-type")).toBe("text/event-stream");
    const [id] = await enqueue();
    const frame = await stream.waitFor(completionFor(id as string));
    expect(frame.raw.split("\n")).toEqual([
      "event: media_generation_completed",
      expect.stringMatching(/^data: \{/),
    ]);
    expect(frame.data).toMatch(
      new RegExp(`^\\{"generation_id":"${id}","status":"succeeded","media_type":"image"`),
    );
    const data = dataOf(frame);
    expect(data).toEqual({
      generation_id: id,
      status: "succeeded",
      media_type: "image",
      model: "qwen-image-edit-2511",
      url: expect.stringMatching(new RegExp(`^${sim.url}/files/${id}\\.png\\?`)),
    });
    // The REST object is already final when the event arrives.
    expect((await http(`${api}/ai/queue/${id}`)).body.status).toBe("succeeded");
    expect((await fetch(data.url)).headers.get("content-type")).toBe("image/png");
  });

  it("carries a failed event with the error for a run-time failure (bad aspect_ratio)", async () => {
    const stream = await connect();
    const [id] = await enqueue({ ...EDIT_REQUEST, aspect_ratio: "7:3" });
    const data = dataOf(await stream.waitFor(completionFor(id as string)));
    expect(data).toEqual({
      generation_id: id,
      status: "failed",
      media_type: "image",
      model: "qwen-image-edit-2511",
      error: expect.stringMatching(/aspect_ratio.*7:3/),
    });
    expect((await http(`${api}/ai/queue/${id}`)).body.error_message).toBe(data.error);
  });

  it("goes to every open stream of the user, whatever key opened it", async () => {
    const first = await connect();
    const second = await connect("sim_second_key");
    const [id] = await enqueue();
    await first.waitFor(completionFor(id as string));
    await second.waitFor(completionFor(id as string));
    expect(sim.sim.snapshot().log).toEqual([
      {
        generation_id: id,
        status: "succeeded",
        model: "qwen-image-edit-2511",
        at_ms: expect.any(Number),
        delivered_to: 2,
      },
    ]);
  });

  it("emits nothing for a cancelled generation", async () => {
    const stream = await connect();
    const [cancelled, marker] = await enqueue({ ...EDIT_REQUEST, num_generations: 2 });
    await http(`${api}/ai/queue/${cancelled}`, { method: "DELETE" });
    await stream.waitFor(completionFor(marker as string));
    await sleep(80);
    expect(stream.frames.some(completionFor(cancelled as string))).toBe(false);
    expect(sim.sim.snapshot().log.map((r) => r.generation_id)).toEqual([marker]);
  });

  it("sends `: keep-alive` comments when idle", async () => {
    sim.sim.configure({ keepAliveMs: 40 });
    const stream = await connect();
    const frame = await stream.waitFor((f) => f.comment === "keep-alive", 1000);
    expect(frame.raw).toBe(": keep-alive");
    await waitUntil(() => stream.frames.filter((f) => f.comment === "keep-alive").length >= 2, 1000);
  });

  it("sends unrelated noise events that clients must ignore", async () => {
    sim.sim.configure({ noiseEveryMs: 40 });
    const stream = await connect();
    const frame = await stream.waitFor(
      (f) => f.event !== undefined && f.event !== "media_generation_completed",
      1000,
    );
    expect(frame.event).toBe("deployment_status");
    expect(dataOf(frame)).toMatchObject({ deployment_id: expect.any(String), status: "running" });
    expect(frame.raw).not.toMatch(/^(id|retry):/m);
    await waitUntil(() => sim.sim.snapshot().noise >= 1, 1000);
  });

  it("drops events that fire while nobody is connected and never replays them", async () => {
    const [lost] = await enqueue();
    await waitUntil(async () => (await http(`${api}/ai/queue/${lost}`)).body.status === "succeeded");
    expect(sim.sim.snapshot()).toMatchObject({ emitted: 0, dropped: 1, subscribers: 0 });

    const stream = await connect();
    const [seen] = await enqueue();
    await stream.waitFor(completionFor(seen as string));
    expect(stream.frames.some(completionFor(lost as string))).toBe(false);
    expect(sim.sim.snapshot()).toMatchObject({ emitted: 1, dropped: 1, subscribers: 1 });
  });

  it("can be ended from the server side (streams/close)", async () => {
    const a = await connect();
    const b = await connect();
    await waitUntil(() => sim.sim.subscribers === 2);
    const res = await http(`${sim.url}/_control/streams/close`, { method: "POST", key: null });
    expect(res.body).toEqual({ closed: 2 });
    await Promise.all([a.ended, b.ended]);
    expect((await http(`${sim.url}/_control/state`)).body.subscribers).toBe(0);
  });

  it("forgets a stream the client closes", async () => {
    const stream = await connect();
    await waitUntil(() => sim.sim.subscribers === 1);
    stream.close();
    await waitUntil(() => sim.sim.subscribers === 0);
    const [id] = await enqueue();
    await waitUntil(() => sim.sim.snapshot().dropped === 1);
    expect(sim.sim.snapshot().log[0]).toMatchObject({ generation_id: id, delivered_to: 0 });
  });
});

describe("autoComplete false + finish", () => {
  it("parks generations in processing until finished through the control surface", async () => {
    sim.sim.configure({ autoComplete: false });
    const stream = await connect();
    const [ok, bad, gone, later] = await enqueue({ ...EDIT_REQUEST, num_generations: 4 });
    await waitUntil(async () => (await http(`${api}/ai/queue?status=processing`)).body.count === 4);
    await sleep(80); // well past processingMs
    expect((await http(`${api}/ai/queue/${ok}`)).body.status).toBe("processing");

    const control = (id: string, body: Json) =>
      http(`${sim.url}/_control/generations/${id}/finish`, { body, key: null });
    const finished = await control(ok as string, { status: "succeeded" });
    expect(finished.body).toMatchObject({
      generation_id: ok,
      status: "succeeded",
      result_url: expect.any(String),
    });
    expect(dataOf(await stream.waitFor(completionFor(ok as string)))).toMatchObject({ status: "succeeded" });

    await control(bad as string, { status: "failed", error: "Insufficient credits" });
    expect(dataOf(await stream.waitFor(completionFor(bad as string)))).toEqual({
      generation_id: bad,
      status: "failed",
      media_type: "image",
      model: "qwen-image-edit-2511",
      error: "Insufficient credits",
    });

    await control(gone as string, { status: "cancelled" });
    expect((await http(`${api}/ai/queue/${gone}`)).body.status).toBe("cancelled");
    expect((await control(gone as string, { status: "succeeded" })).status).toBe(409);
    expect((await control("nope", { status: "succeeded" })).status).toBe(404);
    expect((await control(later as string, { status: "done" })).status).toBe(400);

    // Turning autoComplete back on completes what was parked.
    sim.sim.configure({ autoComplete: true });
    await stream.waitFor(completionFor(later as string));
    expect(stream.frames.some(completionFor(gone as string))).toBe(false);
  });
});

it("calls the onEmit hook for every completion, delivered or not", async () => {
  const seen: EmittedEvent[] = [];
  const local = await startSimulator({ queuedMs: 0, processingMs: 10, onEmit: (e) => seen.push(e) });
  try {
    const res = await http(`${local.baseUrl}/ai/queue`, { body: EDIT_REQUEST });
    const id = res.body.generations[0].generation_id;
    await waitUntil(() => seen.length === 1);
    expect(seen[0]).toEqual({
      event: "media_generation_completed",
      data: expect.objectContaining({ generation_id: id, status: "succeeded" }),
      at_ms: expect.any(Number),
      delivered_to: 0,
    });
    expect(local.sim.completionFor(id)).toEqual(
      expect.objectContaining({ generation_id: id, status: "succeeded" }),
    );
  } finally {
    await local.close();
  }
});
