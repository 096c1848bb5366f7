import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { call, hookUrl, newClient, outboxIdle, received, receiver, sim, uniquePath, until } from "./helpers";

const body = (extra: Record<string, unknown> = {}) => ({
  prompt: "Add a funny hat",
  input_image: ["https://example.com/a.png"],
  ...extra,
});

async function waitTerminal(token: string, id: string) {
  return until(async () => {
    const res = await call("GET", `/v1/edits/${id}`, { token });
    return ["succeeded", "failed", "cancelled"].includes(res.body.status) ? res.body : null;
  });
}

describe("POST /v1/edits", () => {
  it("rejects bad input with every issue listed, and never a 500", async () => {
    const { api_key } = await newClient();
    const res = await call("POST", "/v1/edits", {
      token: api_key,
      body: { input_image: [], aspect_ratio: "5:4", num_generations: 5, bogus: true },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.type).toBe("invalid_request");
    const paths = res.body.error.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining(["prompt", "input_image", "aspect_ratio", "num_generations"]),
    );
    expect(res.body.error.issues.some((i: { message: string }) => /bogus/.test(i.message))).toBe(true);
    // Whether a model exists is Oxen's to say: an unknown one is a 400 on `model`.
    const unknown = await call("POST", "/v1/edits", {
      token: api_key,
      body: body({ model: "no-such-model" }),
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.issues).toEqual([{ path: "model", message: "unknown model: no-such-model" }]);
    const malformed = await call("POST", "/v1/edits", {
      token: api_key,
      raw: '{"prompt":',
      headers: { "content-type": "application/json" },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.type).toBe("invalid_json");
    expect(
      (
        await call("POST", "/v1/edits", {
          token: api_key,
          raw: "x",
          headers: { "content-type": "text/plain" },
        })
      ).status,
    ).toBe(415);
    expect((await call("POST", "/v1/edits", { body: body() })).status).toBe(401);
    expect((await call("POST", "/v1/edits", { token: "sk_wrong", body: body() })).status).toBe(401);
  });

  it("rejects a webhook URL with credentials", async () => {
    const { api_key } = await newClient();
    const res = await call("POST", "/v1/edits", {
      token: api_key,
      body: body({ webhook: "http://u:p@127.0.0.1/h" }),
    });
    expect(res.status).toBe(400);
    expect(res.body.error.issues[0].path).toBe("webhook");
  });

  it("enqueues, then delivers a signed edit.succeeded webhook and serves the terminal edit", async () => {
    const client = await newClient();
    const path = uniquePath("ok");
    const res = await call("POST", "/v1/edits", {
      token: client.api_key,
      body: body({ webhook: hookUrl(path), metadata: { order: "1234" } }),
    });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({
      object: "edit",
      status: "queued",
      model: "qwen-image-edit-2511",
      input: { aspect_ratio: "16:9", negative_prompt: " ", output_format: "png", num_generations: 1 },
      metadata: { order: "1234" },
      error: null,
      completed_at: null,
    });
    expect(res.body.outputs).toHaveLength(1);

    const [hook] = await until(async () => {
      const r = await received(path);
      return r.length > 0 ? r : null;
    });
    const verified = new Webhook(client.webhook_secret).verify(hook!.body, hook!.headers) as any;
    expect(verified.type).toBe("edit.succeeded");
    expect(verified.data.id).toBe(res.body.id);
    expect(verified.data.outputs[0].url).toMatch(/^http/);
    expect(hook!.headers["user-agent"]).toMatch(/^oxen-edit-relay\//);
    expect(hook!.headers["content-type"]).toBe("application/json");
    expect(hook!.headers["webhook-id"]).toMatch(/^msg_/);

    const final = await waitTerminal(client.api_key, res.body.id);
    expect(final.status).toBe("succeeded");
    expect(final.completed_at).not.toBeNull();
    expect(final.outputs[0].status).toBe("succeeded");
  });

  it("reports a generation that fails at run time as edit.failed with Oxen's message", async () => {
    const client = await newClient();
    const path = uniquePath("fail");
    await sim("/config", { autoComplete: false });
    try {
      const res = await call("POST", "/v1/edits", {
        token: client.api_key,
        body: body({ webhook: hookUrl(path) }),
      });
      expect(res.status).toBe(202);
      const gen = res.body.outputs[0].generation_id;
      await sim(`/generations/${gen}/finish`, { status: "failed", error: "Image could not be downloaded" });
      const [hook] = await until(async () => ((await received(path)).length ? received(path) : null));
      const payload = JSON.parse(hook!.body);
      expect(payload.type).toBe("edit.failed");
      expect(payload.data.error).toEqual({ message: "Image could not be downloaded" });
      const final = await waitTerminal(client.api_key, res.body.id);
      expect(final.status).toBe("failed");
    } finally {
      await sim("/config", { autoComplete: true });
    }
  });

  it("tracks num_generations: 3 and sends one event when all are done", async () => {
    const client = await newClient();
    const path = uniquePath("three");
    const res = await call("POST", "/v1/edits", {
      token: client.api_key,
      body: body({ num_generations: 3, webhooks: [{ url: hookUrl(path), events: ["edit.succeeded"] }] }),
    });
    expect(res.status).toBe(202);
    expect(res.body.outputs).toHaveLength(3);
    const final = await waitTerminal(client.api_key, res.body.id);
    expect(final.outputs.map((o: { status: string }) => o.status)).toEqual([
      "succeeded",
      "succeeded",
      "succeeded",
    ]);
    const hooks = await until(async () => ((await received(path)).length ? received(path) : null));
    await new Promise((r) => setTimeout(r, 300));
    expect(await received(path)).toHaveLength(1);
    expect(JSON.parse(hooks[0]!.body).data.outputs).toHaveLength(3);
  });

  it("retries a failed delivery with the same webhook-id", async () => {
    const client = await newClient();
    const path = uniquePath("retry");
    await receiver("/script", { path, replies: [{ status: 500 }, { status: 0 }, { status: 204 }] });
    const res = await call("POST", "/v1/edits", {
      token: client.api_key,
      body: body({ webhook: hookUrl(path) }),
    });
    const hooks = await until(async () => {
      const r = await received(path);
      return r.length >= 3 ? r : null;
    });
    expect(hooks.map((h) => h.answered)).toEqual([500, 0, 204]);
    expect(new Set(hooks.map((h) => h.headers["webhook-id"])).size).toBe(1);
    // The schedule under test is "1,1,1" seconds with ±20% jitter.
    expect(hooks[1]!.at - hooks[0]!.at).toBeGreaterThanOrEqual(750);
    for (const h of hooks)
      expect(() => new Webhook(client.webhook_secret).verify(h.body, h.headers)).not.toThrow();
    await outboxIdle(res.body.id);
    expect(await received(path)).toHaveLength(3);
  });

  it("does not send events a webhook did not subscribe to", async () => {
    const client = await newClient();
    const path = uniquePath("filtered");
    const res = await call("POST", "/v1/edits", {
      token: client.api_key,
      body: body({ webhooks: [{ url: hookUrl(path), events: ["edit.failed"] }] }),
    });
    await waitTerminal(client.api_key, res.body.id);
    await outboxIdle(res.body.id);
    expect(await received(path)).toHaveLength(0);
  });
});

describe("GET /v1/edits", () => {
  it("hides other clients' edits and unknown ids behind 404", async () => {
    const a = await newClient("a");
    const b = await newClient("b");
    const res = await call("POST", "/v1/edits", { token: a.api_key, body: body() });
    expect((await call("GET", `/v1/edits/${res.body.id}`, { token: a.api_key })).status).toBe(200);
    const other = await call("GET", `/v1/edits/${res.body.id}`, { token: b.api_key });
    expect(other.status).toBe(404);
    expect(other.body.error.type).toBe("not_found");
    expect((await call("GET", "/v1/edits/edit_0000000000000000000000", { token: a.api_key })).status).toBe(
      404,
    );
    expect((await call("GET", "/v1/edits/whatever", { token: a.api_key })).status).toBe(404);
    const listB = await call("GET", "/v1/edits", { token: b.api_key });
    expect(listB.body.data).toEqual([]);
  });

  it("lists newest first with cursor paging and a status filter", async () => {
    const client = await newClient();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await call("POST", "/v1/edits", {
        token: client.api_key,
        body: body({ metadata: { i: String(i) } }),
      });
      ids.push(res.body.id);
      await new Promise((r) => setTimeout(r, 5));
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
      const page = await call("GET", `/v1/edits?limit=2${q}`, { token: client.api_key });
      expect(page.status).toBe(200);
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.data.map((e: { id: string }) => e.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());

    await Promise.all(ids.map((id) => waitTerminal(client.api_key, id)));
    const done = await until(async () => {
      const page = await call("GET", "/v1/edits?status=succeeded&limit=100", { token: client.api_key });
      return page.body.data.length === 5 ? page.body.data : null;
    });
    expect(done.every((e: { status: string }) => e.status === "succeeded")).toBe(true);
    const queued = await call("GET", "/v1/edits?status=queued", { token: client.api_key });
    expect(queued.body.data).toEqual([]);
    expect((await call("GET", "/v1/edits?limit=1000", { token: client.api_key })).status).toBe(400);
    expect((await call("GET", "/v1/edits?status=weird", { token: client.api_key })).status).toBe(400);
  });
});
