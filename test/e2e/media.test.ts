import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Receiver } from "../../tools/local/receiver.ts";
import { startWranglerDev, type WranglerDev } from "../../tools/local/wrangler-dev.ts";
import { imageBytes } from "../../tools/simulator/images.ts";
import { type RunningSimulator, startSimulator } from "../../tools/simulator/server.ts";

// Contract v1.1, "Media and data lifecycle (R2)", black box: the worker under `wrangler dev` with
// its local R2, the simulator as Oxen (fetching inputs as Oxen must), a receiver for webhooks.
// One relay for the whole file, with a 20 s retention: every other test reads its edit well
// inside that.
let sim: RunningSimulator;
let receiver: Receiver;
let relay: WranglerDev;
let key: string;
let secret: string;
const ADMIN = "e2e-media-admin-token-000000000000000000";
const RETENTION_SECONDS = 20;

type Json = any;

beforeAll(async () => {
  sim = await startSimulator({
    apiKeys: ["sim_media_key"],
    queuedMs: 10,
    processingMs: 50,
    autoComplete: false,
    noiseEveryMs: 0,
  });
  receiver = await new Receiver().listen();
  relay = await startWranglerDev({
    vars: {
      OXEN_BASE_URL: sim.baseUrl,
      OXEN_API_KEY: "sim_media_key",
      ADMIN_TOKEN: ADMIN,
      ALLOW_PRIVATE_WEBHOOKS: "true",
      WEBHOOK_RETRY_SCHEDULE: "1,1",
      RETENTION_SECONDS: String(RETENTION_SECONDS),
    },
  });
  const client = await api("POST", "/v1/clients", ADMIN, { name: "media" });
  expect(client.status).toBe(201);
  key = client.body.api_key;
  secret = client.body.webhook_secret;
}, 90_000);

afterAll(async () => {
  await relay?.stop();
  await Promise.all([sim?.close(), receiver?.close()]);
});

async function api(method: string, path: string, token: string, body?: unknown, headers = {}) {
  const res = await fetch(`${relay.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body ? { "content-type": "application/json" } : {}),
      ...headers,
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : null) as Json };
}

const createEdit = (extra: object = {}) =>
  api("POST", "/v1/edits", key, {
    prompt: "Add a funny hat",
    input_image: ["https://example.com/a.png"],
    ...extra,
  });

async function finish(generationId: string, status: "succeeded" | "failed" = "succeeded") {
  const res = await fetch(`${sim.url}/_control/generations/${generationId}/finish`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ status }),
  });
  expect(res.status).toBe(200);
}

/** The edit once terminal (Prefer: wait, so no blind sleep). */
async function terminal(id: string): Promise<Json> {
  const got = await api("GET", `/v1/edits/${id}`, key, undefined, { prefer: "wait=20" });
  expect(got.status).toBe(200);
  expect(["succeeded", "failed", "cancelled"]).toContain(got.body.status);
  return got.body;
}

async function poll<T>(probe: () => Promise<T | null | undefined | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** Replaces one character in the middle of `sig` (the last one may only carry padding bits). */
function forge(url: string): string {
  const u = new URL(url);
  const sig = u.searchParams.get("sig") ?? "";
  const at = Math.floor(sig.length / 2);
  u.searchParams.set("sig", sig.slice(0, at) + (sig[at] === "A" ? "B" : "A") + sig.slice(at + 1));
  return u.toString();
}

/** Reads an SSE body to its end (the relay ends it after the terminal event), at most `timeoutMs`. */
async function readStream(res: Response, timeoutMs = 15_000): Promise<string> {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = "";
  const timer = setTimeout(() => void reader.cancel(), timeoutMs);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return text;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    clearTimeout(timer);
  }
}

const frames = (text: string) =>
  text
    .split("\n\n")
    .filter((b) => b.includes("data: "))
    .map((b) => ({
      event: /^event: (.*)$/m.exec(b)?.[1],
      id: /^id: (.*)$/m.exec(b)?.[1],
      data: /^data: (.*)$/m.exec(b)?.[1] ?? "",
    }));

describe("outputs are copied into R2", () => {
  it("still serves an output after Oxen's link has expired: same bytes, sha256, type, ETag, Cache-Control", async () => {
    receiver.secrets("/out", [secret]);
    const edit = await createEdit({ webhook: `${receiver.url}/out` });
    expect(edit.status).toBe(202);
    await finish(edit.body.outputs[0].generation_id);
    const [hook] = await receiver.waitFor((all) => all.some((r) => r.path === "/out"));
    expect(hook?.verified).toBe(true);
    const payload = JSON.parse(receiver.on("/out")[0]!.body);
    expect(payload.type).toBe("edit.succeeded");
    const out = payload.data.outputs[0];
    const expected = imageBytes("png");
    expect(out).toMatchObject({
      generation_id: edit.body.outputs[0].generation_id,
      status: "succeeded",
      content_type: "image/png",
      bytes: expected.byteLength,
      sha256: sha256(expected),
      error: null,
    });
    expect(out.persisted).toBeUndefined();
    expect(out.url.startsWith(`${relay.url}/v1/files/`)).toBe(true);
    expect(out.url).toMatch(/[?&]exp=\d+&sig=[\w-]+$/);
    expect(out.oxen_url.startsWith(`${sim.url}/files/`)).toBe(true);
    // The edit says the same as the webhook.
    const got = await api("GET", `/v1/edits/${edit.body.id}`, key);
    expect(got.body.outputs[0]).toEqual(out);

    expect((await fetch(`${sim.url}/_control/files/expire`, { method: "POST" })).status).toBe(200);
    const oxen = await fetch(out.oxen_url);
    await oxen.arrayBuffer();
    expect(oxen.status).toBe(403);

    const file = await fetch(out.url);
    expect(file.status).toBe(200);
    const bytes = new Uint8Array(await file.arrayBuffer());
    expect(bytes.byteLength).toBe(out.bytes);
    expect(Buffer.from(bytes).equals(Buffer.from(expected))).toBe(true);
    expect(sha256(bytes)).toBe(out.sha256);
    expect(file.headers.get("content-type")).toMatch(/^image\//);
    expect(file.headers.get("etag")).toBeTruthy();
    expect(file.headers.get("cache-control")).toBeTruthy();
    expect(file.headers.get("access-control-allow-origin")).toBe("*");

    // A conditional GET with the ETag is a 304.
    const again = await fetch(out.url, { headers: { "if-none-match": file.headers.get("etag") as string } });
    await again.arrayBuffer();
    expect(again.status).toBe(304);
  });
});

describe("data: inputs go to R2, and Oxen gets the relay's URL", () => {
  it("round-trips a ~3 MB data:image/png input: Oxen fetches the relay's signed URL and gets the same bytes", async () => {
    sim.sim.configure({ fetchInputs: true });
    try {
      const png = Buffer.concat([
        Buffer.from("89504e470d0a1a0a", "hex"),
        Buffer.alloc(3 * 1024 * 1024 - 8, 0x5a),
      ]);
      const edit = await createEdit({ input_image: [`data:image/png;base64,${png.toString("base64")}`] });
      expect(edit.status).toBe(202);
      const url = edit.body.input.input_image[0];
      expect(url.startsWith(`${relay.url}/v1/files/`)).toBe(true);
      expect(url).toMatch(/[?&]exp=\d+&sig=[\w-]+$/);
      expect(JSON.stringify(edit.body).length).toBeLessThan(10_000);

      const generationId = edit.body.outputs[0].generation_id;
      const fetched = await poll(async () => sim.sim.inputFetches(generationId), 15_000);
      expect(fetched).toEqual([
        expect.objectContaining({
          url,
          status: 200,
          ok: true,
          bytes: png.length,
          content_type: "image/png",
          sha256: sha256(png),
        }),
      ]);
      // The simulator's REST object shows what Oxen was given.
      expect(sim.sim.snapshotGeneration(generationId)?.input_image).toEqual([url]);
      await finish(generationId);
      expect((await terminal(edit.body.id)).status).toBe("succeeded");
      // Anyone with the URL (no key) reads it too.
      const direct = await fetch(url);
      expect(direct.status).toBe(200);
      expect((await direct.arrayBuffer()).byteLength).toBe(png.length);
    } finally {
      sim.sim.configure({ fetchInputs: false });
    }
  });

  it("refuses bad base64 or a non-image data: input with 400 naming input_image.0", async () => {
    const bad = [
      "data:image/png;base64,iVBORw0K=GgoA", // '=' inside: not base64
      "data:image/png;base64,aGVsbG8gd29ybGQ=", // base64 of text, not a PNG
      "data:text/plain;base64,aGVsbG8=",
    ];
    for (const input of bad) {
      const res = await createEdit({ input_image: [input] });
      expect(res.status, input).toBe(400);
      expect(res.body.error.type, input).toEqual(expect.any(String));
      expect(
        res.body.error.issues?.map((i: Json) => i.path),
        input,
      ).toContain("input_image.0");
    }
  });
});

describe("signed URLs", () => {
  it("answers 403 with the error envelope for a forged or expired signature, with CORS on file answers", async () => {
    const edit = await createEdit();
    await finish(edit.body.outputs[0].generation_id);
    const done = await terminal(edit.body.id);
    const url: string = done.outputs[0].url;
    const ok = await fetch(url);
    await ok.arrayBuffer();
    expect(ok.status).toBe(200);

    const expired = new URL(url);
    expired.searchParams.set("exp", String(Math.floor(Date.now() / 1000) - 60));
    for (const target of [forge(url), expired.toString()]) {
      const res = await fetch(target);
      expect(res.status, target).toBe(403);
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
      const body = (await res.json()) as Json;
      expect(body).toEqual({ error: { type: expect.any(String), message: expect.any(String) } });
    }
    // No sig at all: a malformed query (400, as the OpenAPI document says).
    const unsigned = await fetch(url.replace(/&sig=.*$/, ""));
    expect(unsigned.status).toBe(400);
    expect(((await unsigned.json()) as Json).error.type).toEqual(expect.any(String));
    // A signature for one file does not open another.
    const other = url.replace(/\/v1\/files\/([^?]+)/, (_m, k: string) => `/v1/files/${k}x`);
    expect((await fetch(other)).status).toBe(403);
    // CORS preflight: GET only.
    const pre = await fetch(url, {
      method: "OPTIONS",
      headers: { origin: "https://elsewhere.example", "access-control-request-method": "GET" },
    });
    expect(pre.headers.get("access-control-allow-origin")).toBe("*");
    expect(pre.headers.get("access-control-allow-methods")).toBe("GET");
    // Nothing else answers CORS.
    const list = await fetch(`${relay.url}/v1/edits`, {
      headers: { authorization: `Bearer ${key}`, origin: "https://elsewhere.example" },
    });
    await list.arrayBuffer();
    expect(list.headers.get("access-control-allow-origin")).toBeNull();
  });

  // Found by this test (fixed): the 400 for a file URL without `exp`/`sig` (the zod query check, before the handler)
  // had no CORS header, so a browser page could not read why; every other file answer has it.
  it("answers CORS on a file URL with no sig (400) too", async () => {
    const edit = await createEdit();
    await finish(edit.body.outputs[0].generation_id);
    const url: string = (await terminal(edit.body.id)).outputs[0].url;
    for (const target of [url.replace(/&sig=.*$/, ""), url.replace(/\?.*$/, "")]) {
      const res = await fetch(target, { headers: { origin: "https://elsewhere.example" } });
      await res.arrayBuffer();
      expect(res.status, target).toBe(400);
      expect(res.headers.get("access-control-allow-origin"), target).toBe("*");
    }
  });

  it("serves events_url with no key (SSE, CORS) up to the terminal event; a tampered sig is 403", async () => {
    receiver.secrets("/events", [secret]);
    const edit = await createEdit({ webhook: `${receiver.url}/events` });
    const eventsUrl: string = edit.body.events_url;
    expect(eventsUrl.startsWith(`${relay.url}/v1/edits/${edit.body.id}/events?`)).toBe(true);
    expect(eventsUrl).toMatch(/[?&]exp=\d+&sig=[\w-]+$/);

    // Live: opened before the edit ends, it ends after the terminal event.
    const live = await fetch(eventsUrl, { headers: { origin: "https://elsewhere.example" } });
    expect(live.status).toBe(200);
    expect(live.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(live.headers.get("access-control-allow-origin")).toBe("*");
    const reading = readStream(live);
    await finish(edit.body.outputs[0].generation_id);
    const got = frames(await reading);
    expect(got.at(-1)?.event).toBe("edit.succeeded");
    await receiver.waitFor((all) => all.some((r) => r.path === "/events"));
    const hook = receiver.on("/events")[0]!;
    expect(got.at(-1)?.data).toBe(hook.body);
    expect(got.at(-1)?.id).toBe(hook.headers["webhook-id"]);

    // Late: the terminal event at once.
    const late = await fetch(eventsUrl);
    expect(frames(await readStream(late)).at(-1)?.event).toBe("edit.succeeded");

    for (const bad of [forge(eventsUrl), eventsUrl.replace(/exp=\d+/, "exp=1000")]) {
      const res = await fetch(bad);
      expect(res.status, bad).toBe(403);
      expect(((await res.json()) as Json).error.type).toEqual(expect.any(String));
    }
    // Another edit's signature does not open this one.
    const other = await createEdit();
    const crossed = eventsUrl.replace(/\?.*$/, new URL(other.body.events_url).search);
    const res = await fetch(crossed);
    await res.arrayBuffer();
    expect(res.status).toBe(403);
    // Without sig, the route wants a key.
    const bare = await fetch(eventsUrl.replace(/\?.*$/, ""));
    await bare.arrayBuffer();
    expect(bare.status).toBe(401);
  });
});

describe("erasure", () => {
  it("DELETE: 409 while unfinished, 204 once terminal, then 404 everywhere", async () => {
    const edit = await createEdit();
    const id = edit.body.id;
    const unfinished = await api("DELETE", `/v1/edits/${id}`, key);
    expect(unfinished.status).toBe(409);
    expect(unfinished.body.error).toMatchObject({ type: expect.any(String), message: expect.any(String) });
    expect((await api("GET", `/v1/edits/${id}`, key)).status).toBe(200);

    await finish(edit.body.outputs[0].generation_id);
    const done = await terminal(id);
    const fileUrl: string = done.outputs[0].url;
    expect(fileUrl.startsWith(`${relay.url}/v1/files/`)).toBe(true);
    expect((await fetch(fileUrl)).status).toBe(200);

    const other = await api("POST", "/v1/clients", ADMIN, { name: "media-other" });
    expect((await api("DELETE", `/v1/edits/${id}`, other.body.api_key)).status).toBe(404);

    const erased = await api("DELETE", `/v1/edits/${id}`, key);
    expect(erased.status).toBe(204);
    expect(erased.body).toBeNull();
    expect((await api("GET", `/v1/edits/${id}`, key)).status).toBe(404);
    const file = await fetch(fileUrl);
    expect(file.status).toBe(404);
    expect(file.headers.get("access-control-allow-origin")).toBe("*");
    expect(((await file.json()) as Json).error.type).toEqual(expect.any(String));
    const list = await api("GET", "/v1/edits?limit=100", key);
    expect(list.body.data.map((e: Json) => e.id)).not.toContain(id);
    expect((await api("DELETE", `/v1/edits/${id}`, key)).status).toBe(404);
    const events = await fetch(done.events_url);
    await events.arrayBuffer();
    expect(events.status).toBe(404);
  });

  it(`erases an edit RETENTION_SECONDS (${RETENTION_SECONDS} s) after it ended: edit, file and list entry`, async () => {
    const edit = await createEdit();
    const id = edit.body.id;
    await finish(edit.body.outputs[0].generation_id);
    const done = await terminal(id);
    const endedAt = Date.parse(done.completed_at);
    const fileUrl: string = done.outputs[0].url;
    expect((await fetch(fileUrl)).status).toBe(200);
    expect((await api("GET", "/v1/edits?limit=100", key)).body.data.map((e: Json) => e.id)).toContain(id);

    const goneAt = await poll(
      async () => ((await api("GET", `/v1/edits/${id}`, key)).status === 404 ? Date.now() : null),
      (RETENTION_SECONDS + 20) * 1000,
    );
    const after = (goneAt - endedAt) / 1000;
    console.log(`edit erased ${after.toFixed(1)} s after it ended (RETENTION_SECONDS=${RETENTION_SECONDS})`);
    expect(after).toBeGreaterThanOrEqual(RETENTION_SECONDS - 1);
    expect(after).toBeLessThan(RETENTION_SECONDS + 15);
    const file = await fetch(fileUrl);
    await file.arrayBuffer();
    expect(file.status).toBe(404);
    expect((await api("GET", "/v1/edits?limit=100", key)).body.data.map((e: Json) => e.id)).not.toContain(id);
    expect((await api("DELETE", `/v1/edits/${id}`, key)).status).toBe(404);
  }, 60_000);
});
