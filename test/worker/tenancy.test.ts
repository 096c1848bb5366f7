import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import type { StoredClient } from "../../src/clients/store";
import { mergeWebhooks } from "../../src/edits/schema";
import { sha256Hex } from "../../src/lib/crypto";
import { MAX_ATTEMPTS_KEPT, MAX_ERROR_CHARS, Outbox } from "../../src/webhooks/outbox";
import {
  ADMIN,
  call,
  hookUrl,
  outboxIdle,
  received,
  receiver,
  receiverBase,
  sim,
  simBase,
  uniquePath,
  until,
} from "./helpers";

// Contract v1.2: tenants cannot hurt each other, the operator, or a third party.
//
// The failed-authentication limiter counts per CF-Connecting-IP, and a request without the header
// counts as "unknown", which every other test file shares. Every request here therefore carries an
// address of its own test (`ip`), so nothing here can exhaust "unknown" or another test's budget.

let ip = "";
const freshIp = () => {
  const b = crypto.getRandomValues(new Uint8Array(3));
  return `10.${b[0]}.${b[1]}.${b[2]}`;
};

beforeEach(() => {
  ip = freshIp();
});

// One shared simulator: whatever a test steers is put back after it.
afterEach(async () => {
  await fetch(`${simBase()}/_control/faults`, { method: "DELETE" });
  await sim("/config", { autoComplete: true });
});

type CallOpts = Parameters<typeof call>[2] & { ip?: string };
/** `call()` from this test's own address (or `opts.ip`). */
const req = (method: string, path: string, opts: CallOpts = {}) => {
  const { ip: from, ...rest } = opts;
  return call(method, path, { ...rest, headers: { "cf-connecting-ip": from ?? ip, ...rest.headers } });
};

async function client(name = "tenancy", limits?: Record<string, number>) {
  const res = await req("POST", "/v1/clients", {
    token: ADMIN,
    body: { name, ...(limits ? { limits } : {}) },
  });
  if (res.status !== 201) throw new Error(`client create failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string; api_key: string; webhook_secret: string; limits: Record<string, number> };
}

const body = (extra: Record<string, unknown> = {}) => ({
  prompt: `p ${crypto.randomUUID()}`,
  input_image: ["https://example.com/a.png"],
  ...extra,
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const atLeast = (path: string, n: number, timeoutMs = 15_000) =>
  until(async () => {
    const r = await received(path);
    return r.length >= n ? r : null;
  }, timeoutMs);

const deliveries = async (token: string, id: string) =>
  (await req("GET", `/v1/edits/${id}/deliveries`, { token })).body.data as any[];

/** An edit that finished and whose webhook(s) were answered and logged. */
async function deliveredEdit(
  token: string,
  hooks: { path: string; replies?: object[] }[],
  logged = hooks.length,
): Promise<string> {
  for (const h of hooks) if (h.replies) await receiver("/script", { path: h.path, replies: h.replies });
  const [first, ...rest] = hooks;
  const res = await req("POST", "/v1/edits", {
    token,
    body: body({
      webhook: hookUrl(first!.path),
      ...(rest.length ? { webhooks: rest.map((h) => ({ url: hookUrl(h.path) })) } : {}),
    }),
  });
  expect(res.status).toBe(202);
  const id = res.body.id as string;
  await until(async () => ((await deliveries(token, id)).length >= logged ? true : null));
  return id;
}

type SimGeneration = { generation_id: string; status: string; prompt: string | null };
const simGenerations = async () => (await sim("/state")).generations as SimGeneration[];

const finishAll = async (generationIds: string[]) => {
  for (const g of generationIds) await sim(`/generations/${g}/finish`, { status: "succeeded" });
};

/** SSE `data:` payloads of a finished edit's stream (it closes after the terminal event). */
const streamData = (text: string) =>
  text
    .split("\n")
    .filter((l) => l.startsWith("data: "))
    .map((l) => JSON.parse(l.slice(6)));

/** Runs the app with a changed environment, the way the Worker's fetch handler does. */
async function withEnv(request: Request, overrides: Record<string, unknown>) {
  const ctx = createExecutionContext();
  const res = await createApp().fetch(request, { ...env, ...overrides } as Env, ctx);
  const text = await res.text();
  await waitOnExecutionContext(ctx);
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: res.status, body: parsed, headers: res.headers };
}

const jsonRequest = (method: string, path: string, token: string, payload?: unknown) =>
  new Request(`http://relay${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      "cf-connecting-ip": ip,
    },
    body: payload === undefined ? undefined : JSON.stringify(payload),
  });

const issuePaths = (res: { body: any }) =>
  ((res.body?.error?.issues ?? []) as { path: string }[]).map((i) => i.path);

describe("contract v1.2: tenancy", () => {
  it("redelivery is no amplifier: one attempt per URL, one per edit per 60 s, a 410 URL never again", async () => {
    const c = await client();
    // One redelivery: exactly one more POST; a second within 60 s is 429 with Retry-After.
    const ok = uniquePath("redeliver-ok");
    const a = await deliveredEdit(c.api_key, [{ path: ok }]);
    const first = await req("POST", `/v1/edits/${a}/redeliver`, { token: c.api_key });
    expect(first.status).toBe(202);
    await atLeast(ok, 2);
    const again = await req("POST", `/v1/edits/${a}/redeliver`, { token: c.api_key });
    expect(again.status).toBe(429);
    expect(again.body.error.type).toBe("rate_limited");
    const retryAfter = Number(again.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // A refused request is a new trigger, not outbox state: give a send it set off time to show.
    await sleep(2_500);
    expect(await received(ok)).toHaveLength(2);

    // A redelivery answered 500 is one attempt: no schedule follows (the schedule is 1 s).
    const failing = uniquePath("redeliver-500");
    const b = await deliveredEdit(c.api_key, [
      { path: failing, replies: [{ status: 200 }, { status: 500 }] },
    ]);
    expect((await req("POST", `/v1/edits/${b}/redeliver`, { token: c.api_key })).status).toBe(202);
    await atLeast(failing, 2);
    await outboxIdle(b);
    expect(await received(failing)).toHaveLength(2);
    const log = await until(async () => {
      const l = await deliveries(c.api_key, b);
      return l.length >= 2 ? l : null;
    });
    expect(log.map((d) => [d.attempt, d.status_code])).toEqual([
      [1, 200],
      [2, 500],
    ]);
    expect(log[1].next_attempt_at).toBeNull();

    // A URL that answered 410 is never called again, even on a redelivery; its sibling is.
    const gone = uniquePath("redeliver-410");
    const sibling = uniquePath("redeliver-sibling");
    const d = await deliveredEdit(c.api_key, [{ path: gone, replies: [{ status: 410 }] }, { path: sibling }]);
    const r = await req("POST", `/v1/edits/${d}/redeliver`, { token: c.api_key });
    expect(r.status).toBe(202);
    await atLeast(sibling, 2);
    await outboxIdle(d);
    expect(await received(gone)).toHaveLength(1);
    expect(await received(sibling)).toHaveLength(2);
  });

  it("redelivery is no amplifier: 100 per client per hour, then 429 with Retry-After", async () => {
    const c = await client();
    const path = uniquePath("redeliver-hourly");
    const id = await deliveredEdit(c.api_key, [{ path }]);
    const now = Date.now();
    await runInDurableObject(env.CLIENT.getByName(c.id), (_i, state) => {
      for (let i = 0; i < 100; i++) {
        state.storage.sql.exec(
          "INSERT INTO redeliveries (edit_id, at) VALUES (?, ?)",
          `edit_other_${i}`,
          now - 60_000 + i,
        );
      }
    });
    const res = await req("POST", `/v1/edits/${id}/redeliver`, { token: c.api_key });
    expect(res.status).toBe(429);
    expect(res.body.error.type).toBe("rate_limited");
    const retryAfter = Number(res.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(3_600);
    await sleep(1_500);
    expect(await received(path)).toHaveLength(1);
  });

  it("bounded logs: 50 attempts kept per (event, URL), errors cut to 512, pages join to the whole log", async () => {
    const c = await client();
    const path = uniquePath("bounded");
    const id = await deliveredEdit(c.api_key, [{ path }]);
    const long = `x${"y".repeat(2_000)}`;
    await runInDurableObject(env.EDIT.getByName(id), (_i, state) => {
      const outbox = new Outbox(state.storage.sql);
      const [row] = outbox.rows();
      const event = outbox.event(row!.event_id)!;
      for (let i = 0; i < 60; i++) {
        const current = outbox.rows().find((r) => r.event_id === row!.event_id && r.url === row!.url)!;
        const attempt = outbox.begin(current, Date.now() + 60_000);
        outbox.finish(
          current,
          event.type,
          attempt,
          {
            status: 500,
            error: i === 59 ? long : `HTTP 500 #${attempt}`,
            durationMs: 1,
            retryAfter: null,
            response: null,
          },
          { kind: "delivered" },
          Date.now(),
        );
      }
    });
    const all = await deliveries(c.api_key, id);
    expect(all).toHaveLength(MAX_ATTEMPTS_KEPT);
    // The original attempt (1) and the next ten are gone; the last 50 remain, in order.
    expect(all.map((d) => d.attempt)).toEqual(Array.from({ length: 50 }, (_, i) => 12 + i));
    expect(all.at(-1).error).toHaveLength(MAX_ERROR_CHARS);
    expect(all.at(-1).error).toBe(long.slice(0, MAX_ERROR_CHARS));

    // Paged two at a time, the pages join to the whole log.
    const joined: any[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
      const page = await req("GET", `/v1/edits/${id}/deliveries?limit=2${q}`, { token: c.api_key });
      expect(page.status).toBe(200);
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      joined.push(...page.body.data);
      cursor = page.body.next_cursor;
      pages++;
    } while (cursor && pages < 100);
    expect(pages).toBe(25);
    expect(joined).toEqual(all);
  });

  it("bounded logs: a redirect's Location is logged as its origin only", async () => {
    const c = await client();
    const path = uniquePath("redirect-secret");
    const id = await deliveredEdit(
      c.api_key,
      [
        {
          path,
          replies: [
            { status: 302, headers: { location: "https://evil.example/path?token=SECRET" } },
            { status: 200 },
          ],
        },
      ],
      1,
    );
    const log = await until(async () => {
      const l = await deliveries(c.api_key, id);
      return l.length >= 1 ? l : null;
    });
    expect(log[0]).toMatchObject({ status_code: 302 });
    expect(log[0].error).toContain("https://evil.example");
    const text = JSON.stringify(await req("GET", `/v1/edits/${id}/deliveries`, { token: c.api_key }));
    expect(text).not.toContain("SECRET");
    expect(text).not.toContain("token=");
    expect(text).not.toContain("evil.example/path");
  });

  it("payloads carry no one else's secrets: webhook and stream omit webhooks; GET shows them", async () => {
    const c = await client();
    const path = uniquePath("no-webhooks");
    const res = await req("POST", "/v1/edits", {
      token: c.api_key,
      body: body({ webhook: `${hookUrl(path)}?token=HOOKSECRET` }),
    });
    expect(res.status).toBe(202);
    const id = res.body.id as string;
    // The receiver records by path (the query is not part of it).
    const [hook] = await atLeast(path, 1);
    const payload = JSON.parse(hook!.body);
    expect(payload.data).toBeDefined();
    expect(hook!.body).not.toContain("webhooks");
    expect(hook!.body).not.toContain("HOOKSECRET");

    const stream = await req("GET", `/v1/edits/${id}/events`, { token: c.api_key });
    expect(stream.status).toBe(200);
    const events = streamData(String(stream.body));
    expect(events.length).toBeGreaterThan(0);
    for (const e of events) expect(JSON.stringify(e)).not.toContain("webhooks");
    expect(String(stream.body)).not.toContain("HOOKSECRET");

    const got = await req("GET", `/v1/edits/${id}`, { token: c.api_key });
    expect(got.body.webhooks).toEqual([
      expect.objectContaining({ url: `${hookUrl(path)}?token=HOOKSECRET` }),
    ]);
  });

  it("payloads carry no one else's secrets: duplicate webhook URLs (after normalisation) are one URL", async () => {
    // Host case and default port (checked on the merge, no request leaves for these hosts).
    expect(
      mergeWebhooks([
        { url: "https://Example.COM:443/x", events: ["edit.succeeded"] },
        { url: "https://example.com/x", events: ["edit.failed"] },
        { url: "HTTP://EXAMPLE.com:80/a/../x", events: ["edit.succeeded"] },
        { url: "http://example.com/x", events: ["edit.cancelled"] },
      ]),
    ).toEqual([
      { url: "https://example.com/x", events: ["edit.succeeded", "edit.failed"] },
      { url: "http://example.com/x", events: ["edit.succeeded", "edit.cancelled"] },
    ]);

    // End to end on the receiver: scheme case and dot segments, different events.
    const c = await client();
    const path = uniquePath("dup");
    const base = receiverBase();
    const [, hook, label, uuid] = path.split("/");
    const variant = `${base.replace(/^http:/, "HTTP:")}/./${hook}/${label}/../${label}/${uuid}`;
    expect(new URL(variant).href).toBe(hookUrl(path));
    const res = await req("POST", "/v1/edits", {
      token: c.api_key,
      body: body({
        webhooks: [
          { url: hookUrl(path), events: ["edit.succeeded"] },
          { url: variant, events: ["edit.failed", "edit.succeeded"] },
        ],
      }),
    });
    expect(res.status).toBe(202);
    expect(res.body.webhooks).toEqual([{ url: hookUrl(path), events: ["edit.succeeded", "edit.failed"] }]);
    await atLeast(path, 1);
    await outboxIdle(res.body.id);
    expect(await received(path)).toHaveLength(1);
    const log = await deliveries(c.api_key, res.body.id);
    expect(log).toHaveLength(1);
  });

  it("only what the operator allows reaches Oxen: models, undeclared parameters, target_namespace", async () => {
    const c = await client();
    const notAllowed = await req("POST", "/v1/edits", {
      token: c.api_key,
      body: body({ model: "some-model-the-operator-did-not-allow" }),
    });
    expect(notAllowed.status).toBe(400);
    expect(issuePaths(notAllowed)).toContain("model");

    const undeclared = await req("POST", "/v1/edits", {
      token: c.api_key,
      body: { prompt: "p", input_image: "https://example.com/a.png", model: "flux-kontext-dev", width: 8192 },
    });
    expect(undeclared.status).toBe(400);
    expect(issuePaths(undeclared)).toContain("width");

    for (const model of [undefined, "flux-kontext-dev"]) {
      const ns = await req("POST", "/v1/edits", {
        token: c.api_key,
        body: {
          prompt: "p",
          input_image: model ? "https://example.com/a.png" : ["https://example.com/a.png"],
          ...(model ? { model } : {}),
          target_namespace: "someone-else",
        },
      });
      expect(ns.status).toBe(400);
      expect(issuePaths(ns)).toContain("target_namespace");
    }
  });

  it("only what the operator allows reaches Oxen: input URLs follow the webhook URL rules", async () => {
    const c = await client();
    const strict = { ALLOW_PRIVATE_WEBHOOKS: "false" };
    for (const bad of [
      "http://127.0.0.1/a.png",
      "http://169.254.169.254/x",
      "http://localhost/a.png",
      "https://127.0.0.1/a.png",
      "https://2130706433/a.png",
      "https://[::ffff:169.254.169.254]/a.png",
      "https://metadata.google.internal/a.png",
      "https://10.1.2.3/a.png",
      "https://user:pw@example.com/a.png",
    ]) {
      const res = await withEnv(
        jsonRequest("POST", "/v1/edits", c.api_key, { prompt: "p", input_image: [bad] }),
        strict,
      );
      expect(res.status, bad).toBe(400);
      expect(issuePaths(res), bad).toContain("input_image.0");
    }
    // Another model's single-URL input_image follows the same rules.
    const single = await withEnv(
      jsonRequest("POST", "/v1/edits", c.api_key, {
        prompt: "p",
        model: "flux-kontext-dev",
        input_image: "https://169.254.169.254/a.png",
      }),
      strict,
    );
    expect(single.status).toBe(400);
    expect(issuePaths(single)).toContain("input_image");
    const fine = await withEnv(
      jsonRequest("POST", "/v1/edits", c.api_key, {
        prompt: `p ${crypto.randomUUID()}`,
        input_image: ["https://example.com/a.png"],
      }),
      strict,
    );
    expect(fine.status === 400 && issuePaths(fine).some((p) => p.startsWith("input_image"))).toBe(false);
  });

  it("only what the operator allows reaches Oxen: an unknown model's answer is cached", async () => {
    const c = await client();
    await sim("/faults", { route: "models", delayMs: 0, probability: 1 });
    const modelCalls = async () => ((await sim("/state")).injected.rest["models:delay"] as number) ?? 0;
    const before = await modelCalls();
    const one = await req("POST", "/v1/edits", {
      token: c.api_key,
      body: { ...body(), input_image: "https://example.com/a.png", model: "no-such-model" },
    });
    expect(one.status).toBe(400);
    expect(issuePaths(one)).toContain("model");
    const afterOne = await modelCalls();
    expect(afterOne - before).toBeLessThanOrEqual(1);
    const two = await req("POST", "/v1/edits", {
      token: c.api_key,
      body: { ...body(), input_image: "https://example.com/a.png", model: "no-such-model" },
    });
    expect(two.status).toBe(400);
    expect(issuePaths(two)).toContain("model");
    expect((await modelCalls()) - afterOne).toBe(0);
  });

  it("quotas: max_active_generations refuses with 429 quota_exceeded and sends nothing to Oxen", async () => {
    const c = await client();
    const patched = await req("PATCH", `/v1/clients/${c.id}`, {
      token: ADMIN,
      body: { limits: { max_active_generations: 2 } },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.limits).toEqual({ max_active_generations: 2, generations_per_day: 20_000 });
    await sim("/config", { autoComplete: false });
    const first = await req("POST", "/v1/edits", { token: c.api_key, body: body({ num_generations: 2 }) });
    expect(first.status).toBe(202);
    const refusedPrompt = `refused ${crypto.randomUUID()}`;
    const refused = await req("POST", "/v1/edits", {
      token: c.api_key,
      body: body({ prompt: refusedPrompt }),
    });
    expect(refused.status).toBe(429);
    expect(refused.body.error.type).toBe("quota_exceeded");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await simGenerations()).filter((g) => g.prompt === refusedPrompt)).toHaveLength(0);
    const usage = await req("GET", "/v1/usage", { token: c.api_key });
    expect(usage.body.today.active_generations).toBe(2);

    await finishAll((first.body.outputs as { generation_id: string }[]).map((o) => o.generation_id));
    await sim("/config", { autoComplete: true });
    const later = await until(async () => {
      const r = await req("POST", "/v1/edits", { token: c.api_key, body: body() });
      return r.status === 202 || r.status === 200 ? r : null;
    });
    expect(later.body.id).toBeDefined();
  });

  it("quotas: generations_per_day refuses with Retry-After until UTC midnight; /v1/usage reports limits and today", async () => {
    const c = await client("daily", { generations_per_day: 3 });
    expect(c.limits).toEqual({ max_active_generations: 200, generations_per_day: 3 });
    const first = await req("POST", "/v1/edits", { token: c.api_key, body: body({ num_generations: 2 }) });
    expect(first.status).toBe(202);
    const refusedPrompt = `daily ${crypto.randomUUID()}`;
    const second = await req("POST", "/v1/edits", {
      token: c.api_key,
      body: body({ prompt: refusedPrompt, num_generations: 2 }),
    });
    expect(second.status).toBe(429);
    expect(second.body.error.type).toBe("quota_exceeded");
    const retryAfter = Number(second.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(86_400);
    expect((await simGenerations()).filter((g) => g.prompt === refusedPrompt)).toHaveLength(0);

    const usage = await req("GET", "/v1/usage", { token: c.api_key });
    expect(usage.status).toBe(200);
    expect(usage.body.limits).toEqual({ max_active_generations: 200, generations_per_day: 3 });
    expect(usage.body.today).toEqual({ active_generations: expect.any(Number), generations: 2 });
    expect(usage.body.today.active_generations).toBeLessThanOrEqual(2);
    const today = new Date().toISOString().slice(0, 10);
    expect(usage.body.data).toEqual([
      expect.objectContaining({ date: today, model: "qwen-image-edit-2511", edits_created: 1 }),
    ]);
  });

  it("quotas: a create with 4 generations spends 4 units of the client's rate limit", async () => {
    const c = await client();
    const keys: string[] = [];
    const counting: RateLimit = {
      limit: async ({ key }) => {
        keys.push(key);
        return { success: true };
      },
    };
    const res = await withEnv(jsonRequest("POST", "/v1/edits", c.api_key, body({ num_generations: 4 })), {
      CLIENT_RATE_LIMIT: counting,
    });
    expect(res.status).toBe(202);
    expect(keys).toEqual([c.id, c.id, c.id, c.id]);
    keys.length = 0;
    const one = await withEnv(jsonRequest("GET", `/v1/edits/${res.body.id}`, c.api_key), {
      CLIENT_RATE_LIMIT: counting,
    });
    expect(one.status).toBe(200);
    expect(keys).toEqual([c.id]);
  });

  it("client lifecycle: create with limits, view without secrets, rename, unknown ids, client keys refused", async () => {
    const created = await req("POST", "/v1/clients", {
      token: ADMIN,
      body: { name: "life", limits: { max_active_generations: 5 } },
    });
    expect(created.status).toBe(201);
    expect(created.body.limits).toEqual({ max_active_generations: 5, generations_per_day: 20_000 });
    const { id, api_key } = created.body as { id: string; api_key: string };

    const got = await req("GET", `/v1/clients/${id}`, { token: ADMIN });
    expect(got.status).toBe(200);
    expect(Object.keys(got.body).sort()).toEqual(["created_at", "id", "limits", "name", "status"]);
    const text = JSON.stringify(got.body);
    for (const secret of ["api_key", "webhook_secret", "key_hash", "secrets", "whsec_", api_key]) {
      expect(text).not.toContain(secret);
    }
    expect(got.body).toMatchObject({ id, name: "life", status: "active" });

    const renamed = await req("PATCH", `/v1/clients/${id}`, { token: ADMIN, body: { name: "renamed" } });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ id, name: "renamed", status: "active" });
    expect((await req("GET", `/v1/clients/${id}`, { token: ADMIN })).body.name).toBe("renamed");

    for (const [method, path, b] of [
      ["GET", "/v1/clients/cli_nope", undefined],
      ["PATCH", "/v1/clients/cli_nope", { name: "x" }],
      ["POST", "/v1/clients/cli_nope/rotate-key", undefined],
    ] as const) {
      const r = await req(method, path, { token: ADMIN, ...(b ? { body: b } : {}) });
      expect(r.status, `${method} ${path}`).toBe(404);
    }

    for (const [method, path, b] of [
      ["POST", "/v1/clients", { name: "x" }],
      ["GET", `/v1/clients/${id}`, undefined],
      ["PATCH", `/v1/clients/${id}`, { status: "disabled" }],
      ["POST", `/v1/clients/${id}/rotate-key`, undefined],
      ["POST", `/v1/clients/${id}/rotate-secret`, undefined],
    ] as const) {
      const r = await req(method, path, { token: api_key, ...(b ? { body: b } : {}) });
      expect(r.status, `${method} ${path}`).toBe(403);
      expect(r.body.error.type).toBe("forbidden");
    }
    // Nothing the client tried took effect.
    expect((await req("GET", `/v1/clients/${id}`, { token: ADMIN })).body.status).toBe("active");
    expect((await req("GET", "/v1/edits", { token: api_key })).status).toBe(200);
  });

  it("client lifecycle: a disabled client gets 401 client_disabled, its accepted edit still finishes and delivers", async () => {
    const c = await client();
    const path = uniquePath("disabled");
    await sim("/config", { autoComplete: false });
    const res = await req("POST", "/v1/edits", { token: c.api_key, body: body({ webhook: hookUrl(path) }) });
    expect(res.status).toBe(202);
    await receiver("/secrets", { path, secrets: [c.webhook_secret] });

    const off = await req("PATCH", `/v1/clients/${c.id}`, { token: ADMIN, body: { status: "disabled" } });
    expect(off.status).toBe(200);
    expect(off.body.status).toBe("disabled");
    const refused = await req("GET", "/v1/edits", { token: c.api_key });
    expect(refused.status).toBe(401);
    expect(refused.body.error.type).toBe("client_disabled");

    await finishAll((res.body.outputs as { generation_id: string }[]).map((o) => o.generation_id));
    const [hook] = await atLeast(path, 1);
    expect(hook!.verified).toBe(true);
    expect(JSON.parse(hook!.body)).toMatchObject({ type: "edit.succeeded" });

    const on = await req("PATCH", `/v1/clients/${c.id}`, { token: ADMIN, body: { status: "active" } });
    expect(on.body.status).toBe("active");
    const back = await req("GET", `/v1/edits/${res.body.id}`, { token: c.api_key });
    expect(back.status).toBe(200);
    expect(back.body.status).toBe("succeeded");
  });

  it("client lifecycle: rotate-key refuses the old key at once and serves the new one", async () => {
    const c = await client();
    const rotated = await req("POST", `/v1/clients/${c.id}/rotate-key`, { token: ADMIN });
    expect(rotated.status).toBe(200);
    expect(rotated.body.api_key).toMatch(/^sk_/);
    expect(rotated.body.api_key).not.toBe(c.api_key);
    const old = await req("GET", "/v1/edits", { token: c.api_key });
    expect(old.status).toBe(401);
    expect((await req("GET", "/v1/edits", { token: rotated.body.api_key })).status).toBe(200);
    // The view still says nothing secret.
    const view = await req("GET", `/v1/clients/${c.id}`, { token: ADMIN });
    expect(JSON.stringify(view.body)).not.toContain(rotated.body.api_key);
  });

  it("failed authentication is rate-limited per IP: bad api keys", async () => {
    const c = await client();
    const attacker = freshIp();
    const answers = [];
    for (let i = 0; i < 65; i++) {
      answers.push(await req("GET", "/v1/edits", { token: `sk_guess_${i}`, ip: attacker }));
    }
    const limited = answers.filter((a) => a.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(1);
    expect(answers.every((a) => a.status === 401 || a.status === 429)).toBe(true);
    expect(answers.slice(0, 60).every((a) => a.status === 401)).toBe(true);
    expect(limited[0]!.body.error.type).toBe("rate_limited");
    expect(Number(limited[0]!.headers.get("retry-after"))).toBeGreaterThan(0);
    // A valid key from the same address is served; another address still gets its 401.
    expect((await req("GET", "/v1/edits", { token: c.api_key, ip: attacker })).status).toBe(200);
    expect((await req("GET", "/v1/edits", { token: "sk_guess_x", ip: freshIp() })).status).toBe(401);
    expect((await req("GET", "/v1/edits", { ip: attacker })).status).toBe(429);
  });

  it("failed authentication is rate-limited per IP: bad admin tokens", async () => {
    const attacker = freshIp();
    const answers = [];
    for (let i = 0; i < 65; i++) {
      answers.push(
        await req("POST", "/v1/clients", {
          token: `guess-admin-token-${i}-000000000000000000000`,
          body: { name: "x" },
          ip: attacker,
        }),
      );
    }
    const limited = answers.filter((a) => a.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(1);
    expect(answers.every((a) => a.status === 401 || a.status === 429)).toBe(true);
    expect(limited[0]!.body.error.type).toBe("rate_limited");
    expect(Number(limited[0]!.headers.get("retry-after"))).toBeGreaterThan(0);
    const ok = await req("POST", "/v1/clients", { token: ADMIN, body: { name: "x" }, ip: attacker });
    expect(ok.status).toBe(201);
    const other = await req("POST", "/v1/clients", {
      token: "guess-admin-token-x-000000000000000000000",
      body: { name: "x" },
      ip: freshIp(),
    });
    expect(other.status).toBe(401);
  });

  it("a short ADMIN_TOKEN turns admin routes off with 503 misconfigured", async () => {
    const res = await withEnv(jsonRequest("POST", "/v1/clients", "short-token", { name: "x" }), {
      ADMIN_TOKEN: "short-token",
    });
    expect(res.status).toBe(503);
    expect(res.body.error.type).toBe("misconfigured");
    // A 31-character token is still too short.
    const t31 = "a".repeat(31);
    const r31 = await withEnv(jsonRequest("POST", "/v1/clients", t31, { name: "x" }), { ADMIN_TOKEN: t31 });
    expect(r31.status).toBe(503);
    // Nor does the short token count as admin on /healthz.
    const health = await withEnv(
      new Request("http://relay/healthz", { headers: { authorization: "Bearer short-token" } }),
      { ADMIN_TOKEN: "short-token" },
    );
    expect(Object.keys(health.body.hub)).toEqual(["connected"]);
  });

  it("public /healthz says little: exactly {ok, hub:{connected}}; details with the admin token", async () => {
    const pub = await req("GET", "/healthz");
    expect(pub.status).toBe(200);
    expect(pub.body).toEqual({ ok: expect.any(Boolean), hub: { connected: expect.any(Boolean) } });
    expect(Object.keys(pub.body).sort()).toEqual(["hub", "ok"]);
    expect(Object.keys(pub.body.hub)).toEqual(["connected"]);
    const wrong = await req("GET", "/healthz", { token: "not-the-admin-token-000000000000000" });
    expect(Object.keys(wrong.body.hub)).toEqual(["connected"]);
    const admin = await req("GET", "/healthz", { token: ADMIN });
    expect(admin.status).toBe(200);
    expect(admin.body.hub).toHaveProperty("outstanding");
    expect(admin.body.hub).toHaveProperty("connected");
  });

  it("live streams are bounded: 10 per edit, then 429; a closed one frees its place", async () => {
    const c = await client();
    await sim("/config", { autoComplete: false });
    const res = await req("POST", "/v1/edits", { token: c.api_key, body: body() });
    expect(res.status).toBe(202);
    const id = res.body.id as string;
    const open = async () =>
      exports.default.fetch(
        new Request(`http://relay/v1/edits/${id}/events`, {
          headers: { authorization: `Bearer ${c.api_key}`, "cf-connecting-ip": ip },
        }),
      );
    const readers: ReadableStreamDefaultReader<Uint8Array>[] = [];
    try {
      for (let i = 0; i < 10; i++) {
        const s = await open();
        expect(s.status, `stream ${i + 1}`).toBe(200);
        const reader = s.body!.getReader();
        const first = await reader.read();
        expect(new TextDecoder().decode(first.value)).toContain(": edit events");
        readers.push(reader);
      }
      const eleventh = await open();
      expect(eleventh.status).toBe(429);
      expect(((await eleventh.json()) as any).error.type).toBe("rate_limited");
      expect(Number(eleventh.headers.get("retry-after"))).toBeGreaterThan(0);
    } finally {
      for (const r of readers.splice(0)) await r.cancel().catch(() => {});
    }
    // The edit object notices a closed stream on its next write (a keep-alive, every 15 s).
    const again = await until(async () => {
      const s = await open();
      if (s.status === 200) return s;
      await s.body?.cancel();
      await sleep(500);
      return null;
    }, 25_000);
    const reader = again.body!.getReader();
    await reader.read();
    await reader.cancel();
  }, 45_000);

  it("live streams are bounded: 100 per client, then 429 on another edit", async () => {
    const c = await client();
    const res = await req("POST", "/v1/edits", { token: c.api_key, body: body() });
    expect(res.status).toBe(202);
    const far = Date.now() + 3_600_000;
    await runInDurableObject(env.CLIENT.getByName(c.id), (_i, state) => {
      for (let i = 0; i < 100; i++) {
        state.storage.sql.exec(
          "INSERT INTO streams (stream_id, expires_at) VALUES (?, ?)",
          `sse_fake_${i}`,
          far,
        );
      }
    });
    const s = await req("GET", `/v1/edits/${res.body.id}/events`, { token: c.api_key });
    expect(s.status).toBe(429);
    expect(s.body.error.type).toBe("rate_limited");
    expect(Number(s.headers.get("retry-after"))).toBeGreaterThan(0);
    // Another client is not affected.
    const other = await client();
    const theirs = await req("POST", "/v1/edits", {
      token: other.api_key,
      body: body(),
      headers: { prefer: "wait=10" },
    });
    expect(theirs.body.status).toBe("succeeded");
    const stream = await req("GET", `/v1/edits/${theirs.body.id}/events`, { token: other.api_key });
    expect([200, 204]).toContain(stream.status);
  });

  it("secrets at rest: KV and the client object hold only sealed secrets; signatures still verify", async () => {
    const c = await client();
    await req("POST", `/v1/clients/${c.id}/rotate-secret`, { token: ADMIN });
    const current = await req("POST", `/v1/clients/${c.id}/rotate-secret`, { token: ADMIN });
    const secrets = [c.webhook_secret, current.body.webhook_secret as string];
    const raw = {
      client: await env.EDITS.get(`client:${c.id}`),
      apikey: await env.EDITS.get(`apikey:${await sha256Hex(c.api_key)}`),
      sqlite: await runInDurableObject(
        env.CLIENT.getByName(c.id),
        (_i, state) => state.storage.sql.exec<{ doc: string }>("SELECT doc FROM client").one().doc,
      ),
    };
    for (const [where, text] of Object.entries(raw)) {
      expect(text, where).toBeTruthy();
      expect(text, where).not.toContain("whsec_");
      for (const s of secrets) expect(text, where).not.toContain(s.slice("whsec_".length));
      const stored = JSON.parse(text!) as StoredClient;
      expect(stored.secrets.length, where).toBeGreaterThanOrEqual(2);
      for (const s of stored.secrets) {
        expect(s.sealed, where).toMatch(/^v1\.[A-Za-z0-9+/=]+\.[A-Za-z0-9+/=]+$/);
        expect(s.secret, where).toBeUndefined();
      }
    }

    const path = uniquePath("sealed");
    await receiver("/secrets", { path, secrets: [current.body.webhook_secret] });
    await req("POST", "/v1/edits", { token: c.api_key, body: body({ webhook: hookUrl(path) }) });
    const [hook] = await atLeast(path, 1);
    expect(hook!.verified).toBe(true);
    for (const s of secrets) expect(() => new Webhook(s).verify(hook!.body, hook!.headers)).not.toThrow();
  });
  // Found by this test (fixed): the signed `events_url` (routes/files.ts) opens a stream with no client lease, so the
  // 100-streams-per-client bound does not hold for it (only the 10 per edit does). Repro: a client
  // at 100 leases gets 429 on GET /v1/edits/{id}/events with its key, and 200 on the same edit's
  // events_url.
  it("live streams are bounded: the signed events_url counts against the 100 per client too", async () => {
    const c = await client();
    await sim("/config", { autoComplete: false });
    const res = await req("POST", "/v1/edits", { token: c.api_key, body: body() });
    expect(res.status).toBe(202);
    const far = Date.now() + 3_600_000;
    await runInDurableObject(env.CLIENT.getByName(c.id), (_i, state) => {
      for (let i = 0; i < 100; i++) {
        state.storage.sql.exec(
          "INSERT INTO streams (stream_id, expires_at) VALUES (?, ?)",
          `sse_fake_${i}`,
          far,
        );
      }
    });
    expect((await req("GET", `/v1/edits/${res.body.id}/events`, { token: c.api_key })).status).toBe(429);
    const signed = new URL(res.body.events_url as string);
    const s = await exports.default.fetch(
      new Request(`http://relay${signed.pathname}${signed.search}`, { headers: { "cf-connecting-ip": ip } }),
    );
    await s.body?.cancel();
    expect(s.status).toBe(429);
  });

  // Found by this test (fixed): URLs that differ only by a fragment (never sent on the wire) are kept as separate
  // webhooks, so one receiver URL gets the same event once per entry (up to MAX_WEBHOOKS = 5 POSTs
  // per event, 5 per redelivery). mergeWebhooks (edits/schema.ts) compares `new URL(u).href`,
  // which keeps the `#fragment`. Repro: webhooks [{url: U}, {url: U#a}, {url: U#b}] → 3 entries on
  // the edit and 3 POSTs to U.
  it("payloads carry no one else's secrets: URLs differing only by #fragment are one URL", async () => {
    const c = await client();
    const path = uniquePath("fragment");
    const res = await req("POST", "/v1/edits", {
      token: c.api_key,
      body: body({
        webhooks: [{ url: hookUrl(path) }, { url: `${hookUrl(path)}#a` }, { url: `${hookUrl(path)}#b` }],
      }),
    });
    expect(res.status).toBe(202);
    await atLeast(path, 1);
    await outboxIdle(res.body.id);
    expect(await received(path)).toHaveLength(1);
    expect(res.body.webhooks).toHaveLength(1);
  });

  // Found by this test (fixed: every failed create now gives its reservation back): a create that
  // Oxen answered with a 5xx (502 `oxen_error` to the caller) kept its reservation: "uncertain" failures are not refunded (routes/edits.ts), and with no
  // edit to settle it the reservation counts as running for STALE_RESERVATION_MS = 2 days
  // (clients/ledger.ts), and against today's generations. Repro: limits {max_active_generations: 3};
  // simulator fault {route: "enqueue", status: 500, count: 1}; POST /v1/edits num_generations 3 →
  // 502; GET /v1/usage → today {active_generations: 3, generations: 3}; every later create → 429
  // quota_exceeded (Retry-After 30) for two days, unless the caller had sent an Idempotency-Key
  // and retries with it.
  it("quotas: a create Oxen failed with a 5xx does not hold the client's quota", async () => {
    const c = await client("oxen-5xx", { max_active_generations: 3 });
    await sim("/faults", { route: "enqueue", status: 500, count: 1 });
    const failed = await req("POST", "/v1/edits", { token: c.api_key, body: body({ num_generations: 3 }) });
    expect(failed.status).toBe(502);
    await until(async () => {
      const u = await req("GET", "/v1/usage", { token: c.api_key });
      return u.body.today.active_generations === 0 ? true : null;
    }, 3_000);
    const next = await req("POST", "/v1/edits", { token: c.api_key, body: body() });
    expect(next.status).toBe(202);
  });
});
