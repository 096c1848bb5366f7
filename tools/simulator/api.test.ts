import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createPresigner } from "./presign.ts";
import { type RunningSimulator, startSimulator } from "./server.ts";
import { EDIT_REQUEST, http, type Json, UUID_V4, waitUntil } from "./testing.ts";

const UNAUTHENTICATED = {
  error: { type: "unauthenticated", title: "Unauthenticated" },
  status: "error",
  status_message: "unauthenticated",
};
const NOT_FOUND = {
  error: { type: "resource_not_found", title: "The requested resource could not be found" },
  status: "error",
  status_message: "resource_not_found",
};
const MAGIC: Record<string, { type: string; check: (b: Uint8Array) => boolean }> = {
  png: { type: "image/png", check: (b) => b[0] === 0x89 && String.fromCharCode(...b.slice(1, 4)) === "PNG" },
  jpg: { type: "image/jpeg", check: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  webp: {
    type: "image/webp",
    check: (b) =>
      String.fromCharCode(...b.slice(0, 4)) === "RIFF" && String.fromCharCode(...b.slice(8, 12)) === "WEBP",
  },
};

let sim: RunningSimulator;
let api: string;

const enqueue = (body: Json, key?: string) => http(`${api}/ai/queue`, { body, key });
const getGen = (id: string) => http(`${api}/ai/queue/${id}`);
const waitStatus = (id: string, status: string) =>
  waitUntil(async () => {
    const res = await getGen(id);
    return res.body?.status === status && res.body;
  });

function expectInvalidParams(res: { status: number; body: Json }): void {
  expect(res.status).toBe(400);
  expect(res.body).toEqual({
    error: { type: "invalid_params", title: expect.any(String), detail: expect.any(String) },
    status: "error",
    status_message: "invalid_params",
  });
}

beforeAll(async () => {
  sim = await startSimulator({
    apiKeys: ["sim_dev_key", "sim_other_key"],
    queuedMs: 30,
    processingMs: 60,
    noiseEveryMs: 0,
  });
  api = sim.baseUrl;
});
afterAll(() => sim?.close());
beforeEach(() => sim.sim.reset());

describe("auth", () => {
  it("answers 401 unauthenticated without a valid bearer key, on every /api route", async () => {
    for (const key of [null, "wrong_key", ""]) {
      const res = await enqueue(EDIT_REQUEST, key as string);
      expect(res.status).toBe(401);
      expect(res.body).toEqual(UNAUTHENTICATED);
    }
    const basic = await fetch(`${api}/ai/queue`, { headers: { authorization: "Basic sim_dev_key" } });
    expect(basic.status).toBe(401);
    expect((await http(`${api}/no/such/route`, { key: null })).status).toBe(401);
    expect((await http(`${api}/events`, { key: null })).body).toEqual(UNAUTHENTICATED);
  });

  it("accepts every configured key", async () => {
    expect((await enqueue(EDIT_REQUEST, "sim_other_key")).status).toBe(200);
    expect((await http(`${api}/ai/queue`, { key: "sim_dev_key" })).status).toBe(200);
  });
});

describe("POST /ai/queue", () => {
  it("enqueues one generation by default", async () => {
    const res = await enqueue(EDIT_REQUEST);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      generations: [{ generation_id: expect.stringMatching(UUID_V4), status: "queued" }],
    });
  });

  it("enqueues num_generations: 3 as three distinct generations", async () => {
    const res = await enqueue({ ...EDIT_REQUEST, num_generations: 3 });
    expect(res.status).toBe(200);
    const ids = res.body.generations.map((g: Json) => g.generation_id);
    expect(new Set(ids).size).toBe(3);
    for (const g of res.body.generations)
      expect(g).toEqual({ generation_id: expect.stringMatching(UUID_V4), status: "queued" });
  });

  it("rejects num_generations outside 1..4 with invalid_params", async () => {
    for (const n of [0, 5, 2.5, "2", -1])
      expectInvalidParams(await enqueue({ ...EDIT_REQUEST, num_generations: n }));
    expect((await http(`${sim.url}/_control/state`)).body.generations).toHaveLength(0);
  });

  it("answers an unknown model with the model-not-found envelope", async () => {
    const res = await enqueue({ ...EDIT_REQUEST, model: "bad-model" });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { message: "Model not found: bad-model" } });
  });

  it("rejects a text-only model, a missing model and malformed JSON with invalid_params", async () => {
    expectInvalidParams(await enqueue({ model: "llama-3.1-8b-instruct", prompt: "hi" }));
    expectInvalidParams(await enqueue({ prompt: "no model" }));
    expectInvalidParams(await http(`${api}/ai/queue`, { raw: '{"model": "qwen-image-edit-2511",' }));
    expectInvalidParams(await http(`${api}/ai/queue`, { raw: "[1,2]" }));
  });

  it("accepts bad model parameters and fails the job later with a clear error_message", async () => {
    const cases: [Json, RegExp][] = [
      [{ ...EDIT_REQUEST, aspect_ratio: "5:4" }, /aspect_ratio.*5:4.*one of 1:1, 16:9/],
      [{ ...EDIT_REQUEST, output_format: "gif" }, /output_format.*gif/],
      [
        { model: "qwen-image-edit-2511", input_image: EDIT_REQUEST.input_image },
        /Missing required parameter: prompt/,
      ],
      [{ model: "qwen-image-edit-2511", prompt: "x" }, /Missing required parameter: input_image/],
      [{ ...EDIT_REQUEST, input_image: "https://example.com/a.png" }, /input_image: expected an array/],
      [
        { ...EDIT_REQUEST, model: "flux-kontext-dev", input_image: "x.png", guidance_scale: 3 },
        /input_image/,
      ],
      [
        {
          ...EDIT_REQUEST,
          model: "flux-kontext-dev",
          input_image: "https://e.com/a.png",
          guidance_scale: 11,
        },
        /guidance_scale/,
      ],
    ];
    const ids: string[] = [];
    for (const [body] of cases) {
      const res = await enqueue(body);
      expect(res.status).toBe(200);
      ids.push(res.body.generations[0].generation_id);
    }
    for (const [i, [, pattern]] of cases.entries()) {
      const gen = await waitStatus(ids[i] as string, "failed");
      expect(gen.error_message).toMatch(pattern);
      expect(gen.result_url).toBeNull();
      expect(gen.completed_at).toEqual(expect.any(Number));
    }
  });

  it("answers 402 insufficient_credits once credits run out, all or nothing", async () => {
    sim.sim.configure({ credits: 2 });
    expect((await enqueue({ ...EDIT_REQUEST, num_generations: 3 })).status).toBe(402);
    expect((await enqueue({ ...EDIT_REQUEST, num_generations: 2 })).status).toBe(200);
    const res = await enqueue(EDIT_REQUEST);
    expect(res.status).toBe(402);
    expect(res.body).toEqual({
      error: { type: "insufficient_credits", title: "Insufficient credits" },
      status: "error",
      status_message: "insufficient_credits",
    });
  });

  it('answers "processing" when imitating an older deployment (enqueueStatus)', async () => {
    sim.sim.configure({ enqueueStatus: "processing", autoComplete: false });
    const res = await enqueue(EDIT_REQUEST);
    expect(res.body.generations[0].status).toBe("processing");
    const gen = (await getGen(res.body.generations[0].generation_id)).body;
    expect(gen.status).toBe("processing");
    expect(gen.started_at).toEqual(expect.any(Number));
  });
});

describe("GET /ai/queue/{id}", () => {
  it("shows the generation in each state with parameters echoed and defaults applied", async () => {
    sim.sim.configure({ autoComplete: false });
    const id = (await enqueue({ ...EDIT_REQUEST, aspect_ratio: "1:1", seed: 7 })).body.generations[0]
      .generation_id;

    const queued = (await getGen(id)).body;
    expect(queued).toEqual({
      generation_id: id,
      model_name: "qwen-image-edit-2511",
      prompt: "Add a funny hat",
      media_type: "image",
      status: "queued",
      result_url: null,
      error_message: null,
      enqueued_at: expect.any(Number),
      started_at: null,
      completed_at: null,
      input_image: EDIT_REQUEST.input_image,
      aspect_ratio: "1:1",
      negative_prompt: " ",
      output_format: "png",
      seed: 7,
    });
    expect(Math.abs(queued.enqueued_at - Date.now() / 1000)).toBeLessThan(5);

    const processing = await waitStatus(id, "processing");
    expect(processing.started_at).toBeGreaterThanOrEqual(queued.enqueued_at);
    expect(processing.result_url).toBeNull();
    expect(processing.completed_at).toBeNull();

    expect(
      (await http(`${sim.url}/_control/generations/${id}/finish`, { body: { status: "succeeded" } })).status,
    ).toBe(200);
    const done = (await getGen(id)).body;
    expect(done.status).toBe("succeeded");
    expect(done.completed_at).toBeGreaterThanOrEqual(processing.started_at);
    expect(done.result_url).toMatch(
      new RegExp(`^${sim.url}/files/${id}\\.png\\?.*X-Amz-Expires=3600.*X-Amz-Signature=[0-9a-f]{64}`),
    );
  });

  it("runs queued -> processing -> succeeded on its own", async () => {
    const id = (await enqueue(EDIT_REQUEST)).body.generations[0].generation_id;
    const done = await waitStatus(id, "succeeded");
    expect(done.completed_at - done.started_at).toBeGreaterThanOrEqual(0.05);
    expect(done.started_at - done.enqueued_at).toBeGreaterThanOrEqual(0.02);
  });

  it("answers 404 resource_not_found for an unknown id", async () => {
    const res = await getGen("00000000-0000-4000-8000-000000000000");
    expect(res.status).toBe(404);
    expect(res.body).toEqual(NOT_FOUND);
  });

  it("answers 404 for a finished job with legacy404AfterFinish", async () => {
    sim.sim.configure({ legacy404AfterFinish: true, autoComplete: false });
    const id = (await enqueue(EDIT_REQUEST)).body.generations[0].generation_id;
    expect((await getGen(id)).status).toBe(200);
    sim.sim.finish(id, "succeeded");
    const res = await getGen(id);
    expect(res.status).toBe(404);
    expect(res.body).toEqual(NOT_FOUND);
  });
});

describe("GET /ai/queue", () => {
  it("lists active generations by default and filters by status, model, media_type and namespace", async () => {
    sim.sim.configure({ autoComplete: false });
    const a = (await enqueue({ ...EDIT_REQUEST, num_generations: 2 })).body.generations.map(
      (g: Json) => g.generation_id,
    );
    const flux = {
      ...EDIT_REQUEST,
      model: "flux-kontext-dev",
      input_image: "https://e.com/a.png",
      target_namespace: "team-a",
    };
    const b = (await enqueue(flux)).body.generations[0].generation_id;

    const all = (await http(`${api}/ai/queue`)).body;
    expect(all.count).toBe(3);
    expect(all.generations.map((g: Json) => g.generation_id).sort()).toEqual([...a, b].sort());
    expect(all.generations[0].status).toMatch(/queued|processing/);

    expect((await http(`${api}/ai/queue?model=flux-kontext-dev`)).body.count).toBe(1);
    expect((await http(`${api}/ai/queue?namespace=team-a`)).body.generations[0].generation_id).toBe(b);
    expect((await http(`${api}/ai/queue?media_type=video`)).body).toEqual({ count: 0, generations: [] });

    sim.sim.finish(a[0], "succeeded");
    expect((await http(`${api}/ai/queue`)).body.count).toBe(2);
    const succeeded = (await http(`${api}/ai/queue?status=succeeded`)).body;
    expect(succeeded.count).toBe(1);
    expect(succeeded.generations[0]).toMatchObject({ generation_id: a[0], status: "succeeded" });
    expectInvalidParams(await http(`${api}/ai/queue?status=done`));
  });
});

describe("DELETE /ai/queue/{id}", () => {
  it("cancels a queued generation (double l) and is a no-op on finished ones", async () => {
    const id = (await enqueue(EDIT_REQUEST)).body.generations[0].generation_id;
    const res = await http(`${api}/ai/queue/${id}`, { method: "DELETE" });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "success", generation_id: id });
    const gen = (await getGen(id)).body;
    expect(gen.status).toBe("cancelled");
    expect(gen.completed_at).toEqual(expect.any(Number));
    expect((await http(`${api}/ai/queue/${id}`, { method: "DELETE" })).body).toEqual({
      status: "success",
      generation_id: id,
    });

    const done = (await enqueue(EDIT_REQUEST)).body.generations[0].generation_id;
    await waitStatus(done, "succeeded");
    const again = await http(`${api}/ai/queue/${done}`, { method: "DELETE" });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ status: "success", generation_id: done });
    expect((await getGen(done)).body.status).toBe("succeeded");
  });

  it("cancels a processing generation and answers 404 for an unknown id", async () => {
    sim.sim.configure({ autoComplete: false });
    const id = (await enqueue(EDIT_REQUEST)).body.generations[0].generation_id;
    await waitStatus(id, "processing");
    await http(`${api}/ai/queue/${id}`, { method: "DELETE" });
    expect((await getGen(id)).body.status).toBe("cancelled");
    const res = await http(`${api}/ai/queue/nope`, { method: "DELETE" });
    expect(res.status).toBe(404);
    expect(res.body).toEqual(NOT_FOUND);
  });
});

describe("result files", () => {
  it("serves a real image of the requested format without auth", async () => {
    for (const format of ["png", "jpg", "webp"]) {
      const id = (await enqueue({ ...EDIT_REQUEST, output_format: format })).body.generations[0]
        .generation_id;
      const { result_url } = await waitStatus(id, "succeeded");
      expect(result_url).toContain(`/files/${id}.${format}?`);
      const res = await fetch(result_url);
      expect(res.status).toBe(200);
      const spec = MAGIC[format];
      expect(res.headers.get("content-type")).toBe(spec?.type);
      expect(spec?.check(new Uint8Array(await res.arrayBuffer()))).toBe(true);
    }
  });

  it("refuses a tampered signature and an unknown file like an object store", async () => {
    const id = (await enqueue(EDIT_REQUEST)).body.generations[0].generation_id;
    const { result_url } = await waitStatus(id, "succeeded");
    const tampered = await fetch(result_url.replace(/X-Amz-Signature=[0-9a-f]/, "X-Amz-Signature=g"));
    expect(tampered.status).toBe(403);
    expect((await fetch(`${sim.url}/files/${crypto.randomUUID()}.png`)).status).toBe(404);
  });

  it("presigned links expire after their TTL", () => {
    const presigner = createPresigner(() => 60);
    const url = new URL(presigner.url("http://x", "a.png", Date.UTC(2026, 0, 1)));
    expect(presigner.verify("a.png", url.searchParams, Date.UTC(2026, 0, 1, 0, 0, 59))).toBe("ok");
    expect(presigner.verify("a.png", url.searchParams, Date.UTC(2026, 0, 1, 0, 1, 1))).toBe("expired");
    expect(presigner.verify("b.png", url.searchParams, Date.UTC(2026, 0, 1))).toBe("invalid");
  });
});

describe("GET /ai/models/{id}", () => {
  it("returns the model with its request_schema (required, defaults, enums)", async () => {
    const res = await http(`${api}/ai/models/qwen-image-edit-2511`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: "qwen-image-edit-2511",
      name: expect.any(String),
      media_type: "image",
    });
    const schema = res.body.request_schema;
    expect(schema.required).toEqual(["prompt", "input_image"]);
    expect(schema.properties.prompt).toMatchObject({ type: "string", default: "Add a funny hat" });
    expect(schema.properties.input_image).toMatchObject({ type: "array", items: { type: "string" } });
    expect(schema.properties.aspect_ratio).toMatchObject({
      default: "16:9",
      enum: ["1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3"],
    });
    expect(schema.properties.negative_prompt.default).toBe(" ");
    expect(schema.properties.output_format).toMatchObject({ default: "png", enum: ["webp", "jpg", "png"] });

    const flux = (await http(`${api}/ai/models/flux-kontext-dev`)).body;
    expect(flux.request_schema.properties.guidance_scale).toMatchObject({ type: "number", default: 2.5 });
    expect(flux.request_schema.properties.input_image.type).toBe("string");
    expect((await http(`${api}/ai/models/llama-3.1-8b-instruct`)).body.media_type).toBe("text");
  });

  it("answers 404 Model not found for an unknown id and can use json_request_schema", async () => {
    const res = await http(`${api}/ai/models/bad-model`);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { message: "Model not found: bad-model" } });
    sim.sim.configure({ modelSchemaKey: "json_request_schema" });
    const model = (await http(`${api}/ai/models/qwen-image-edit-2511`)).body;
    expect(model.json_request_schema.required).toEqual(["prompt", "input_image"]);
    expect(model.request_schema).toBeUndefined();
  });
});

describe("POST /ai/images/edit", () => {
  it("answers synchronously with a url or with b64_json", async () => {
    sim.sim.configure({ syncMs: 10 });
    const res = await http(`${api}/ai/images/edit`, { body: { ...EDIT_REQUEST, output_format: "jpg" } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      model: "qwen-image-edit-2511",
      created: expect.any(Number),
      images: [{ url: expect.any(String) }],
    });
    expect(Number.isInteger(res.body.created)).toBe(true);
    const image = await fetch(res.body.images[0].url);
    expect(image.headers.get("content-type")).toBe("image/jpeg");

    const b64 = await http(`${api}/ai/images/edit`, {
      body: { ...EDIT_REQUEST, response_format: "b64_json" },
    });
    expect(b64.body.images).toEqual([{ b64_json: expect.any(String) }]);
    const bytes = Uint8Array.from(atob(b64.body.images[0].b64_json), (c) => c.charCodeAt(0));
    expect(MAGIC.png?.check(bytes)).toBe(true);
  });

  it("rejects invalid parameters with 400 invalid_params", async () => {
    sim.sim.configure({ syncMs: 0 });
    expectInvalidParams(
      await http(`${api}/ai/images/edit`, { body: { ...EDIT_REQUEST, aspect_ratio: "5:4" } }),
    );
    expectInvalidParams(
      await http(`${api}/ai/images/edit`, { body: { ...EDIT_REQUEST, response_format: "xml" } }),
    );
    expectInvalidParams(await http(`${api}/ai/images/edit`, { body: { model: "qwen-image-edit-2511" } }));
    expect((await http(`${api}/ai/images/edit`, { body: { ...EDIT_REQUEST, model: "nope" } })).status).toBe(
      404,
    );
  });
});

it("answers unknown /api routes with the resource_not_found envelope", async () => {
  for (const [method, path] of [
    ["GET", "/nope"],
    ["PUT", "/ai/queue"],
    ["GET", ""],
  ] as const) {
    const res = await http(`${api}${path}`, { method });
    expect(res.status).toBe(404);
    expect(res.body).toEqual(NOT_FOUND);
  }
});
