import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type RunningSimulator, startSimulator } from "./server.ts";
import { EDIT_REQUEST, http, waitUntil } from "./testing.ts";

// fetchInputs (the simulator GETs each http(s) input_image, as Oxen must) and expiring result links.
let sim: RunningSimulator;
let api: string;
let images: Server;
let imagesUrl: string;
const hits: string[] = [];
// A PNG signature and filler: what is checked is that the bytes arrived, not that they decode.
const BODY = Buffer.concat([Buffer.from("89504e470d0a1a0a", "hex"), Buffer.alloc(40_000, 7)]);
const control = (path: string, body?: unknown, method?: string) =>
  http(`${sim.url}/_control${path}`, { body, method, key: null });

beforeAll(async () => {
  images = createServer((req, res) => {
    hits.push(req.url ?? "");
    if (req.url?.startsWith("/ok.png")) {
      res.writeHead(200, { "content-type": "image/png", "content-length": BODY.length });
      res.end(BODY);
    } else if (req.url?.startsWith("/slow.png")) {
      setTimeout(() => res.writeHead(200, { "content-type": "image/png" }).end(BODY), 300);
    } else {
      res.writeHead(403, { "content-type": "application/xml" }).end("<Error>AccessDenied</Error>");
    }
  });
  await new Promise<void>((resolve) => images.listen(0, "127.0.0.1", resolve));
  imagesUrl = `http://127.0.0.1:${(images.address() as AddressInfo).port}`;
  sim = await startSimulator({ queuedMs: 10, processingMs: 20, noiseEveryMs: 0 });
  api = sim.baseUrl;
});
afterAll(async () => {
  await sim?.close();
  images.closeAllConnections();
  await new Promise((r) => images.close(r));
});
beforeEach(() => {
  sim.sim.reset();
  hits.length = 0;
});

const enqueue = async (input_image: unknown, extra: object = {}) => {
  const res = await http(`${api}/ai/queue`, { body: { ...EDIT_REQUEST, input_image, ...extra } });
  expect(res.status).toBe(200);
  return res.body.generations.map((g: { generation_id: string }) => g.generation_id) as string[];
};
const settled = (id: string) =>
  waitUntil(async () => {
    const g = (await http(`${api}/ai/queue/${id}`)).body;
    return ["succeeded", "failed"].includes(g.status) ? g : null;
  });

describe("fetchInputs", () => {
  it("is off by default: nothing is fetched and nothing is recorded", async () => {
    expect((await control("/config")).body.fetchInputs).toBe(false);
    const [id] = await enqueue([`${imagesUrl}/ok.png`]);
    expect((await settled(id!)).status).toBe("succeeded");
    expect(hits).toEqual([]);
    expect(sim.sim.inputFetches(id!)).toBeUndefined();
    expect((await control("/state")).body.inputFetches).toEqual({});
    expect((await control(`/generations/${id}/inputs`)).status).toBe(409);
  });

  it("fetches every http(s) input once per request and records status, bytes, type and sha256 per generation", async () => {
    await control("/config", { fetchInputs: true });
    const tiny = "data:image/png;base64,iVBORw0KGgo=";
    const ids = await enqueue([`${imagesUrl}/ok.png?sig=abc`, tiny, `${imagesUrl}/ok.png?b`], {
      num_generations: 2,
    });
    for (const id of ids) expect((await settled(id)).status).toBe("succeeded");
    expect(hits.sort()).toEqual(["/ok.png?b", "/ok.png?sig=abc"]);
    const expected = {
      status: 200,
      ok: true,
      bytes: BODY.length,
      content_type: "image/png",
      sha256: createHash("sha256").update(BODY).digest("hex"),
      error: null,
      at_ms: expect.any(Number),
    };
    for (const id of ids) {
      expect(sim.sim.inputFetches(id)).toEqual([
        { url: `${imagesUrl}/ok.png?sig=abc`, ...expected },
        { url: `${imagesUrl}/ok.png?b`, ...expected },
      ]);
      const res = await control(`/generations/${id}/inputs`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ generation_id: id, fetches: sim.sim.inputFetches(id) });
    }
    expect(Object.keys((await control("/state")).body.inputFetches).sort()).toEqual([...ids].sort());
    expect((await control("/generations/nope/inputs")).status).toBe(404);
  });

  it("fails a job whose input answers non-2xx, with an Oxen-style error_message and event", async () => {
    await control("/config", { fetchInputs: true });
    const [id] = await enqueue([`${imagesUrl}/ok.png`, `${imagesUrl}/gone.png?X-Amz-Signature=secret`]);
    const gen = await settled(id!);
    expect(gen).toMatchObject({ status: "failed", result_url: null });
    expect(gen.error_message).toBe(
      `Invalid input_image: could not download ${imagesUrl}/gone.png (HTTP 403)`,
    );
    expect(gen.error_message).not.toContain("secret");
    expect(sim.sim.completionFor(id!)).toMatchObject({ status: "failed", error: gen.error_message });
    expect(sim.sim.inputFetches(id!)?.map((f) => [f.status, f.ok])).toEqual([
      [200, true],
      [403, false],
    ]);
  });

  it("fails a job whose input cannot be reached at all", async () => {
    await control("/config", { fetchInputs: true });
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const [id] = await enqueue([`http://127.0.0.1:${port}/x.png`]);
    const gen = await settled(id!);
    expect(gen.status).toBe("failed");
    expect(gen.error_message).toMatch(
      new RegExp(`^Invalid input_image: could not download http://127\\.0\\.0\\.1:${port}/x\\.png \\(.+\\)$`),
    );
    expect(sim.sim.inputFetches(id!)).toEqual([
      expect.objectContaining({ status: null, ok: false, bytes: 0, error: expect.any(String) }),
    ]);
  });

  it("does not finish a job before its inputs have arrived", async () => {
    await control("/config", { fetchInputs: true, processingMs: 0, queuedMs: 0 });
    const started = Date.now();
    const [id] = await enqueue([`${imagesUrl}/slow.png`]);
    await new Promise((r) => setTimeout(r, 100));
    expect((await http(`${api}/ai/queue/${id}`)).body.status).toBe("processing");
    expect((await settled(id!)).status).toBe("succeeded");
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    expect(sim.sim.inputFetches(id!)?.[0]).toMatchObject({ status: 200, bytes: BODY.length });
  });

  it("keeps a model-parameter failure ahead of the fetch, and a cancel wins over a pending fetch", async () => {
    await control("/config", { fetchInputs: true });
    const [bad] = await enqueue([`${imagesUrl}/gone.png`], { aspect_ratio: "7:5" });
    expect((await settled(bad!)).error_message).toMatch(/aspect_ratio/);

    const [slow] = await enqueue([`${imagesUrl}/slow.png`]);
    expect((await http(`${api}/ai/queue/${slow}`, { method: "DELETE" })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 400));
    expect((await http(`${api}/ai/queue/${slow}`)).body.status).toBe("cancelled");
    expect(sim.sim.snapshot().log.map((r) => r.generation_id)).toEqual([bad]);
  });
});

describe("POST /_control/files/expire", () => {
  it("makes every result link handed out so far answer 403 expired; a fresh link works", async () => {
    const [id] = await enqueue([`${imagesUrl}/ok.png`]);
    const gen = await settled(id!);
    const event = sim.sim.completionFor(id!);
    for (const url of [gen.result_url, event?.url]) expect((await fetch(url)).status).toBe(200);

    expect((await control("/files/expire", undefined, "POST")).body).toEqual({ ok: true });
    for (const url of [gen.result_url, event?.url]) {
      const res = await fetch(url);
      expect(res.status).toBe(403);
      expect(await res.text()).toContain("Request has expired");
    }
    // Re-reading the generation presigns again, as Oxen does.
    const fresh = (await http(`${api}/ai/queue/${id}`)).body.result_url;
    expect(fresh).not.toBe(gen.result_url);
    const res = await fetch(fresh);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/png");
    // A forged signature is still told apart from an expired one.
    const forged = await fetch(fresh.replace(/X-Amz-Signature=[0-9a-f]/, "X-Amz-Signature=z"));
    expect(forged.status).toBe(403);
    expect(await forged.text()).toContain("SignatureDoesNotMatch");
  });
});
