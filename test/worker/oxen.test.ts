import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { OxenClient } from "../../src/oxen/client";
import { call, newClient, sim } from "./helpers";

const oxen = () => new OxenClient({ baseUrl: env.OXEN_BASE_URL, apiKey: "sim_test_key" });
const faults = (spec: object) => sim("/faults", spec);

afterEach(async () => {
  await fetch(`${env.OXEN_BASE_URL.replace(/\/api$/, "")}/_control/faults`, { method: "DELETE" });
});

describe("OxenClient against the simulator", () => {
  it("enqueues, gets, lists, cancels and looks models up", async () => {
    const o = oxen();
    const enq = await o.enqueue({
      model: "qwen-image-edit-2511",
      prompt: "p",
      input_image: ["https://x/a.png"],
      num_generations: 2,
    });
    expect(enq.ok && enq.value.length).toBe(2);
    const id = enq.ok ? enq.value[0]!.generation_id : "";
    const got = await o.getGeneration(id);
    expect(got.ok && got.value?.generation_id).toBe(id);
    const list = await o.listGenerations();
    expect(list.ok).toBe(true);
    const cancelled = await o.cancel(id);
    expect(cancelled).toEqual({ ok: true, value: true });
    const after = await o.getGeneration(id);
    expect(after.ok && after.value?.status).toBe("cancelled");
    expect(await o.getGeneration("00000000-0000-4000-8000-000000000000")).toEqual({ ok: true, value: null });
    expect(await o.cancel("00000000-0000-4000-8000-000000000000")).toEqual({ ok: true, value: null });
    const model = await o.getModel("qwen-image-edit-2511");
    expect(model.ok && model.value?.request_schema).toBeTruthy();
    expect(await o.getModel("no-such-model")).toEqual({ ok: true, value: null });
  });

  it("reads Oxen's refusals into typed failures", async () => {
    const unknown = await oxen().enqueue({ model: "no-such-model" });
    expect(!unknown.ok && unknown.failure.kind).toBe("unknown_model");
    const badKey = await new OxenClient({ baseUrl: env.OXEN_BASE_URL, apiKey: "wrong" }).enqueue({
      model: "qwen-image-edit-2511",
    });
    expect(!badKey.ok && badKey.failure.kind).toBe("auth");
    await faults({ route: "enqueue", status: 429, retryAfter: 7 });
    const limited = await oxen().enqueue({ model: "qwen-image-edit-2511" });
    expect(!limited.ok && [limited.failure.kind, limited.failure.retryAfter]).toEqual(["busy", "7"]);
  });
});

describe("POST /v1/edits when Oxen fails", () => {
  it.each([
    [500, 502, undefined],
    [502, 502, undefined],
    [503, 503, undefined],
    [429, 503, "3"],
  ])("Oxen %i → %i in the error envelope", async (oxenStatus, ours, retryAfter) => {
    const { api_key } = await newClient();
    await faults({
      route: "enqueue",
      status: oxenStatus,
      ...(retryAfter ? { retryAfter: Number(retryAfter) } : {}),
    });
    const res = await call("POST", "/v1/edits", {
      token: api_key,
      body: { prompt: "p", input_image: ["https://example.com/a.png"] },
    });
    expect(res.status).toBe(ours);
    expect(res.body.error.type).toMatch(/^oxen_/);
    if (retryAfter) expect(res.headers.get("retry-after")).toBe(retryAfter);
    const list = await call("GET", "/v1/edits", { token: api_key });
    expect(list.body.data).toEqual([]);
  });

  it("answers 503 when Oxen does not answer in time", async () => {
    await faults({ route: "enqueue", status: 500, delayMs: 5_000 });
    const o = new OxenClient({ baseUrl: env.OXEN_BASE_URL, apiKey: "sim_test_key", timeoutMs: 200 });
    const res = await o.enqueue({ model: "qwen-image-edit-2511" });
    expect(!res.ok && [res.failure.kind, res.failure.uncertain]).toEqual(["unreachable", true]);
  });
});
