import { abortAllDurableObjects } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import {
  ADMIN,
  call,
  hookUrl,
  newClient,
  outboxIdle,
  received,
  receiver,
  uniquePath,
  until,
} from "./helpers";

// The schedule under test is "1,1,1" seconds (±20%), the timeout 2 s: see vitest.config.ts.
const body = (webhook: string) => ({ prompt: "p", input_image: ["https://example.com/a.png"], webhook });

async function editWithScript(replies: object[]) {
  const client = await newClient();
  const path = uniquePath("d");
  await receiver("/script", { path, replies });
  const res = await call("POST", "/v1/edits", { token: client.api_key, body: body(hookUrl(path)) });
  expect(res.status).toBe(202);
  return { client, path, id: res.body.id as string };
}

const atLeast = async (path: string, n: number, timeoutMs = 15_000) =>
  until(async () => {
    const r = await received(path);
    return r.length >= n ? r : null;
  }, timeoutMs);

const deliveries = async (token: string, id: string) =>
  (await call("GET", `/v1/edits/${id}/deliveries`, { token })).body.data as any[];

describe("webhook delivery", () => {
  it("stops at once on 410", async () => {
    const { client, path, id } = await editWithScript([{ status: 410 }]);
    await atLeast(path, 1);
    await outboxIdle(id);
    expect(await received(path)).toHaveLength(1);
    const log = await deliveries(client.api_key, id);
    expect(log).toEqual([
      expect.objectContaining({
        attempt: 1,
        status_code: 410,
        next_attempt_at: null,
        type: "edit.succeeded",
      }),
    ]);
  });

  it("honours Retry-After on 503 over the shorter schedule", async () => {
    const { path } = await editWithScript([
      { status: 503, headers: { "retry-after": "3" } },
      { status: 200 },
    ]);
    const hooks = await atLeast(path, 2);
    expect(hooks[1]!.at - hooks[0]!.at).toBeGreaterThanOrEqual(2_900);
  });

  it("does not follow redirects, and records a 3xx as a failed attempt", async () => {
    const elsewhere = uniquePath("elsewhere");
    const { client, path, id } = await editWithScript([
      { status: 302, headers: { location: hookUrl(elsewhere) } },
      { status: 200 },
    ]);
    await atLeast(path, 2);
    expect(await received(elsewhere)).toHaveLength(0);
    const log = await until(async () => {
      const l = await deliveries(client.api_key, id);
      return l.length >= 2 ? l : null;
    });
    expect(log[0]).toMatchObject({ attempt: 1, status_code: 302, error: expect.stringMatching(/redirect/) });
    expect(log[0].next_attempt_at).not.toBeNull();
    expect(log[1]).toMatchObject({ attempt: 2, status_code: 200, error: null, next_attempt_at: null });
  });

  it("times out a slow receiver and retries", async () => {
    const { client, path, id } = await editWithScript([{ status: 200, delayMs: 3_000 }, { status: 200 }]);
    await atLeast(path, 2);
    const log = await until(async () => {
      const l = await deliveries(client.api_key, id);
      return l.length >= 2 ? l : null;
    });
    expect(log[0]).toMatchObject({ status_code: null, error: expect.stringMatching(/timed out/) });
  });

  it("marks a delivery exhausted after the schedule, and redelivers it with the same webhook-id", async () => {
    const fail = { status: 500 };
    const { client, path, id } = await editWithScript([fail, fail, fail, fail]);
    const hooks = await atLeast(path, 4);
    const log = await until(async () => {
      const l = await deliveries(client.api_key, id);
      return l.length >= 4 ? l : null;
    });
    expect(log.map((d) => d.attempt)).toEqual([1, 2, 3, 4]);
    expect(log[3].next_attempt_at).toBeNull();
    await outboxIdle(id);
    expect(await received(path)).toHaveLength(4);

    const again = await call("POST", `/v1/edits/${id}/redeliver`, { token: client.api_key });
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({
      object: "redelivery",
      edit_id: id,
      type: "edit.succeeded",
      urls: [hookUrl(path)],
    });
    const all = await atLeast(path, 5);
    expect(all[4]!.answered).toBe(200);
    expect(new Set(all.map((h) => h.headers["webhook-id"])).size).toBe(1);
    expect(all[4]!.headers["webhook-id"]).toBe(hooks[0]!.headers["webhook-id"]);
    expect(all[4]!.body).toBe(hooks[0]!.body);
  });

  it("resumes its outbox after the edit object is aborted, with the same webhook-id", async () => {
    const { path } = await editWithScript([{ status: 500 }, { status: 200 }]);
    await atLeast(path, 1);
    await abortAllDurableObjects();
    const hooks = await atLeast(path, 2);
    expect(hooks[1]!.headers["webhook-id"]).toBe(hooks[0]!.headers["webhook-id"]);
  });

  it("retries an attempt that was in flight when the object died", async () => {
    const { client, path, id } = await editWithScript([{ status: 200, delayMs: 1_000 }, { status: 200 }]);
    await atLeast(path, 1);
    await abortAllDurableObjects();
    // Any call wakes the object; it finds the interrupted attempt and sends it again at once.
    await deliveries(client.api_key, id);
    const hooks = await atLeast(path, 2, 5_000);
    expect(hooks[1]!.headers["webhook-id"]).toBe(hooks[0]!.headers["webhook-id"]);
  });

  it("sends one event id to several webhooks, each with its own filter", async () => {
    const client = await newClient();
    const [a, b, c] = [uniquePath("a"), uniquePath("b"), uniquePath("c")];
    const res = await call("POST", "/v1/edits", {
      token: client.api_key,
      body: {
        prompt: "p",
        input_image: ["https://example.com/a.png"],
        webhook: hookUrl(a),
        webhooks: [
          { url: hookUrl(b), events: ["edit.succeeded"] },
          { url: hookUrl(c), events: ["edit.cancelled"] },
        ],
      },
    });
    expect(res.body.webhooks).toHaveLength(3);
    const [ha] = await atLeast(a, 1);
    const [hb] = await atLeast(b, 1);
    expect(ha!.headers["webhook-id"]).toBe(hb!.headers["webhook-id"]);
    expect(await received(c)).toHaveLength(0);
  });

  it("signs with both secrets for 24 h after a rotation", async () => {
    const client = await newClient();
    const rotated = await call("POST", `/v1/clients/${client.id}/rotate-secret`, { token: ADMIN });
    const path = uniquePath("rotated");
    await call("POST", "/v1/edits", { token: client.api_key, body: body(hookUrl(path)) });
    const [hook] = await atLeast(path, 1);
    expect(hook!.headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    for (const secret of [client.webhook_secret, rotated.body.webhook_secret]) {
      expect(() => new Webhook(secret).verify(hook!.body, hook!.headers)).not.toThrow();
    }
  });
});
