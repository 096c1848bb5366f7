import { Validator } from "@seriousme/openapi-schema-validator";
import { EventSource } from "eventsource";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Receiver } from "../../tools/local/receiver.ts";
import { startWranglerDev, type WranglerDev } from "../../tools/local/wrangler-dev.ts";
import { type RunningSimulator, startSimulator } from "../../tools/simulator/server.ts";

// Black box: the worker under `wrangler dev`, the simulator as Oxen, a receiver that verifies
// signatures with the standardwebhooks package. Nothing here reaches inside the worker.
let sim: RunningSimulator;
let receiver: Receiver;
let relay: WranglerDev;
const ADMIN = "e2e-admin-token-3f9c-00000000000000000000";
/** Every secret the run handles; none may appear in the worker's logs. */
const secrets = new Set<string>([ADMIN, "sim_e2e_key"]);

beforeAll(async () => {
  sim = await startSimulator({
    apiKeys: ["sim_e2e_key"],
    queuedMs: 20,
    processingMs: 200,
    autoComplete: false,
  });
  receiver = await new Receiver().listen();
  relay = await startWranglerDev({
    vars: {
      OXEN_BASE_URL: sim.baseUrl,
      OXEN_API_KEY: "sim_e2e_key",
      ADMIN_TOKEN: ADMIN,
      ALLOW_PRIVATE_WEBHOOKS: "true",
      WEBHOOK_RETRY_SCHEDULE: "1,1",
    },
  });
}, 90_000);

afterAll(async () => {
  await relay?.stop();
  await Promise.all([sim?.close(), receiver?.close()]);
});

async function api(method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(`${relay.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = (await res.json()) as any;
  for (const k of ["api_key", "webhook_secret"]) if (typeof json?.[k] === "string") secrets.add(json[k]);
  return { status: res.status, body: json };
}

async function finish(generationId: string, status: "succeeded" | "failed", error?: string) {
  const res = await fetch(`${sim.url}/_control/generations/${generationId}/finish`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ status, error }),
  });
  expect(res.ok).toBe(true);
}

describe("an edit in, a signed webhook out", () => {
  it("delivers succeeded, failed and multi-generation edits, signed, and serves them after", async () => {
    const created = await api("POST", "/v1/clients", ADMIN, { name: "e2e" });
    expect(created.status).toBe(201);
    const { api_key, webhook_secret } = created.body;
    for (const p of ["/ok", "/fail", "/three"]) receiver.secrets(p, [webhook_secret]);

    const edit = (path: string, extra: object = {}) =>
      api("POST", "/v1/edits", api_key, {
        prompt: "Add a funny hat",
        input_image: ["https://example.com/bloxy.png"],
        webhook: `${receiver.url}${path}`,
        ...extra,
      });
    const ok = await edit("/ok", { metadata: { order: "1" } });
    const bad = await edit("/fail");
    const three = await edit("/three", { num_generations: 3, aspect_ratio: "1:1" });
    for (const r of [ok, bad, three]) expect(r.status).toBe(202);
    expect(three.body.outputs).toHaveLength(3);

    await finish(ok.body.outputs[0].generation_id, "succeeded");
    await finish(bad.body.outputs[0].generation_id, "failed", "Invalid input image");
    for (const o of three.body.outputs) await finish(o.generation_id, "succeeded");

    await receiver.waitFor((all) => ["/ok", "/fail", "/three"].every((p) => all.some((r) => r.path === p)));
    const expectations = [
      ["/ok", ok, "edit.succeeded", "succeeded"],
      ["/fail", bad, "edit.failed", "failed"],
      ["/three", three, "edit.succeeded", "succeeded"],
    ] as const;
    for (const [path, res, type, status] of expectations) {
      const [hook] = receiver.on(path);
      expect(hook?.verified).toBe(true);
      const payload = new Webhook(webhook_secret).verify(hook!.body, hook!.headers) as any;
      expect(payload.type).toBe(type);
      expect(Date.parse(payload.timestamp)).not.toBeNaN();
      expect(payload.data).toMatchObject({ id: res.body.id, object: "edit", status });
      const got = await api("GET", `/v1/edits/${res.body.id}`, api_key);
      expect(got.status).toBe(200);
      // The payload is the edit without its webhooks (their URLs may hold tokens; v1.2).
      const { webhooks, ...publicPart } = got.body;
      expect(publicPart).toEqual(payload.data);
      expect(payload.data.webhooks).toBeUndefined();
      expect(webhooks).toEqual(expect.any(Array));
    }
    const okData = JSON.parse(receiver.on("/ok")[0]!.body).data;
    expect(okData.metadata).toEqual({ order: "1" });
    expect(okData.outputs[0].url).toMatch(/^http:\/\/127\.0\.0\.1/);
    const image = await fetch(okData.outputs[0].url);
    expect(image.headers.get("content-type")).toMatch(/^image\//);
    expect(JSON.parse(receiver.on("/fail")[0]!.body).data.error).toEqual({ message: "Invalid input image" });
    expect(JSON.parse(receiver.on("/three")[0]!.body).data.outputs.map((o: any) => o.status)).toEqual([
      "succeeded",
      "succeeded",
      "succeeded",
    ]);

    const health = await fetch(`${relay.url}/healthz`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    }).then((r) => r.json() as Promise<any>);
    expect(health).toMatchObject({ ok: true, hub: { connected: true, outstanding: 0 } });
    // Without the token: whether the stream is held, and nothing more.
    const open = await fetch(`${relay.url}/healthz`).then((r) => r.json() as Promise<any>);
    expect(open).toEqual({ ok: true, hub: { connected: expect.any(Boolean) } });
  });

  it("answers Prefer: wait as soon as the edit finishes", async () => {
    const created = await api("POST", "/v1/clients", ADMIN, { name: "waiter" });
    const prompt = `wait ${crypto.randomUUID()}`;
    const pending = fetch(`${relay.url}/v1/edits`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${created.body.api_key}`,
        "content-type": "application/json",
        prefer: "wait=20",
      },
      body: JSON.stringify({ prompt, input_image: ["https://example.com/a.png"] }),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as any, at: performance.now() }));
    const generationId = await waitForGeneration(prompt);
    await new Promise((r) => setTimeout(r, 300));
    const finishedAt = performance.now();
    await finish(generationId, "succeeded");
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("succeeded");
    // A signal, not a poll: far inside any polling interval. The figure is in docs/benchmarks.md.
    const lag = res.at - finishedAt;
    console.log(`Prefer: wait answered ${lag.toFixed(1)} ms after the completion`);
    expect(lag).toBeLessThan(500);
  });

  it("streams an edit's events to an EventSource, ending after the terminal one", async () => {
    const created = await api("POST", "/v1/clients", ADMIN, { name: "sse" });
    const { api_key, webhook_secret } = created.body;
    receiver.secrets("/sse", [webhook_secret]);
    const edit = await api("POST", "/v1/edits", api_key, {
      prompt: "Add a funny hat",
      input_image: ["https://example.com/a.png"],
      webhook: `${receiver.url}/sse`,
    });
    const authed = (input: string | URL, init?: Parameters<typeof fetch>[1]) =>
      fetch(input, {
        ...init,
        headers: { ...(init?.headers as Record<string, string>), authorization: `Bearer ${api_key}` },
      });
    const url = `${relay.url}/v1/edits/${edit.body.id}/events`;
    const es = new EventSource(url, { fetch: authed });
    try {
      await new Promise((resolve, reject) => {
        es.addEventListener("open", resolve);
        es.addEventListener("error", reject);
      });
      const got = new Promise<MessageEvent>((resolve) => es.addEventListener("edit.succeeded", resolve));
      await finish(edit.body.outputs[0].generation_id, "succeeded");
      const event = await got;
      await receiver.waitFor((all) => all.some((r) => r.path === "/sse"));
      const hook = receiver.on("/sse")[0]!;
      expect(event.data).toBe(hook.body);
      expect(event.lastEventId).toBe(hook.headers["webhook-id"]);
      // The stream ends; the EventSource's reconnect is told (204) there is nothing more.
      for (let i = 0; i < 100 && es.readyState !== EventSource.CLOSED; i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(es.readyState).toBe(EventSource.CLOSED);
    } finally {
      es.close();
    }
    // A late subscriber gets the terminal event at once.
    const late = new EventSource(url, { fetch: authed });
    try {
      const event = await new Promise<MessageEvent>((resolve) =>
        late.addEventListener("edit.succeeded", resolve),
      );
      expect(JSON.parse(event.data).data.id).toBe(edit.body.id);
    } finally {
      late.close();
    }
    const other = await api("POST", "/v1/clients", ADMIN, { name: "sse-other" });
    const forbidden = await fetch(url, { headers: { authorization: `Bearer ${other.body.api_key}` } });
    expect(forbidden.status).toBe(404);
  });

  it("serves an OpenAPI 3.1 document that a validator accepts, covering every route and webhook", async () => {
    const doc = (await (await fetch(`${relay.url}/openapi.json`)).json()) as any;
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc.openapi).toBe("3.1.0");
    const routes = Object.entries(doc.paths).flatMap(([p, ops]) =>
      Object.keys(ops as object).map((m) => `${m} ${p}`),
    );
    expect(routes.sort()).toEqual(
      [
        "get /healthz",
        "post /v1/clients",
        "post /v1/clients/{id}/rotate-secret",
        "post /v1/clients/{id}/rotate-key",
        "get /v1/clients/{id}",
        "patch /v1/clients/{id}",
        "get /v1/usage",
        "delete /v1/edits/{id}",
        "get /v1/files/{key}",
        "get /v1/edits",
        "post /v1/edits",
        "get /v1/edits/{id}",
        "post /v1/edits/{id}/cancel",
        "get /v1/edits/{id}/deliveries",
        "get /v1/edits/{id}/events",
        "post /v1/edits/{id}/redeliver",
        "post /v1/endpoints",
        "get /v1/endpoints",
        "get /v1/endpoints/{id}",
        "patch /v1/endpoints/{id}",
        "delete /v1/endpoints/{id}",
        "post /v1/endpoints/{id}/recover",
        "get /v1/events",
      ].sort(),
    );
    expect(Object.keys(doc.webhooks).sort()).toEqual([
      "edit.cancelled",
      "edit.failed",
      "edit.succeeded",
      "endpoint.disabled",
    ]);
    for (const [route, ops] of Object.entries(doc.paths)) {
      for (const op of Object.values(ops as Record<string, any>)) {
        if (route.startsWith("/v1/files/"))
          expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(["403", "404"]));
        else if (route.startsWith("/v1/"))
          expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(["400", "401", "404"]));
      }
    }
  });

  it("writes no key, secret or signature to the logs", async () => {
    // A failed attempt is what Workers Logs gets (successes are in the attempt log only).
    const client = await api("POST", "/v1/clients", ADMIN, { name: "e2e-logs" });
    receiver.script("/logs-once", [{ status: 500 }]);
    const created = await api("POST", "/v1/edits", client.body.api_key, {
      prompt: "Add a funny hat",
      input_image: ["https://example.com/bloxy.png"],
      webhook: `${receiver.url}/logs-once`,
    });
    await finish(created.body.outputs[0].generation_id, "succeeded");
    await receiver.waitFor((all) => all.filter((r) => r.path === "/logs-once").length >= 2, 20_000);
    for (const r of receiver.received) {
      for (const sig of r.headers["webhook-signature"]?.split(" ") ?? [])
        secrets.add(sig.replace(/^v1,/, ""));
    }
    const logs = relay.output();
    expect(logs).toMatch(/"msg":"webhook attempt"/);
    expect(logs).toMatch(/"msg":"request"/);
    const leaked = [...secrets].filter((s) => s.length >= 8 && logs.includes(s));
    expect(leaked).toEqual([]);
    expect(secrets.size).toBeGreaterThan(4);
  });
});

async function waitForGeneration(prompt: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const g = sim.sim.snapshot().generations.find((x: any) => x.prompt === prompt);
    if (g) return g.generation_id as string;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("generation never enqueued");
}
