import {
  createExecutionContext,
  runDurableObjectAlarm,
  runInDurableObject,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { readConfig } from "../../src/core/config";
import type { Snapshot } from "../../src/edits/kv";
import { EditStore } from "../../src/edits/store";
import { hubStub } from "../../src/hub/name";
import { MAX_ROW_BYTES } from "../../src/lib/limits";
import { Outbox } from "../../src/webhooks/outbox";
import {
  call,
  hookUrl,
  newClient,
  received,
  receiver,
  restartEdit,
  sim,
  simBase,
  uniquePath,
  until,
} from "./helpers";

// One shared simulator: whatever a test steers is put back after it.
afterEach(async () => {
  await fetch(`${simBase()}/_control/faults`, { method: "DELETE" });
  await fetch(`${simBase()}/_control/stream-faults`, { method: "DELETE" });
  await sim("/config", { autoComplete: true });
});

const body = (extra: Record<string, unknown> = {}) => ({
  prompt: `p ${crypto.randomUUID()}`,
  input_image: ["https://example.com/a.png"],
  ...extra,
});

const atLeast = (path: string, n: number, timeoutMs = 15_000) =>
  until(async () => {
    const r = await received(path);
    return r.length >= n ? r : null;
  }, timeoutMs);

const kvSnapshot = (id: string) => env.EDITS.get<Snapshot>(`edit:${id}`, "json");

const simGeneration = async (id: string) =>
  ((await sim("/state")).generations as { generation_id: string; status: string }[]).find(
    (g) => g.generation_id === id,
  );

const hub = () => hubStub(env, readConfig(env));

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const freshEditName = () =>
  `edit_${Array.from(crypto.getRandomValues(new Uint8Array(22)), (b) => ALNUM[b % ALNUM.length]).join("")}`;

/** An edit whose generation is parked on the simulator (it finishes only when told). */
async function heldEdit(extra: Record<string, unknown> = {}) {
  await sim("/config", { autoComplete: false });
  const client = await newClient();
  const res = await call("POST", "/v1/edits", { token: client.api_key, body: body(extra) });
  expect(res.status).toBe(202);
  return {
    client,
    id: res.body.id as string,
    generationId: res.body.outputs[0].generation_id as string,
  };
}

describe("edit edges", () => {
  // Fault: a redelivery asked for while the first attempt is still in flight is lost (the
  // in-flight row is only marked), or leaves the object's alarm set in the past, firing forever.
  it("honours a redelivery asked for during an attempt, and leaves no spinning alarm", async () => {
    const client = await newClient();
    const path = uniquePath("redeliver-inflight");
    await receiver("/script", { path, replies: [{ status: 200, delayMs: 1_500 }, { status: 200 }] });
    const res = await call("POST", "/v1/edits", {
      token: client.api_key,
      body: body({ webhook: hookUrl(path) }),
    });
    const id = res.body.id as string;
    // The receiver records a request on arrival, before its slow answer: the attempt is in flight.
    const [first] = await atLeast(path, 1);
    const again = await call("POST", `/v1/edits/${id}/redeliver`, { token: client.api_key });
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ object: "redelivery", edit_id: id, urls: [hookUrl(path)] });

    const hooks = await atLeast(path, 2);
    expect(hooks[1]!.headers["webhook-id"]).toBe(first!.headers["webhook-id"]);
    expect(hooks[1]!.body).toBe(first!.body);

    // Both attempts recorded as delivered, then nothing due: the alarm is gone or in the future.
    const log = await until(async () => {
      const l = (await call("GET", `/v1/edits/${id}/deliveries`, { token: client.api_key })).body.data as {
        status_code: number | null;
        next_attempt_at: string | null;
      }[];
      return l.length >= 2 && l.every((d) => d.status_code === 200) ? l : null;
    });
    // The first attempt ended with the redelivery pending (it was asked for in flight), the second settled it.
    expect(log[0]!.next_attempt_at).not.toBeNull();
    expect(log[1]!.next_attempt_at).toBeNull();
    const stub = env.EDIT.getByName(id);
    const alarm = await until(async () => {
      const at = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
      return at === null || at > Date.now() ? { at } : null;
    }, 5_000);
    expect(alarm.at === null || alarm.at > Date.now() - 1).toBe(true);
    const rows = await runInDurableObject(stub, (_i, state) => new Outbox(state.storage.sql).rows());
    expect(rows.every((r) => r.state === "delivered")).toBe(true);
    expect(await received(path)).toHaveLength(2);
  });

  // Fault: the terminal snapshot reaches KV after the webhook (or only at the next coalesced
  // flush), so a client that lists on receiving the webhook sees the edit unfinished.
  it("writes the terminal snapshot to KV before the webhook goes out", async () => {
    const client = await newClient();
    const path = uniquePath("kv-first");
    const res = await call("POST", "/v1/edits", {
      token: client.api_key,
      body: body({ webhook: hookUrl(path) }),
      headers: { prefer: "wait=10" },
    });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("succeeded");
    const id = res.body.id as string;

    await atLeast(path, 1);
    const snap = await kvSnapshot(id);
    expect(snap?.edit.status).toBe("succeeded");
    expect(snap?.client_id).toBe(client.id);

    const list = await call("GET", "/v1/edits", { token: client.api_key });
    expect(list.status).toBe(200);
    expect(list.body.data).toEqual([expect.objectContaining({ id, status: "succeeded" })]);
    const byStatus = await call("GET", "/v1/edits?status=succeeded", { token: client.api_key });
    expect(byStatus.body.data.map((e: { id: string }) => e.id)).toEqual([id]);
  });

  // Fault: a projection marked clean without KV holding the document (or an alarm that forgets
  // a dirty projection) leaves KV without the edit for good.
  it("keeps the KV projection dirty until it is written, and the alarm writes it", async () => {
    const client = await newClient();
    const res = await call("POST", "/v1/edits", {
      token: client.api_key,
      body: body(),
      headers: { prefer: "wait=10" },
    });
    expect(res.body.status).toBe("succeeded");
    const id = res.body.id as string;
    await until(async () => (await kvSnapshot(id))?.edit.status === "succeeded");
    const stub = env.EDIT.getByName(id);

    // Dirty, and the write slot taken far ahead: the alarm must defer the write, not drop it.
    await runInDurableObject(stub, async (_i, state) => {
      state.storage.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('kv_version', 0)");
      state.storage.sql.exec(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('kv_written_at', ?)",
        Date.now() + 60_000,
      );
      await state.storage.setAlarm(Date.now() + 60_000);
    });
    await restartEdit(stub);
    await env.EDITS.delete(`edit:${id}`);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await kvSnapshot(id)).toBeNull();
    const deferred = await runInDurableObject(stub, async (_i, state) => ({
      alarm: await state.storage.getAlarm(),
      kvVersion: new EditStore(state.storage).get("kv_version"),
    }));
    expect(deferred.kvVersion).toBe(0);
    expect(deferred.alarm).not.toBeNull();

    // The slot free again: the next alarm writes the snapshot and the projection is clean.
    await runInDurableObject(stub, (_i, state) => {
      state.storage.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('kv_written_at', 0)");
    });
    await restartEdit(stub);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const snap = await kvSnapshot(id);
    expect(snap?.edit).toEqual(res.body);
    const after = await runInDurableObject(stub, async (_i, state) => {
      const store = new EditStore(state.storage);
      return {
        alarm: await state.storage.getAlarm(),
        kvVersion: store.get("kv_version"),
        docVersion: store.get("doc_version"),
        eraseAt: store.get("erase_at"),
      };
    });
    expect(after.kvVersion).toBe(after.docVersion);
    // Nothing else is due: the alarm waits for the end of the edit's retention.
    expect(after.alarm).toBe(after.eraseAt);
  });

  // Fault: a cancel whose DELETE fails is reported as an error (or as cancelled), although Oxen
  // had already finished the job: the GET after the DELETE says what it really became.
  it("answers a cancel with the real outcome when Oxen's DELETE fails for a finished job", async () => {
    const { client, id, generationId } = await heldEdit();
    // The hub stops watching the generation: its completion arrives as an orphan nobody forwards.
    await runInDurableObject(await hub(), (_i, state) => {
      state.storage.sql.exec("DELETE FROM generations WHERE generation_id = ?", generationId);
    });
    await sim(`/generations/${generationId}/finish`, { status: "succeeded" });
    expect((await simGeneration(generationId))?.status).toBe("succeeded");
    const before = await call("GET", `/v1/edits/${id}`, { token: client.api_key });
    expect(["queued", "processing"]).toContain(before.body.status);

    await sim("/faults", { route: "cancel", status: 500, count: 1 });
    const cancelled = await call("POST", `/v1/edits/${id}/cancel`, { token: client.api_key });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe("succeeded");
    expect(cancelled.body.outputs[0]).toMatchObject({ generation_id: generationId, status: "succeeded" });
    expect(cancelled.body.outputs[0].url).toEqual(expect.any(String));
    // The fault was consumed: the DELETE really was sent and refused.
    expect((await sim("/faults")).faults).toHaveLength(0);
    const get = await call("GET", `/v1/edits/${id}`, { token: client.api_key });
    expect(get.body.status).toBe("succeeded");
  });

  // Fault: when the outcome cannot be read after a DELETE Oxen accepted, the cancel guesses
  // "cancelled" (or answers 200), though the job may have finished first.
  it("does not guess a cancel whose outcome cannot be read, and succeeds once it can", async () => {
    const { client, id, generationId } = await heldEdit();
    await sim("/faults", { route: "get", status: 503, count: 20 });
    const failed = await call("POST", `/v1/edits/${id}/cancel`, { token: client.api_key });
    expect(failed.status).toBeGreaterThanOrEqual(500);
    expect(failed.status).toBeLessThan(600);
    // Oxen's 503 on the reads, in the contract's envelope.
    expect(failed.status).toBe(503);
    expect(failed.body.error).toMatchObject({ type: "oxen_unavailable", message: expect.any(String) });
    expect(failed.body.status).toBeUndefined();
    // The DELETE itself went through on Oxen.
    expect((await simGeneration(generationId))?.status).toBe("cancelled");

    const meanwhile = await runInDurableObject(env.EDIT.getByName(id), (_i, state) =>
      new EditStore(state.storage).load(),
    );
    expect(meanwhile?.edit.status).not.toBe("cancelled");
    expect(meanwhile?.edit.outputs[0]?.status).not.toBe("cancelled");

    await fetch(`${simBase()}/_control/faults`, { method: "DELETE" });
    const cancelled = await call("POST", `/v1/edits/${id}/cancel`, { token: client.api_key });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe("cancelled");
    expect(cancelled.body.outputs[0].status).toBe("cancelled");
  });

  // Fault: MAX_EDIT_SECONDS passes and the edit waits on Oxen for ever (no timeout, no webhook,
  // and the job keeps running and charging on Oxen).
  it("fails an edit past its deadline with timeout, tells the webhook, and cancels on Oxen", async () => {
    const path = uniquePath("deadline");
    const { client, id, generationId } = await heldEdit({ webhook: hookUrl(path) });
    const stub = env.EDIT.getByName(id);
    await runInDurableObject(stub, (_i, state) => {
      state.storage.sql.exec(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('deadline_at', ?)",
        Date.now() - 1_000,
      );
    });
    await restartEdit(stub);
    expect(await runDurableObjectAlarm(stub)).toBe(true);

    const edit = await call("GET", `/v1/edits/${id}`, { token: client.api_key });
    expect(edit.body.status).toBe("failed");
    expect(edit.body.error).toMatchObject({ type: "timeout", message: expect.any(String) });
    expect(edit.body.outputs[0].status).toBe("failed");

    const [hook] = await atLeast(path, 1);
    const payload = JSON.parse(hook!.body);
    expect(payload.type).toBe("edit.failed");
    expect(payload.data.error.type).toBe("timeout");

    await until(async () => (await simGeneration(generationId))?.status === "cancelled");
  });

  // Fault: a malformed variable is silently replaced by a default, so the relay runs with a
  // retry schedule or timeout nobody chose.
  it("refuses to serve with a malformed retry schedule or timeout", async () => {
    for (const [variable, value] of [
      ["WEBHOOK_RETRY_SCHEDULE", "5,x"],
      ["WEBHOOK_TIMEOUT_MS", "15s"],
    ] as const) {
      const ctx = createExecutionContext();
      const res = await createApp().fetch(
        new Request("http://relay/healthz"),
        { ...env, [variable]: value } as Env,
        ctx,
      );
      await waitOnExecutionContext(ctx);
      expect(res.status).toBe(503);
      const json = (await res.json()) as { error: { type: string; message: string } };
      expect(json.error.type).toBe("misconfigured");
      expect(json.error.message).toContain(variable);
    }
    // The real configuration still serves.
    const ok = await call("GET", "/healthz");
    expect(ok.status).toBe(200);
  });

  // Faults: the store's document, version and intent bookkeeping, and the outbox's lease,
  // retry, resume and redeliver-while-sending states, each on a fresh object.
  it("EditStore and Outbox keep their bookkeeping straight", async () => {
    const name = freshEditName();
    const stub = env.EDIT.getByName(name);
    await runInDurableObject(stub, (_i, state) => {
      const store = new EditStore(state.storage);
      expect(store.exists()).toBe(false);
      expect(store.load()).toBeNull();
      expect(store.fingerprint()).toBeNull();
      expect(store.intent()).toBeNull();
      expect(store.get("doc_version")).toBeNull();

      store.setIntent("fp-1", 1_000);
      expect(store.exists()).toBe(true);
      expect(store.intent()).toEqual({ fingerprint: "fp-1", started_at: 1_000 });
      store.setIntent("fp-2", 2_000);
      expect(store.intent()).toEqual({ fingerprint: "fp-2", started_at: 2_000 });
      store.clearIntent();
      expect(store.intent()).toBeNull();
      store.migrate();

      const edit = {
        id: name,
        object: "edit",
        status: "queued",
        model: "qwen-image-edit-2511",
        input: { prompt: "p", input_image: ["https://example.com/a.png"] },
        outputs: [{ generation_id: "g1", status: "queued", url: null, error: null }],
        error: null,
        webhooks: [],
        metadata: {},
        created_at: new Date(0).toISOString(),
        completed_at: null,
      } as unknown as Snapshot["edit"];
      store.save({ client_id: "client_x", edit }, "fp-2");
      expect(store.get("doc_version")).toBe(1);
      expect(store.fingerprint()).toBe("fp-2");
      const processing = { ...edit, status: "processing" } as Snapshot["edit"];
      store.save({ client_id: "client_x", edit: processing });
      expect(store.get("doc_version")).toBe(2);
      store.save({ client_id: "client_x", edit: processing });
      expect(store.get("doc_version")).toBe(3);

      // A second store over the same storage reads what was written, not a cache.
      const reread = new EditStore(state.storage);
      expect(reread.load()).toEqual({ client_id: "client_x", edit: processing });
      expect(reread.fingerprint()).toBe("fp-2");

      store.set("deadline_at", 42);
      expect(store.get("deadline_at")).toBe(42);
      store.set("deadline_at", null);
      expect(store.get("deadline_at")).toBeNull();

      // Over a row's limit: refused before anything is written.
      const huge = { ...processing, metadata: { big: "x".repeat(MAX_ROW_BYTES + 1) } } as Snapshot["edit"];
      expect(() => store.save({ client_id: "client_x", edit: huge })).toThrow(/exceeds/);
      expect(store.get("doc_version")).toBe(3);
      const after = new EditStore(state.storage);
      expect(after.load()?.edit.metadata).toEqual({});
      const longest = state.storage.sql.exec<{ n: number }>("SELECT MAX(LENGTH(doc)) AS n FROM edit").one().n;
      expect(longest).toBeLessThan(MAX_ROW_BYTES);

      // The outbox.
      const outbox = new Outbox(state.storage.sql);
      const event = { event_id: "msg_1", type: "edit.succeeded", payload: "{}", created_at: 10_000 };
      outbox.addEvent(event, ["https://a.example/h", "https://b.example/h"]);
      outbox.addEvent(event, ["https://a.example/h"]); // a replay adds nothing
      expect(outbox.events()).toHaveLength(1);
      expect(outbox.event("msg_1")).toMatchObject({ type: "edit.succeeded" });
      expect(outbox.due(9_999)).toEqual([]);
      const due = outbox.due(10_000);
      expect(due.map((r) => r.url).sort()).toEqual(["https://a.example/h", "https://b.example/h"]);
      expect(outbox.nextDue()).toBe(10_000);
      const a = due.find((r) => r.url === "https://a.example/h")!;
      const b = due.find((r) => r.url === "https://b.example/h")!;

      // A leased attempt is not due again before its lease ends.
      expect(outbox.begin(a, 50_000)).toBe(1);
      expect(outbox.due(20_000).map((r) => r.url)).toEqual(["https://b.example/h"]);
      expect(
        outbox
          .due(50_000)
          .map((r) => r.url)
          .sort(),
      ).toEqual(["https://a.example/h", "https://b.example/h"]);
      const fail = { status: 500, error: null, durationMs: 5, retryAfter: null, response: null };
      outbox.finish(a, event.type, 1, fail, { kind: "retry", at: 30_000 }, 20_000);
      let rowA = outbox.rows().find((r) => r.url === a.url)!;
      expect(rowA).toMatchObject({ state: "pending", attempts: 1, next_at: 30_000 });
      expect(outbox.due(29_999).map((r) => r.url)).toEqual(["https://b.example/h"]);

      // An attempt interrupted by the object's death is due at once in the next instance.
      expect(outbox.begin(rowA, 80_000)).toBe(2);
      expect(outbox.resumeInterrupted(31_000)).toBe(1);
      rowA = outbox.rows().find((r) => r.url === a.url)!;
      expect(rowA).toMatchObject({ state: "pending", attempts: 2, next_at: 31_000 });

      // Delivered, then a redelivery asked for while another attempt of it is in flight.
      const ok = { status: 200, error: null, durationMs: 5, retryAfter: null, response: null };
      expect(outbox.begin(rowA, 90_000)).toBe(3);
      outbox.finish(rowA, event.type, 3, ok, { kind: "delivered" }, 32_000);
      expect(outbox.begin(b, 90_000)).toBe(1);
      expect(outbox.requeue("msg_1", 40_000)).toBe(2);
      rowA = outbox.rows().find((r) => r.url === a.url)!;
      // Contract v1.2: a redelivery keeps counting attempts, and is one attempt (redeliver = 2).
      expect(rowA).toMatchObject({ state: "pending", attempts: 3, next_at: 40_000, redeliver: 2 });
      // b is in flight: marked, not due until its attempt finishes.
      expect(outbox.due(45_000).map((r) => r.url)).toEqual(["https://a.example/h"]);
      expect(outbox.rows().find((r) => r.url === b.url)).toMatchObject({ state: "sending", next_at: 90_000 });
      outbox.finish(b, event.type, 1, ok, { kind: "delivered" }, 46_000);
      expect(outbox.rows().find((r) => r.url === b.url)).toMatchObject({
        state: "pending",
        next_at: 46_000,
        attempts: 1,
        redeliver: 2,
      });
      expect(
        outbox
          .due(46_000)
          .map((r) => r.url)
          .sort(),
      ).toEqual(["https://a.example/h", "https://b.example/h"]);
      // The flag is spent: the next finish settles the row.
      const bAgain = outbox.rows().find((r) => r.url === b.url)!;
      expect(outbox.begin(bAgain, 99_000)).toBe(2);
      outbox.finish(bAgain, event.type, 2, ok, { kind: "delivered" }, 47_000);
      expect(outbox.rows().find((r) => r.url === b.url)).toMatchObject({ state: "delivered", next_at: null });

      expect(
        outbox.attemptLog.all().map((x) => [x.url, x.attempt, x.status_code, x.next_attempt_at]),
      ).toEqual([
        ["https://a.example/h", 1, 500, 30_000],
        ["https://a.example/h", 3, 200, null],
        ["https://b.example/h", 1, 200, 46_000],
        ["https://b.example/h", 2, 200, null],
      ]);
    });
  });

  // Fault (found by this test, fixed): EditStore.save guarded MAX_ROW_BYTES (2,000,000 *bytes*,
  // Cloudflare's row limit) with `doc.length`, which counts UTF-16 code units. A document of
  // 1,000,000 "€" is 1,000,0xx characters but 3,000,0xx UTF-8 bytes: it passed the guard and was
  // written (local workerd does not enforce the row limit; production would fail at SQLite).
  it("refuses a document over the row limit in UTF-8 bytes, not only in characters", async () => {
    await runInDurableObject(env.EDIT.getByName(freshEditName()), (_i, state) => {
      const store = new EditStore(state.storage);
      store.migrate();
      const edit = { id: "x", metadata: {} } as unknown as Snapshot["edit"];
      store.save({ client_id: "c", edit }, "fp");
      const big = { id: "x", metadata: { big: "€".repeat(1_000_000) } } as unknown as Snapshot["edit"];
      expect(new TextEncoder().encode(JSON.stringify(big)).length).toBeGreaterThan(MAX_ROW_BYTES);
      expect(() => store.save({ client_id: "c", edit: big })).toThrow(/exceeds/);
      const bytes = state.storage.sql
        .exec<{ b: number }>("SELECT LENGTH(CAST(doc AS BLOB)) AS b FROM edit")
        .one().b;
      expect(bytes).toBeLessThanOrEqual(MAX_ROW_BYTES);
    });
  });
  // Fault: a copy that never succeeds holds the terminal event back for ever (or drops it): past
  // the copy window the event must go out with Oxen's link and `persisted: false`.
  it("sends the event with Oxen's URL and persisted: false once the copy window has passed", async () => {
    await sim("/faults", { route: "files", status: 500, count: 1_000 });
    const path = uniquePath("unpersisted");
    const { client, id, generationId } = await heldEdit({ webhook: hookUrl(path) });
    await sim(`/generations/${generationId}/finish`, { status: "succeeded" });
    const stub = env.EDIT.getByName(id);
    // The copy is being retried: the output waits, and no event has gone out.
    await until(() =>
      runInDurableObject(stub, (_i, state) =>
        state.storage.sql.exec<{ attempts: number }>("SELECT attempts FROM copies").toArray()[0]?.attempts
          ? true
          : null,
      ),
    );
    expect((await call("GET", `/v1/edits/${id}`, { token: client.api_key })).body.status).not.toBe(
      "succeeded",
    );
    expect(await received(path)).toHaveLength(0);
    // The window (60 s) passes: the next copy run gives up on the copy, not on the event.
    await runInDurableObject(stub, (_i, state) => {
      state.storage.sql.exec("UPDATE copies SET first_at = first_at - 61000, next_at = ?", Date.now());
    });
    await runDurableObjectAlarm(stub);
    const [hook] = await atLeast(path, 1);
    const out = JSON.parse(hook!.body).data.outputs[0];
    expect(out).toMatchObject({ status: "succeeded", persisted: false });
    expect(out.url).toBe(out.oxen_url);
    expect(out.url).toContain(`${simBase()}/files/${generationId}`);
    const edit = (await call("GET", `/v1/edits/${id}`, { token: client.api_key })).body;
    expect(edit.status).toBe("succeeded");
    expect(edit.outputs[0]).toMatchObject({ persisted: false, url: out.url });
    const left = await runInDurableObject(stub, (_i, state) =>
      state.storage.sql.exec("SELECT * FROM copies").toArray(),
    );
    expect(left).toHaveLength(0);
  });
  // KV holds an unfinished edit's list entry only (one write, not one per state): a status filter
  // and the list's documents must still show where the edit really is, read from its object.
  it("lists an unfinished edit by its live status, with no snapshot in KV until it ends", async () => {
    const { client, id, generationId } = await heldEdit();
    // What the hub does when it learns the job started.
    await env.EDIT.getByName(id).applyUpdates([{ generation_id: generationId, status: "processing" }]);
    const live = (await call("GET", `/v1/edits/${id}`, { token: client.api_key })).body;
    expect(live.status).toBe("processing");
    expect(await kvSnapshot(id)).toBeNull();
    const entries = await env.EDITS.list<{ status: string }>({ prefix: `list:${client.id}:` });
    expect(entries.keys.map((k) => k.metadata?.status)).toEqual(["queued"]);
    const processing = await call("GET", "/v1/edits?status=processing", { token: client.api_key });
    expect(processing.body.data).toEqual([live]);
    expect((await call("GET", "/v1/edits?status=queued", { token: client.api_key })).body.data).toEqual([]);
    expect((await call("GET", "/v1/edits", { token: client.api_key })).body.data).toEqual([live]);

    await sim(`/generations/${generationId}/finish`, { status: "succeeded" });
    await until(async () => (await kvSnapshot(id))?.edit.status === "succeeded");
    const done = await env.EDITS.list<{ status: string }>({ prefix: `list:${client.id}:` });
    expect(done.keys.map((k) => k.metadata?.status)).toEqual(["succeeded"]);
    expect((await call("GET", "/v1/edits?status=processing", { token: client.api_key })).body.data).toEqual(
      [],
    );
  });
});
