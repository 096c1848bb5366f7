import { describe, expect, it } from "vitest";
import { call, hookUrl, newClient, received, sim, uniquePath, until } from "./helpers";

const body = (extra: Record<string, unknown> = {}) => ({
  prompt: `p ${crypto.randomUUID()}`,
  input_image: ["https://example.com/a.png"],
  ...extra,
});

async function held<T>(fn: () => Promise<T>): Promise<T> {
  await sim("/config", { autoComplete: false });
  try {
    return await fn();
  } finally {
    await sim("/config", { autoComplete: true });
  }
}

const simGenerations = async (prompt: string) =>
  ((await sim("/state")).generations as { prompt: string; status: string; generation_id: string }[]).filter(
    (g) => g.prompt === prompt,
  );

describe("cancel", () => {
  it("cancels on Oxen, emits edit.cancelled itself, and is a no-op after", () =>
    held(async () => {
      const client = await newClient();
      const path = uniquePath("cancel");
      const req = body({ num_generations: 2, webhook: hookUrl(path) });
      const res = await call("POST", "/v1/edits", { token: client.api_key, body: req });
      const other = await newClient();
      expect((await call("POST", `/v1/edits/${res.body.id}/cancel`, { token: other.api_key })).status).toBe(
        404,
      );

      const cancelled = await call("POST", `/v1/edits/${res.body.id}/cancel`, { token: client.api_key });
      expect(cancelled.status).toBe(200);
      expect(cancelled.body.status).toBe("cancelled");
      expect(cancelled.body.outputs.map((o: { status: string }) => o.status)).toEqual([
        "cancelled",
        "cancelled",
      ]);
      expect((await simGenerations(req.prompt)).map((g) => g.status)).toEqual(["cancelled", "cancelled"]);

      const [hook] = await until(async () => ((await received(path)).length ? received(path) : null));
      expect(JSON.parse(hook!.body).type).toBe("edit.cancelled");

      const again = await call("POST", `/v1/edits/${res.body.id}/cancel`, { token: client.api_key });
      expect(again.status).toBe(200);
      expect(again.body).toEqual(cancelled.body);
      await new Promise((r) => setTimeout(r, 300));
      expect(await received(path)).toHaveLength(1);
    }));

  it("leaves a finished edit as it was", async () => {
    const client = await newClient();
    const res = await call("POST", "/v1/edits", { token: client.api_key, body: body() });
    const done = await call("GET", `/v1/edits/${res.body.id}`, {
      token: client.api_key,
      headers: { prefer: "wait=10" },
    });
    expect(done.body.status).toBe("succeeded");
    const cancelled = await call("POST", `/v1/edits/${res.body.id}/cancel`, { token: client.api_key });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe("succeeded");
  });

  it("redeliver refuses an edit that is not finished", () =>
    held(async () => {
      const client = await newClient();
      const res = await call("POST", "/v1/edits", { token: client.api_key, body: body() });
      const r = await call("POST", `/v1/edits/${res.body.id}/redeliver`, { token: client.api_key });
      expect(r.status).toBe(409);
      expect(r.body.error.type).toBe("edit_not_terminal");
      await call("POST", `/v1/edits/${res.body.id}/cancel`, { token: client.api_key });
    }));
});

describe("Idempotency-Key", () => {
  it("makes two racing requests one edit and one Oxen job; another body is a 409", () =>
    held(async () => {
      const client = await newClient();
      const req = body();
      const headers = { "idempotency-key": `order-${crypto.randomUUID()}` };
      const [a, b] = await Promise.all([
        call("POST", "/v1/edits", { token: client.api_key, body: req, headers }),
        call("POST", "/v1/edits", { token: client.api_key, body: req, headers }),
      ]);
      expect([a.status, b.status]).toEqual([202, 202]);
      expect(a.body.id).toBe(b.body.id);
      expect(await simGenerations(req.prompt)).toHaveLength(1);

      const replay = await call("POST", "/v1/edits", { token: client.api_key, body: req, headers });
      expect(replay.body.id).toBe(a.body.id);
      const conflict = await call("POST", "/v1/edits", {
        token: client.api_key,
        body: { ...req, prompt: "something else" },
        headers,
      });
      expect(conflict.status).toBe(409);
      expect(conflict.body.error.type).toBe("idempotency_conflict");
      expect(await simGenerations(req.prompt)).toHaveLength(1);

      // Keys are per client: another client's same key is its own edit.
      const other = await newClient();
      const theirs = await call("POST", "/v1/edits", { token: other.api_key, body: req, headers });
      expect(theirs.body.id).not.toBe(a.body.id);
      expect(
        (
          await call("POST", "/v1/edits", {
            token: client.api_key,
            body: req,
            headers: { "idempotency-key": "" },
          })
        ).status,
      ).toBe(400);
    }));
});

describe("Prefer: wait", () => {
  it("answers POST with the terminal edit (200) once it finishes", async () => {
    const client = await newClient();
    const res = await call("POST", "/v1/edits", {
      token: client.api_key,
      body: body(),
      headers: { prefer: "wait=10" },
    });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("succeeded");
    expect(res.headers.get("preference-applied")).toBe("wait=10");
  });

  it("answers with the edit as it stands when the wait runs out", () =>
    held(async () => {
      const client = await newClient();
      const started = Date.now();
      const res = await call("POST", "/v1/edits", {
        token: client.api_key,
        body: body(),
        headers: { prefer: "wait=1" },
      });
      expect(res.status).toBe(202);
      expect(Date.now() - started).toBeGreaterThanOrEqual(950);
      const get = await call("GET", `/v1/edits/${res.body.id}`, {
        token: client.api_key,
        headers: { prefer: "wait=1" },
      });
      expect(get.status).toBe(200);
      expect(["queued", "processing"]).toContain(get.body.status);
      await call("POST", `/v1/edits/${res.body.id}/cancel`, { token: client.api_key });
    }));
});
