import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { call, hookUrl, newClient, outboxIdle, received, receiver, uniquePath, until } from "./helpers";

const body = (extra: Record<string, unknown> = {}) => ({
  prompt: `p ${crypto.randomUUID()}`,
  input_image: ["https://example.com/a.png"],
  ...extra,
});

type Client = Awaited<ReturnType<typeof newClient>>;

async function endpoint(client: Client, path: string, extra: Record<string, unknown> = {}) {
  const res = await call("POST", "/v1/endpoints", {
    token: client.api_key,
    body: { url: hookUrl(path), ...extra },
  });
  expect(res.status).toBe(201);
  return res.body as { id: string; status: string };
}

/** An edit that has finished (the simulator completes it at once). */
async function finishedEdit(client: Client, extra: Record<string, unknown> = {}) {
  const res = await call("POST", "/v1/edits", {
    token: client.api_key,
    body: body(extra),
    headers: { prefer: "wait=10" },
  });
  expect(res.status).toBe(200);
  return res.body as { id: string; status: string };
}

const ids = (hooks: { headers: Record<string, string> }[]) => hooks.map((h) => h.headers["webhook-id"]);
const editIds = (hooks: { body: string }[]) => hooks.map((h) => JSON.parse(h.body).data.id as string);

const atLeast = (path: string, n: number, timeoutMs = 15_000) =>
  until(async () => {
    const r = await received(path);
    return r.length >= n ? r : null;
  }, timeoutMs);

const delivered = (path: string) => received(path).then((r) => r.filter((h) => h.answered === 200));

const logged = async (client: Client, query = "") =>
  (await call("GET", `/v1/events${query}`, { token: client.api_key })).body as {
    data: { id: string; type: string; timestamp: string; data: { id: string } }[];
    next_cursor: string | null;
  };

const clientObject = (client: Client) => env.CLIENT.getByName(client.id);

describe("endpoints", () => {
  it("create, list, get, patch and delete, with the contract's answers", async () => {
    const client = await newClient();
    const path = uniquePath("crud");
    const made = await call("POST", "/v1/endpoints", {
      token: client.api_key,
      body: { url: hookUrl(path), events: ["edit.failed", "edit.succeeded"], description: "shop" },
    });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({
      id: expect.stringMatching(/^ep_/),
      url: hookUrl(path),
      events: ["edit.succeeded", "edit.failed"],
      description: "shop",
      status: "active",
      health: {
        last_attempt_at: null,
        last_success_at: null,
        failing_since: null,
        success_rate_24h: null,
        pending: 0,
      },
    });
    const id = made.body.id as string;
    expect((await call("GET", "/v1/endpoints", { token: client.api_key })).body.data).toEqual([made.body]);
    expect((await call("GET", `/v1/endpoints/${id}`, { token: client.api_key })).body).toEqual(made.body);

    const patched = await call("PATCH", `/v1/endpoints/${id}`, {
      token: client.api_key,
      body: { status: "paused", description: null },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id, status: "paused", description: null });

    // Another client sees none of it.
    const other = await newClient();
    expect((await call("GET", `/v1/endpoints/${id}`, { token: other.api_key })).status).toBe(404);
    expect((await call("DELETE", `/v1/endpoints/${id}`, { token: other.api_key })).status).toBe(404);

    expect((await call("DELETE", `/v1/endpoints/${id}`, { token: client.api_key })).status).toBe(204);
    expect((await call("GET", `/v1/endpoints/${id}`, { token: client.api_key })).status).toBe(404);
    expect((await call("PATCH", `/v1/endpoints/${id}`, { token: client.api_key, body: {} })).status).toBe(
      404,
    );
    expect(
      (
        await call("POST", `/v1/endpoints/${id}/recover`, {
          token: client.api_key,
          body: { since: new Date().toISOString() },
        })
      ).status,
    ).toBe(404);
  });

  it("refuses bad input with 400s, and a 21st endpoint with 409", async () => {
    const client = await newClient();
    const bad = async (b: unknown) => {
      const res = await call("POST", "/v1/endpoints", { token: client.api_key, body: b });
      expect(res.status).toBe(400);
      expect(res.body.error.type).toBe("invalid_request");
      return res.body.error;
    };
    await bad({});
    await bad({ url: "ftp://example.com/h" });
    await bad({ url: "https://user:pw@example.com/h" });
    await bad({ url: hookUrl("/x"), events: [] });
    await bad({ url: hookUrl("/x"), events: ["edit.exploded"] });
    await bad({ url: hookUrl("/x"), surprise: 1 });
    const patchBad = await call("PATCH", "/v1/endpoints/ep_nope", {
      token: client.api_key,
      body: { status: "disabled" },
    });
    expect(patchBad.status).toBe(400);
    const since = await call("POST", "/v1/endpoints/ep_nope/recover", {
      token: client.api_key,
      body: { since: "yesterday" },
    });
    expect(since.status).toBe(400);

    for (let i = 0; i < 20; i++) await endpoint(client, uniquePath(`max-${i}`));
    const over = await call("POST", "/v1/endpoints", {
      token: client.api_key,
      body: { url: hookUrl("/one-more") },
    });
    expect(over.status).toBe(409);
    expect(over.body.error.type).toBe("too_many_endpoints");
    expect((await call("GET", "/v1/endpoints", { token: client.api_key })).body.data).toHaveLength(20);
  });

  it("sends every event to the endpoint and the edit's webhook under one webhook-id, signed, and logs it", async () => {
    const client = await newClient();
    const epPath = uniquePath("ep");
    const hookPath = uniquePath("own");
    await receiver("/secrets", { path: epPath, secrets: [client.webhook_secret] });
    await endpoint(client, epPath);
    const edit = await finishedEdit(client, { webhook: hookUrl(hookPath) });
    const [atEndpoint] = await atLeast(epPath, 1);
    const [own] = await atLeast(hookPath, 1);
    expect(atEndpoint!.verified).toBe(true);
    expect(atEndpoint!.headers["webhook-id"]).toBe(own!.headers["webhook-id"]);
    expect(atEndpoint!.body).toBe(own!.body);
    new Webhook(client.webhook_secret).verify(atEndpoint!.body, atEndpoint!.headers);

    const log = await logged(client);
    expect(log.data).toHaveLength(1);
    expect(log.data[0]).toMatchObject({ id: own!.headers["webhook-id"], type: "edit.succeeded" });
    expect(log.data[0]!.data.id).toBe(edit.id);
    expect(JSON.parse(own!.body)).toEqual({
      type: log.data[0]!.type,
      timestamp: log.data[0]!.timestamp,
      data: log.data[0]!.data,
    });

    // The edit's attempt log shows both URLs, with what each receiver answered.
    const deliveries = await until(async () => {
      const d = (await call("GET", `/v1/edits/${edit.id}/deliveries`, { token: client.api_key })).body.data;
      return d.length >= 2 ? d : null;
    });
    expect(deliveries.map((d: { url: string }) => d.url).sort()).toEqual(
      [hookUrl(epPath), hookUrl(hookPath)].sort(),
    );
    expect(deliveries.every((d: { response: string }) => d.response === "ok")).toBe(true);
    const health = (await call("GET", "/v1/endpoints", { token: client.api_key })).body.data[0].health;
    expect(health).toMatchObject({ success_rate_24h: 1, failing_since: null, pending: 0 });
    expect(health.last_success_at).not.toBeNull();
  });

  it("keeps the first 4 KB of a refusing receiver's answer in /deliveries", async () => {
    const client = await newClient();
    const path = uniquePath("why");
    const long = `refused: ${"x".repeat(5_000)}`;
    await receiver("/script", { path, replies: [{ status: 422, body: long }] });
    await endpoint(client, path);
    const edit = await finishedEdit(client);
    const [attempt] = await until(async () => {
      const d = (await call("GET", `/v1/edits/${edit.id}/deliveries`, { token: client.api_key })).body.data;
      return d.length >= 1 ? d : null;
    });
    expect(attempt.status_code).toBe(422);
    expect(attempt.response).toBe(long.slice(0, 4096));
    // The failed first attempt is in the endpoint's backlog, with its next attempt shown.
    expect(attempt.next_attempt_at).not.toBeNull();
  });

  it("an endpoint down for a while then back receives everything, in order, with the original ids", async () => {
    const client = await newClient();
    const path = uniquePath("down");
    // Three failures: the first event's direct attempt and two backlog retries (schedule 1,1,1 here).
    await receiver("/script", { path, replies: [{ status: 500 }, { status: 503 }, { status: 0 }] });
    await endpoint(client, path);
    const edits = [];
    for (let i = 0; i < 3; i++) edits.push(await finishedEdit(client));
    const hooks = await until(async () => {
      const ok = await delivered(path);
      return ok.length >= 3 ? ok : null;
    }, 20_000);
    expect(editIds(hooks)).toEqual(edits.map((e) => e.id));
    const log = await logged(client);
    expect(ids(hooks)).toEqual(log.data.map((e) => e.id));
    // Failed attempts were of the first event only: the others waited behind it.
    const all = await received(path);
    expect(new Set(editIds(all.filter((h) => h.answered !== 200)))).toEqual(new Set([edits[0]!.id]));
  });

  it("a paused endpoint receives nothing until resumed, then everything in order", async () => {
    const client = await newClient();
    const path = uniquePath("paused");
    const ep = await endpoint(client, path);
    await call("PATCH", `/v1/endpoints/${ep.id}`, { token: client.api_key, body: { status: "paused" } });
    const edits = [];
    for (let i = 0; i < 3; i++) edits.push(await finishedEdit(client));
    // Held: nothing sent, and the client's object has nothing due (no spinning alarm on a pause).
    await runDurableObjectAlarm(clientObject(client));
    expect(await received(path)).toHaveLength(0);
    const held = (await call("GET", `/v1/endpoints/${ep.id}`, { token: client.api_key })).body;
    expect(held.health.pending).toBe(3);

    const resumed = await call("PATCH", `/v1/endpoints/${ep.id}`, {
      token: client.api_key,
      body: { status: "active" },
    });
    expect(resumed.body.status).toBe("active");
    const hooks = await atLeast(path, 3);
    expect(editIds(hooks)).toEqual(edits.map((e) => e.id));
    expect(ids(hooks)).toEqual((await logged(client)).data.map((e) => e.id));
  });

  it("disables an endpoint failing past the window, tells the others, holds its events, and flushes them when resumed", async () => {
    const client = await newClient();
    const badPath = uniquePath("bad");
    const goodPath = uniquePath("good");
    await receiver("/script", { path: badPath, replies: Array.from({ length: 3 }, () => ({ status: 500 })) });
    const bad = await endpoint(client, badPath);
    await endpoint(client, goodPath);
    // The endpoint has been failing for longer than ENDPOINT_DISABLE_AFTER_SECONDS (5 days).
    await runInDurableObject(clientObject(client), (_i, state) => {
      state.storage.sql.exec(
        "UPDATE endpoints SET failing_since = ? WHERE id = ?",
        Date.now() - 6 * 86_400_000,
        bad.id,
      );
    });
    const first = await finishedEdit(client);
    const disabled = await until(async () => {
      const ep = (await call("GET", `/v1/endpoints/${bad.id}`, { token: client.api_key })).body;
      return ep.status === "disabled" ? ep : null;
    });
    expect(disabled.health.failing_since).not.toBeNull();
    // The other endpoint got the edit's event and then endpoint.disabled, with the endpoint as data.
    const good = await atLeast(goodPath, 2);
    const types = good.map((h) => JSON.parse(h.body).type);
    expect(types).toContain("endpoint.disabled");
    const notice = JSON.parse(good.find((h) => JSON.parse(h.body).type === "endpoint.disabled")!.body);
    expect(notice.data).toMatchObject({ id: bad.id, status: "disabled" });
    // Its URL (which may hold a token) as an origin only: the notice goes to other receivers.
    expect(notice.data.url).toBe(new URL(hookUrl(badPath)).origin);
    expect((await logged(client, "?type=endpoint.disabled")).data).toHaveLength(1);

    // Held while disabled, then delivered in order once resumed.
    const second = await finishedEdit(client);
    await runDurableObjectAlarm(clientObject(client));
    expect((await delivered(badPath)).length).toBe(0);
    await call("PATCH", `/v1/endpoints/${bad.id}`, { token: client.api_key, body: { status: "active" } });
    const flushed = await until(async () => {
      const ok = await delivered(badPath);
      return ok.length >= 2 ? ok : null;
    });
    expect(editIds(flushed)).toEqual([first.id, second.id]);
    const after = (await call("GET", `/v1/endpoints/${bad.id}`, { token: client.api_key })).body;
    expect(after).toMatchObject({ status: "active", health: { failing_since: null, pending: 0 } });
  });

  it("recover re-sends exactly what the endpoint did not acknowledge, same ids, in order", async () => {
    const client = await newClient();
    const path = uniquePath("recover");
    const since = new Date(Date.now() - 1_000).toISOString();
    // 200, then 410 (the event fails at once, no retries), then 200: one event unacknowledged.
    await receiver("/script", { path, replies: [{ status: 200 }, { status: 410 }, { status: 200 }] });
    const ep = await endpoint(client, path);
    const edits = [];
    for (let i = 0; i < 3; i++) {
      edits.push(await finishedEdit(client));
      await atLeast(path, i + 1);
    }
    const before = await received(path);
    expect(before.map((h) => h.answered)).toEqual([200, 410, 200]);

    const rec = await call("POST", `/v1/endpoints/${ep.id}/recover`, {
      token: client.api_key,
      body: { since },
    });
    expect(rec.status).toBe(202);
    expect(rec.body).toEqual({ events: 1 });
    const all = await atLeast(path, 4);
    expect(all[3]!.headers["webhook-id"]).toBe(before[1]!.headers["webhook-id"]);
    expect(editIds([all[3]!])).toEqual([edits[1]!.id]);
    // Nothing more: the acknowledged ones are not sent again, and a second recover finds nothing.
    const again = await call("POST", `/v1/endpoints/${ep.id}/recover`, {
      token: client.api_key,
      body: { since },
    });
    expect(again.body).toEqual({ events: 0 });
    await runDurableObjectAlarm(clientObject(client));
    expect(await received(path)).toHaveLength(4);
  });

  it("pages the event log oldest first, filters by type, and forgets an erased edit's events", async () => {
    const client = await newClient();
    const edits = [];
    for (let i = 0; i < 3; i++) edits.push(await finishedEdit(client));
    const page1 = await logged(client, "?limit=2");
    expect(page1.data.map((e) => e.data.id)).toEqual([edits[0]!.id, edits[1]!.id]);
    expect(page1.next_cursor).toBe(page1.data[1]!.id);
    const page2 = await logged(client, `?limit=2&after=${page1.next_cursor}`);
    expect(page2.data.map((e) => e.data.id)).toEqual([edits[2]!.id]);
    expect(page2.next_cursor).toBeNull();
    expect((await logged(client, "?type=edit.failed")).data).toEqual([]);
    const unknown = await call("GET", "/v1/events?after=msg_nope", { token: client.api_key });
    expect(unknown.status).toBe(400);
    expect((await call("GET", "/v1/events?type=nope", { token: client.api_key })).status).toBe(400);

    expect((await call("DELETE", `/v1/edits/${edits[1]!.id}`, { token: client.api_key })).status).toBe(204);
    const left = await logged(client);
    expect(left.data.map((e) => e.data.id)).toEqual([edits[0]!.id, edits[2]!.id]);
    // A cursor at the erased event still works.
    const fromErased = await logged(client, `?after=${page1.data[1]!.id}`);
    expect(fromErased.data.map((e) => e.data.id)).toEqual([edits[2]!.id]);
    // Another client's log is its own.
    expect((await logged(await newClient())).data).toEqual([]);
  });

  it("counts endpoint deliveries in usage", async () => {
    const client = await newClient();
    const path = uniquePath("usage");
    await endpoint(client, path);
    await finishedEdit(client, { webhook: hookUrl(uniquePath("usage-own")) });
    await atLeast(path, 1);
    const usage = await until(async () => {
      const u = (await call("GET", "/v1/usage", { token: client.api_key })).body;
      return u.data[0]?.webhooks_delivered === 2 ? u : null;
    });
    expect(usage.data[0]).toMatchObject({
      edits_created: 1,
      generations_succeeded: 1,
      webhooks_delivered: 2,
      webhooks_failed: 0,
    });
  });
  // Found by the console's test: an event waiting for a retry minutes away kept that time when
  // its endpoint was resumed (or recovered), instead of going within seconds.
  it("a resumed endpoint sends an event that was waiting for a retry at once", async () => {
    const client = await newClient();
    const path = uniquePath("resume-retry");
    await receiver("/script", { path, replies: [{ status: 500 }] });
    const ep = await endpoint(client, path);
    const edit = await finishedEdit(client);
    await atLeast(path, 1);
    await call("PATCH", `/v1/endpoints/${ep.id}`, { token: client.api_key, body: { status: "paused" } });
    // The retry is five minutes away (the default schedule's second step).
    await runInDurableObject(clientObject(client), (_i, state) => {
      state.storage.sql.exec("UPDATE endpoint_deliveries SET next_at = ?", Date.now() + 300_000);
    });
    await call("PATCH", `/v1/endpoints/${ep.id}`, { token: client.api_key, body: { status: "active" } });
    const ok = await until(async () => {
      const d = await delivered(path);
      return d.length >= 1 ? d : null;
    });
    expect(editIds(ok)).toEqual([edit.id]);

    // The same for a recovery of an event that is waiting.
    const second = uniquePath("recover-retry");
    await receiver("/script", { path: second, replies: [{ status: 500 }] });
    const ep2 = await endpoint(client, second);
    const since = new Date(Date.now() - 1_000).toISOString();
    const edit2 = await finishedEdit(client);
    await atLeast(second, 1);
    await runInDurableObject(clientObject(client), (_i, state) => {
      state.storage.sql.exec(
        "UPDATE endpoint_deliveries SET next_at = ? WHERE endpoint_id = ? AND state = 'queued'",
        Date.now() + 300_000,
        ep2.id,
      );
    });
    const rec = await call("POST", `/v1/endpoints/${ep2.id}/recover`, {
      token: client.api_key,
      body: { since },
    });
    expect(rec.body).toEqual({ events: 1 });
    const ok2 = await until(async () => {
      const d = await delivered(second);
      return d.length >= 1 ? d : null;
    });
    expect(editIds(ok2)).toEqual([edit2.id]);
  });
  // Fault: when the oldest event's retries ran out, every event queued behind it failed with it,
  // even one that had waited a moment: an endpoint down a little longer than one window lost
  // events that a webhook would still have delivered.
  it("fails only the events that waited a whole retry window when the oldest one gives up", async () => {
    const client = await newClient();
    const path = uniquePath("window");
    await receiver("/script", { path, replies: [{ status: 500 }, { status: 500 }] });
    const ep = await endpoint(client, path);
    const a = await finishedEdit(client);
    await atLeast(path, 1);
    await call("PATCH", `/v1/endpoints/${ep.id}`, { token: client.api_key, body: { status: "paused" } });
    const b = await finishedEdit(client);
    const c = await finishedEdit(client);
    const ids = (await logged(client)).data.map((e) => e.id);
    // A is one attempt from its last (schedule 1,1,1 here); A and C are older than the window, B is not.
    await runInDurableObject(clientObject(client), (_i, state) => {
      const sql = state.storage.sql;
      sql.exec(
        "UPDATE endpoint_deliveries SET attempts = 3 WHERE seq = (SELECT seq FROM event_log WHERE id = ?)",
        ids[0],
      );
      sql.exec("UPDATE event_log SET created_at = ? WHERE id IN (?, ?)", Date.now() - 60_000, ids[0], ids[2]);
    });
    await call("PATCH", `/v1/endpoints/${ep.id}`, { token: client.api_key, body: { status: "active" } });
    const hooks = await atLeast(path, 3);
    expect(editIds(hooks)).toEqual([a.id, a.id, b.id]);
    expect(hooks.map((h) => h.answered)).toEqual([500, 500, 200]);
    const states = await runInDurableObject(clientObject(client), (_i, state) =>
      state.storage.sql
        .exec<{ state: string }>("SELECT state FROM endpoint_deliveries ORDER BY seq")
        .toArray()
        .map((r) => r.state),
    );
    expect(states).toEqual(["failed", "delivered", "failed"]);
    // C is kept for recovery, not sent.
    await runDurableObjectAlarm(clientObject(client));
    expect(editIds(await received(path))).not.toContain(c.id);
  });
  // Review: a redelivery of an edit went to the client's endpoints too, through rows the edit had
  // kept, so a paused or deleted endpoint was called.
  it("a redelivery goes to the edit's own webhooks, never to a paused or deleted endpoint", async () => {
    const client = await newClient();
    const own = uniquePath("redeliver-own");
    const pausedPath = uniquePath("redeliver-paused");
    const deletedPath = uniquePath("redeliver-deleted");
    const paused = await endpoint(client, pausedPath);
    const deleted = await endpoint(client, deletedPath);
    const edit = await finishedEdit(client, { webhook: hookUrl(own) });
    await atLeast(pausedPath, 1);
    await atLeast(deletedPath, 1);
    await call("PATCH", `/v1/endpoints/${paused.id}`, { token: client.api_key, body: { status: "paused" } });
    await call("DELETE", `/v1/endpoints/${deleted.id}`, { token: client.api_key });
    const again = await call("POST", `/v1/edits/${edit.id}/redeliver`, { token: client.api_key });
    expect(again.status).toBe(202);
    expect(again.body.urls).toEqual([hookUrl(own)]);
    await atLeast(own, 2);
    await outboxIdle(edit.id);
    expect(await received(pausedPath)).toHaveLength(1);
    expect(await received(deletedPath)).toHaveLength(1);
  });

  // Review: an endpoint with the same URL as the edit's webhook shared its outbox row; the
  // endpoint's first attempt was never reported, and the backlog sent the event again later.
  it("an endpoint with the URL of the edit's webhook gets its own delivery, reported, once", async () => {
    const client = await newClient();
    const path = uniquePath("same-url");
    const ep = await endpoint(client, path);
    const edit = await finishedEdit(client, { webhook: hookUrl(path) });
    const hooks = await atLeast(path, 2);
    expect(new Set(ids(hooks)).size).toBe(1);
    await until(async () => {
      const e = (await call("GET", `/v1/endpoints/${ep.id}`, { token: client.api_key })).body;
      return e.health.pending === 0 && e.health.last_success_at ? e : null;
    });
    const deliveries = (await call("GET", `/v1/edits/${edit.id}/deliveries`, { token: client.api_key })).body
      .data;
    expect(deliveries.map((d: { url: string }) => d.url)).toEqual([hookUrl(path), hookUrl(path)]);
    // Nothing left for the client's object to reclaim and send again.
    const direct = await runInDurableObject(clientObject(client), (_i, state) =>
      state.storage.sql.exec("SELECT * FROM endpoint_deliveries WHERE state != 'delivered'").toArray(),
    );
    expect(direct).toEqual([]);
  });

  // Review: an edit erased right after it ended could report after its erasure and bring its
  // events back into the log, or never release its generations.
  it("an edit erased at once still counts in usage and stays out of the event log", async () => {
    const client = await newClient();
    await endpoint(client, uniquePath("erased"));
    const edit = await finishedEdit(client);
    expect((await call("DELETE", `/v1/edits/${edit.id}`, { token: client.api_key })).status).toBe(204);
    const usage = (await call("GET", "/v1/usage", { token: client.api_key })).body;
    expect(usage.today.active_generations).toBe(0);
    expect(usage.data[0]).toMatchObject({ edits_created: 1, generations_succeeded: 1 });
    expect((await logged(client)).data).toEqual([]);
    // A late report (a retry of the edit's) adds nothing back.
    await clientObject(client).settle(
      edit.id,
      "qwen-image-edit-2511",
      { succeeded: 1, failed: 0, cancelled: 0 },
      {
        id: "msg_late000000000000000000",
        type: "edit.succeeded",
        payload: "{}",
        created_at: Date.now(),
        edit_id: edit.id,
        model: "qwen-image-edit-2511",
      },
    );
    expect((await logged(client)).data).toEqual([]);
  });

  // Review: while a backlog was being sent, the alarm was set to its head's due time, already
  // past, and fired again and again until the send ended.
  it("does not spin its alarm while a slow backlog send is in flight", async () => {
    const client = await newClient();
    const path = uniquePath("slow-drain");
    const ep = await endpoint(client, path);
    await call("PATCH", `/v1/endpoints/${ep.id}`, { token: client.api_key, body: { status: "paused" } });
    await receiver("/script", { path, replies: [{ status: 200, delayMs: 1_500 }] });
    await finishedEdit(client);
    await call("PATCH", `/v1/endpoints/${ep.id}`, { token: client.api_key, body: { status: "active" } });
    await atLeast(path, 1);
    const alarm = await runInDurableObject(clientObject(client), (_i, state) => state.storage.getAlarm());
    expect(alarm === null || alarm > Date.now() + 1_000).toBe(true);
  });

  it("finds a backlog's head through an index that holds only queued rows", async () => {
    const client = await newClient();
    await endpoint(client, uniquePath("plan"));
    const plan = await runInDurableObject(clientObject(client), (_i, state) =>
      state.storage.sql
        .exec<{ detail: string }>(
          "EXPLAIN QUERY PLAN SELECT * FROM endpoint_deliveries WHERE endpoint_id = ? AND state = 'queued' ORDER BY seq LIMIT 1",
          "ep_x",
        )
        .toArray()
        .map((r) => r.detail)
        .join(" "),
    );
    expect(plan).toContain("endpoint_deliveries_queued");
  });
  // Found by counting operations (docs/cost.md): after the last first attempt was reported, the
  // client object's alarm stayed at the lease (2 min) and ran once for nothing on an idle relay.
  it("leaves no alarm due soon once every first attempt is reported", async () => {
    const client = await newClient();
    const path = uniquePath("idle");
    const ep = await endpoint(client, path);
    await finishedEdit(client);
    await atLeast(path, 1);
    await until(async () => {
      const e = (await call("GET", `/v1/endpoints/${ep.id}`, { token: client.api_key })).body;
      return e.health.pending === 0 ? e : null;
    });
    const alarm = await runInDurableObject(clientObject(client), (_i, state) => state.storage.getAlarm());
    // Only the event log's retention (30 days here) is left to wait for.
    expect(alarm === null || alarm > Date.now() + 86_400_000).toBe(true);
  });
});
