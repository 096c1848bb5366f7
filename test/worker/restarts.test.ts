import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, expect, it } from "vitest";
import { readConfig } from "../../src/core/config";
import { hubStub } from "../../src/hub/name";
import { call, hookUrl, newClient, received, restartEdit, sim, uniquePath, until } from "./helpers";

afterEach(async () => {
  await fetch(`${env.OXEN_BASE_URL.replace(/\/api$/, "")}/_control/faults`, { method: "DELETE" });
  await sim("/config", { autoComplete: true });
});

// Found by the chaos run: a call in flight to an object the platform resets answered 500.
it("retries a call whose Durable Object was reset under it, instead of answering 500", async () => {
  await sim("/config", { autoComplete: false });
  const client = await newClient();
  const created = await call("POST", "/v1/edits", {
    token: client.api_key,
    body: { prompt: "p", input_image: ["https://example.com/a.png"] },
  });
  await sim("/faults", { route: "cancel", delayMs: 800, count: 1 });
  const pending = call("POST", `/v1/edits/${created.body.id}/cancel`, { token: client.api_key });
  await new Promise((r) => setTimeout(r, 300));
  // The platform's own reset, as a deploy or an eviction does it (the error says so).
  await env.EDIT.getByName(created.body.id)
    .abort()
    .catch(() => {});
  const res = await pending;
  expect(res.status).toBe(200);
  expect(res.body.status).toBe("cancelled");
});

/** Leaves an edit as an object that died after enqueueing, before the hub learnt its generations. */
async function unregister(editId: string) {
  await runInDurableObject(await hubStub(env, readConfig(env)), (_i, state) => {
    state.storage.sql.exec("DELETE FROM generations");
  });
  await runInDurableObject(env.EDIT.getByName(editId), async (_i, state) => {
    state.storage.sql.exec("DELETE FROM meta WHERE key = 'registered_at'");
    await state.storage.deleteAlarm();
  });
  await restartEdit(env.EDIT.getByName(editId));
}

// Found by the full chaos run: an edit object aborted between saving the edit and registering
// with the hub was answered as created on the retry, but never registered: it stayed queued.
it("a retried create finishes the registration a dead object left undone", async () => {
  await sim("/config", { autoComplete: false });
  const client = await newClient();
  const path = uniquePath("reregister");
  const body = { prompt: "p", input_image: ["https://example.com/a.png"], webhook: hookUrl(path) };
  const headers = { "idempotency-key": crypto.randomUUID() };
  const created = await call("POST", "/v1/edits", { token: client.api_key, body, headers });
  await unregister(created.body.id);

  const retried = await call("POST", "/v1/edits", { token: client.api_key, body, headers });
  expect(retried.body.id).toBe(created.body.id);
  await sim(`/generations/${created.body.outputs[0].generation_id}/finish`, { status: "succeeded" });
  const hooks = await until(async () => ((await received(path)).length ? received(path) : null));
  expect(JSON.parse(hooks[0]!.body).type).toBe("edit.succeeded");
});

it("an edit's watchdog alarm registers generations the hub never heard of", async () => {
  await sim("/config", { autoComplete: false });
  const client = await newClient();
  const path = uniquePath("watchdog");
  const created = await call("POST", "/v1/edits", {
    token: client.api_key,
    body: { prompt: "p", input_image: ["https://example.com/a.png"], webhook: hookUrl(path) },
  });
  await unregister(created.body.id);
  const stub = env.EDIT.getByName(created.body.id);
  await runInDurableObject(stub, async (_i, state) => {
    state.storage.sql.exec(
      "UPDATE meta SET value = ? WHERE key = 'registration_check_at'",
      Date.now() - 1_000,
    );
    await state.storage.setAlarm(Date.now() + 60_000);
  });
  await restartEdit(stub);
  // Finished while nobody knew the generation: the hub keeps it as an orphan until registration.
  await sim(`/generations/${created.body.outputs[0].generation_id}/finish`, { status: "succeeded" });
  await new Promise((r) => setTimeout(r, 200));
  expect(await runDurableObjectAlarm(stub)).toBe(true);
  const hooks = await until(async () => ((await received(path)).length ? received(path) : null));
  expect(JSON.parse(hooks[0]!.body).type).toBe("edit.succeeded");
});
