import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { readConfig } from "../../src/core/config";
import type { GenerationUpdate } from "../../src/core/status";
import { HUB_MIGRATIONS } from "../../src/hub/migrations";
import { hubStub } from "../../src/hub/name";
import { MAX_CHECKS_PER_PASS } from "../../src/hub/reconcile";
import { HubStore } from "../../src/hub/store";
import { ADMIN, call, hookUrl, newClient, received, sim, simBase, uniquePath, until } from "./helpers";

const hub = () => hubStub(env, readConfig(env));

const control = (path: string, method: string) => fetch(`${simBase()}/_control${path}`, { method });

afterEach(async () => {
  await control("/stream-faults", "DELETE");
  await control("/faults", "DELETE");
  await sim("/config", { autoComplete: true });
});

interface SimState {
  subscribers: number;
  injected: { stream_silent: number; stream_hung: number; rest: Record<string, number> };
}
const simState = (): Promise<SimState> => sim("/state");

/** Waits until the hub holds a stream that opened after `since` stream opens of `kind` were counted. */
async function connectedAfter(kind: "stream_silent" | "stream_hung" | null, before: number) {
  const h = await hub();
  await until(async () => {
    const state = await simState();
    if (kind !== null && state.injected[kind] <= before) return false;
    return kind === "stream_hung" || (await h.status()).connected;
  });
}

async function createEdit(path: string) {
  const client = await newClient();
  const res = await call("POST", "/v1/edits", {
    token: client.api_key,
    body: { prompt: "p", input_image: ["https://example.com/a.png"], webhook: hookUrl(path) },
  });
  expect(res.status).toBe(202);
  return { client, id: res.body.id as string, gen: res.body.outputs[0].generation_id as string };
}

async function hubRows(where: string, ...args: SqlStorageValue[]) {
  return runInDurableObject(await hub(), (_i, state) =>
    state.storage.sql
      .exec<{ generation_id: string; checked_at: number }>(
        `SELECT generation_id, checked_at FROM generations WHERE ${where}`,
        ...args,
      )
      .toArray(),
  );
}

describe("hub edges", () => {
  // Fault: a half-open stream (headers, then not one byte, not even keep-alives).
  it("drops a silent stream, reconnects by itself, and completions flow again", async () => {
    const h = await hub();
    expect(await h.ensureConnected()).toBe(true);
    const silentBefore = (await simState()).injected.stream_silent;
    await sim("/stream-faults", { silent: true });
    await sim("/streams/close", {});
    // The hub reconnects at once (Oxen closing a stream is routine) and gets a silent stream.
    await connectedAfter("stream_silent", silentBefore);
    // Streams opened from now on are healthy; the silent one stays silent until dropped. (Turned off
    // before the check, not after: the hub reconnects within milliseconds of dropping the stream, and
    // a reconnect while `silent` is still on would just get another silent stream.)
    await sim("/stream-faults", { silent: false });

    const after = await runInDurableObject(h, async (instance) => {
      const dropped = await instance.checkStream(Date.now() + 46_000);
      // Same invocation, no I/O in between: the reconnect cannot have answered yet.
      return { dropped, status: await instance.status() };
    });
    expect(after.dropped).toBe(true);
    expect(after.status.connected).toBe(false);

    // Back by itself: nobody calls ensureConnected, no alarm is fired.
    await until(async () => (await h.status()).connected);

    await sim("/config", { autoComplete: false });
    const path = uniquePath("after-silence");
    const edit = await createEdit(path);
    await sim(`/generations/${edit.gen}/finish`, { status: "succeeded" });
    // Well inside the 30 s heartbeat: it came over the new stream.
    const hooks = await until(async () => ((await received(path)).length ? received(path) : null), 10_000);
    expect(JSON.parse(hooks[0]!.body).type).toBe("edit.succeeded");
    const got = await call("GET", `/v1/edits/${edit.id}`, { token: edit.client.api_key });
    expect(got.body.status).toBe("succeeded");
  });

  // Fault: Oxen accepts the connection but never answers with headers.
  it("drops a stream that never opened and reconnects once Oxen answers", async () => {
    const h = await hub();
    expect(await h.ensureConnected()).toBe(true);
    const hungBefore = (await simState()).injected.stream_hung;
    await sim("/stream-faults", { hangOnOpen: true });
    await sim("/streams/close", {});
    await connectedAfter("stream_hung", hungBefore);
    expect((await h.status()).connected).toBe(false);
    // Deterministic here: the reconnect is held by the simulator, so nothing can flip it back.
    const health = await call("GET", "/healthz", { token: ADMIN });
    expect(health.status).toBe(200);
    expect(health.body.hub.connected).toBe(false);

    // Not yet past the 10 s open timeout: left alone.
    expect(await runInDurableObject(h, (instance) => instance.checkStream(Date.now() + 1_000))).toBe(false);
    await sim("/stream-faults", { hangOnOpen: false });
    expect(await runInDurableObject(h, (instance) => instance.checkStream(Date.now() + 11_000))).toBe(true);
    await until(async () => (await h.status()).connected);
  });

  // Fault: a completion beats its registration, and the edit is slow to say it has applied it.
  it("keeps an early completion as outstanding until the edit forgets it", async () => {
    const h = await hub();
    expect(await h.ensureConnected()).toBe(true);
    await sim("/config", { autoComplete: false });
    const path = uniquePath("early-forget");
    const edit = await createEdit(path);
    // As if the registration had not happened yet.
    await runInDurableObject(h, (_i, state) => {
      state.storage.sql.exec("DELETE FROM generations WHERE generation_id = ?", edit.gen);
    });
    await sim(`/generations/${edit.gen}/finish`, { status: "succeeded" });
    await until(async () =>
      runInDurableObject(h, (_i, state) => {
        return state.storage.sql.exec("SELECT 1 FROM orphans WHERE generation_id = ?", edit.gen).toArray()
          .length;
      }),
    );
    const base = (await h.status()).outstanding;
    const early = await h.register(`edit_fake_${crypto.randomUUID()}`, [edit.gen]);
    expect(early).toEqual([expect.objectContaining({ generation_id: edit.gen, status: "succeeded" })]);
    expect((await h.status()).outstanding).toBe(base + 1);
    // A repeated registration (the edit retrying) hands it over again and counts it once.
    expect(await h.register(`edit_fake_${crypto.randomUUID()}`, [edit.gen])).toHaveLength(1);
    expect((await h.status()).outstanding).toBe(base + 1);
    await h.forget([edit.gen]);
    expect((await h.status()).outstanding).toBe(base);
    const orphans = await runInDurableObject(h, (_i, state) =>
      state.storage.sql.exec("SELECT 1 FROM orphans WHERE generation_id = ?", edit.gen).toArray(),
    );
    expect(orphans).toEqual([]);
  });

  // Fault: the hub is reset between handing over an early completion and the edit's forget.
  it("after an abort between register and forget, reconcile hands the kept completion on", async () => {
    let h = await hub();
    expect(await h.ensureConnected()).toBe(true);
    await sim("/config", { autoComplete: false });
    const path = uniquePath("early-abort");
    const edit = await createEdit(path);
    await runInDurableObject(h, (_i, state) => {
      state.storage.sql.exec("DELETE FROM generations WHERE generation_id = ?", edit.gen);
    });
    await sim(`/generations/${edit.gen}/finish`, { status: "succeeded" });
    await until(async () =>
      runInDurableObject(h, (_i, state) => {
        return state.storage.sql.exec("SELECT 1 FROM orphans WHERE generation_id = ?", edit.gen).toArray()
          .length;
      }),
    );
    // Registered under the real edit, which never gets to apply what came back.
    const early = await h.register(edit.id, [edit.gen]);
    expect(early).toHaveLength(1);
    const before = await call("GET", `/v1/edits/${edit.id}`, { token: edit.client.api_key });
    expect(before.body.status).not.toBe("succeeded");

    await abortAllDurableObjects();
    // Oxen's REST cannot tell it: only the completion the hub kept can finish the edit.
    await sim("/faults", { route: "get", status: 500, probability: 1 });
    h = await hub();
    await h.reconcile();

    const got = await until(async () => {
      const res = await call("GET", `/v1/edits/${edit.id}`, { token: edit.client.api_key });
      return res.body.status === "succeeded" ? res.body : null;
    }, 5_000);
    expect(got.outputs[0].status).toBe("succeeded");
    const hooks = await until(async () => ((await received(path)).length ? received(path) : null));
    expect(JSON.parse(hooks[0]!.body).type).toBe("edit.succeeded");
    // Settled once the edit had it: neither the row nor the orphan remains.
    expect(await hubRows("generation_id = ?", edit.gen)).toEqual([]);
  });

  // Fault: a backlog far larger than one pass may ask about (subrequest limit).
  it("reconciles a large backlog in bounded passes, least recently checked first", async () => {
    const h = await hub();
    expect(await h.ensureConnected()).toBe(true);
    const prefix = `edit_scale_${crypto.randomUUID().slice(0, 8)}_`;
    // Counted through delay-only faults that always match and never delay.
    await sim("/faults", { route: "get", delayMs: 0, probability: 1 });
    await sim("/faults", { route: "list", delayMs: 0, probability: 1 });
    const ids: string[] = [];
    try {
      await runInDurableObject(h, async (_i, state) => {
        // No heartbeat in the middle of the count; restored below.
        await state.storage.deleteAlarm();
        const registeredAt = Date.now() - 60_000;
        for (let i = 0; i < 450; i++) {
          const id = crypto.randomUUID();
          ids.push(id);
          state.storage.sql.exec(
            "INSERT INTO generations (generation_id, edit_id, registered_at, last_status, checked_at) VALUES (?, ?, ?, 'queued', 0)",
            id,
            `${prefix}${i}`,
            registeredAt,
          );
        }
      });
      const others = (await hubRows("edit_id NOT LIKE ?", `${prefix}%`)).length;

      const count = async () => {
        const rest = (await simState()).injected.rest;
        return { get: rest["get:delay"] ?? 0, list: rest["list:delay"] ?? 0 };
      };
      const c0 = await count();
      await h.reconcile();
      const c1 = await count();
      expect(c1.get - c0.get).toBeLessThanOrEqual(MAX_CHECKS_PER_PASS);
      expect(c1.list - c0.list).toBe(1);
      // Past the 404 grace each one read is settled as unknown (its fake edit has nothing to apply).
      const left1 = new Set((await hubRows("edit_id LIKE ?", `${prefix}%`)).map((r) => r.generation_id));
      const firstPass = ids.filter((id) => !left1.has(id));
      expect(firstPass.length).toBe(MAX_CHECKS_PER_PASS - Math.min(others, MAX_CHECKS_PER_PASS));
      expect(firstPass.length).toBe(c1.get - c0.get - Math.min(others, MAX_CHECKS_PER_PASS));

      await h.reconcile();
      const c2 = await count();
      expect(c2.get - c1.get).toBeLessThanOrEqual(MAX_CHECKS_PER_PASS);
      expect(c2.list - c1.list).toBe(1);
      const left2 = new Set((await hubRows("edit_id LIKE ?", `${prefix}%`)).map((r) => r.generation_id));
      const secondPass = ids.filter((id) => left1.has(id) && !left2.has(id));
      expect(secondPass.length).toBeGreaterThan(0);
      expect(secondPass.some((id) => firstPass.includes(id))).toBe(false);
    } finally {
      await runInDurableObject(h, async (_i, state) => {
        state.storage.sql.exec("DELETE FROM generations WHERE edit_id LIKE ?", `${prefix}%`);
        await state.storage.setAlarm(Date.now() + 30_000);
      });
    }
  });

  // Fault: a backlog whose ids stay outstanding (inside the 404 grace) must still be walked in turn.
  it("rotates through a backlog that stays outstanding instead of re-reading its head", async () => {
    const h = await hub();
    expect(await h.ensureConnected()).toBe(true);
    const prefix = `edit_rotate_${crypto.randomUUID().slice(0, 8)}_`;
    try {
      await runInDurableObject(h, async (_i, state) => {
        await state.storage.deleteAlarm();
        // Just accepted: Oxen's 404 is not believed yet, so every row stays after being read.
        const registeredAt = Date.now();
        for (let i = 0; i < 450; i++) {
          state.storage.sql.exec(
            "INSERT INTO generations (generation_id, edit_id, registered_at, last_status, checked_at) VALUES (?, ?, ?, 'queued', 0)",
            crypto.randomUUID(),
            `${prefix}${i}`,
            registeredAt,
          );
        }
      });
      const mine = () => hubRows("edit_id LIKE ?", `${prefix}%`);
      const others = (await hubRows("edit_id NOT LIKE ?", `${prefix}%`)).length;
      const expected = MAX_CHECKS_PER_PASS - Math.min(others, MAX_CHECKS_PER_PASS);

      await h.reconcile();
      const after1 = await mine();
      expect(after1).toHaveLength(450);
      const first = new Map(
        after1.filter((r) => r.checked_at > 0).map((r) => [r.generation_id, r.checked_at]),
      );
      expect(first.size).toBe(expected);

      await h.reconcile();
      const after2 = await mine();
      const second = after2.filter((r) => r.checked_at > 0 && !first.has(r.generation_id));
      expect(second.length).toBeGreaterThan(0);
      // None read in the first pass was read again while unread ones remained.
      for (const r of after2)
        if (first.has(r.generation_id)) expect(r.checked_at).toBe(first.get(r.generation_id));
      expect(after2.filter((r) => r.checked_at > 0)).toHaveLength(first.size + second.length);
    } finally {
      await runInDurableObject(h, async (_i, state) => {
        state.storage.sql.exec("DELETE FROM generations WHERE edit_id LIKE ?", `${prefix}%`);
        await state.storage.setAlarm(Date.now() + 30_000);
      });
    }
  });

  // Fault: none; the store's own contract, on an object of its own.
  it("HubStore: register, orphans, prune, settle, markChecked, counts, schema version", async () => {
    const stub = env.HUB.getByName(`test-store-${crypto.randomUUID()}`);
    await runInDurableObject(stub, (_i, state) => {
      const store = new HubStore(state.storage);
      const version = state.storage.sql.exec<{ version: number }>("SELECT version FROM _schema").toArray();
      expect(version).toEqual([{ version: HUB_MIGRATIONS.length }]);
      expect(HUB_MIGRATIONS.length).toBe(2);

      const now = 1_000_000_000;
      expect(store.counts()).toEqual({ outstanding: 0, orphans: 0 });
      expect(store.register("edit_a", ["g1", "g2"], now)).toEqual([]);
      expect(store.editFor("g1")).toBe("edit_a");
      expect(store.editFor("nope")).toBeNull();
      // A second registration of the same id does not move it to another edit.
      store.register("edit_b", ["g1"], now + 5);
      expect(store.editFor("g1")).toBe("edit_a");
      expect(store.counts()).toEqual({ outstanding: 2, orphans: 0 });

      const early: GenerationUpdate = { generation_id: "g3", status: "succeeded", url: "https://x/y.png" };
      store.keepOrphan(early, now);
      expect(store.orphan("g3")).toEqual(early);
      expect(store.counts()).toEqual({ outstanding: 2, orphans: 1 });
      expect(store.register("edit_c", ["g3"], now + 1)).toEqual([early]);
      // Handed over but kept until settled.
      expect(store.orphan("g3")).toEqual(early);
      expect(store.counts()).toEqual({ outstanding: 3, orphans: 1 });

      const old: GenerationUpdate = { generation_id: "g4", status: "failed", error: "boom" };
      store.keepOrphan(old, now - 20 * 60_000);
      store.keepOrphan({ generation_id: "g5", status: "succeeded" }, now);
      // g3 is old too but registered: it stays.
      store.keepOrphan(early, now - 20 * 60_000);
      store.pruneOrphans(now - 15 * 60_000);
      expect(store.orphan("g4")).toBeNull();
      expect(store.orphan("g3")).toEqual(early);
      expect(store.orphan("g5")).not.toBeNull();
      expect(store.counts()).toEqual({ outstanding: 3, orphans: 2 });

      store.settle("g3");
      expect(store.editFor("g3")).toBeNull();
      expect(store.orphan("g3")).toBeNull();
      expect(store.counts()).toEqual({ outstanding: 2, orphans: 1 });

      const byId = () => new Map(store.outstanding().map((r) => [r.generation_id, r]));
      expect(byId().get("g1")).toMatchObject({ checked_at: 0, last_status: "queued", registered_at: now });
      store.markChecked("g1", now + 100);
      store.noteStatus("g2", "processing");
      expect(byId().get("g1")?.checked_at).toBe(now + 100);
      expect(byId().get("g2")).toMatchObject({ checked_at: 0, last_status: "processing" });
      // Unknown ids are no-ops.
      store.markChecked("nope", now);
      store.settle("nope");
      expect(store.counts()).toEqual({ outstanding: 2, orphans: 1 });

      // Migrating again is a no-op on an object at the current version.
      new HubStore(state.storage);
      expect(state.storage.sql.exec("SELECT version FROM _schema").toArray()).toEqual([
        { version: HUB_MIGRATIONS.length },
      ]);
      expect(store.counts()).toEqual({ outstanding: 2, orphans: 1 });
    });
  });
});
