import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { readConfig } from "../../src/core/config";
import { hubStub } from "../../src/hub/name";
import { call, hookUrl, newClient, received, sim, simBase, uniquePath, until } from "./helpers";

const hub = () => hubStub(env, readConfig(env));

async function enqueueDirect(): Promise<string> {
  const res = await fetch(`${env.OXEN_BASE_URL}/ai/queue`, {
    method: "POST",
    headers: { authorization: "Bearer sim_test_key", "content-type": "application/json" },
    body: JSON.stringify({
      model: "qwen-image-edit-2511",
      prompt: "p",
      input_image: ["https://example.com/a.png"],
    }),
  });
  const json = (await res.json()) as { generations: { generation_id: string }[] };
  return json.generations[0]!.generation_id;
}

describe("hub", () => {
  it("keeps a completion that beats its registration, and hands it over on register", async () => {
    const h = await hub();
    expect(await h.ensureConnected()).toBe(true);
    const gen = await enqueueDirect();
    await until(async () => {
      const state = await sim("/state");
      return state.log.some((e: { generation_id: string }) => e.generation_id === gen);
    });
    await new Promise((r) => setTimeout(r, 100));
    const early = await h.register("edit_unknownToAnyone00000", [gen]);
    expect(early).toEqual([expect.objectContaining({ generation_id: gen, status: "succeeded" })]);
    // Kept until the edit has applied it and says so: an eviction in between loses nothing.
    expect((await h.status()).outstanding).toBe(1);
    await h.forget([gen]);
    expect((await h.status()).outstanding).toBe(0);
  });

  it("after eviction, its alarm reopens the stream and reconciles what finished meanwhile", async () => {
    const client = await newClient();
    const path = uniquePath("evicted");
    await sim("/config", { autoComplete: false });
    try {
      const res = await call("POST", "/v1/edits", {
        token: client.api_key,
        body: {
          prompt: "p",
          input_image: ["https://example.com/a.png"],
          webhook: hookUrl(path),
        },
      });
      expect(res.status).toBe(202);
      expect((await (await hub()).status()).outstanding).toBeGreaterThanOrEqual(1);

      await abortAllDurableObjects();
      // Fired while our hub is gone: the stream drops it, as Oxen's does.
      await sim(`/generations/${res.body.outputs[0].generation_id}/finish`, { status: "succeeded" });
      expect(await runDurableObjectAlarm(await hub())).toBe(true);

      const hooks = await until(async () => ((await received(path)).length ? received(path) : null));
      expect(JSON.parse(hooks[0]!.body).type).toBe("edit.succeeded");
      const edit = await call("GET", `/v1/edits/${res.body.id}`, { token: client.api_key });
      expect(edit.body.status).toBe("succeeded");
      expect((await (await hub()).status()).connected).toBe(true);
    } finally {
      await sim("/config", { autoComplete: true });
    }
  });

  it("reconnects when Oxen closes the stream", async () => {
    const h = await hub();
    await h.ensureConnected();
    await fetch(`${simBase()}/_control/streams/close`, { method: "POST" });
    await until(async () => (await sim("/state")).subscribers >= 1 && (await h.status()).connected);
  });

  it("reads Oxen's legacy 404 for a finished job as an unknown outcome, never as success", async () => {
    const client = await newClient();
    const path = uniquePath("legacy");
    await sim("/config", { autoComplete: false });
    try {
      const res = await call("POST", "/v1/edits", {
        token: client.api_key,
        body: { prompt: "p", input_image: ["https://example.com/a.png"], webhook: hookUrl(path) },
      });
      // Registration runs after the answer: the hub knows the job once it has come.
      const gen = res.body.outputs[0].generation_id as string;
      await until(async () =>
        runInDurableObject(await hub(), (_i, state) =>
          state.storage.sql.exec("SELECT 1 FROM generations WHERE generation_id = ?", gen).toArray().length >
          0
            ? true
            : null,
        ),
      );
      await abortAllDurableObjects();
      await sim("/config", { legacy404AfterFinish: true });
      await sim(`/generations/${res.body.outputs[0].generation_id}/finish`, { status: "succeeded" });
      const h = await hub();
      // Past the grace a fresh registration gets (Oxen may 404 an id it has only just accepted).
      await runInDurableObject(h, (_instance, state) => {
        state.storage.sql.exec("UPDATE generations SET registered_at = 0");
      });
      expect(await runDurableObjectAlarm(h)).toBe(true);
      const hooks = await until(async () => ((await received(path)).length ? received(path) : null));
      const payload = JSON.parse(hooks[0]!.body);
      expect(payload.type).toBe("edit.failed");
      expect(payload.data.error.message).toMatch(/outcome is unknown/);
    } finally {
      await sim("/config", { autoComplete: true, legacy404AfterFinish: false });
    }
  });
});
