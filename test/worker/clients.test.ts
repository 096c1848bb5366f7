import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN, call, newClient } from "./helpers";

describe("POST /v1/clients", () => {
  it("creates a client with a key and a webhook secret", async () => {
    const res = await call("POST", "/v1/clients", { token: ADMIN, body: { name: "shop-prod" } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: "shop-prod" });
    expect(res.body.id).toMatch(/^cli_/);
    expect(res.body.api_key).toMatch(/^sk_/);
    expect(res.body.webhook_secret).toMatch(/^whsec_/);
    expect(Date.parse(res.body.created_at)).not.toBeNaN();
  });

  it("refuses a missing or wrong token (401) and a client key (403)", async () => {
    const client = await newClient();
    const none = await call("POST", "/v1/clients", { body: { name: "x" } });
    expect(none.status).toBe(401);
    expect(none.body.error.type).toBe("unauthorized");
    expect((await call("POST", "/v1/clients", { token: "nope", body: { name: "x" } })).status).toBe(401);
    const asClient = await call("POST", "/v1/clients", { token: client.api_key, body: { name: "x" } });
    expect(asClient.status).toBe(403);
    expect(asClient.body.error.type).toBe("forbidden");
  });

  it("validates the body in the error envelope", async () => {
    const res = await call("POST", "/v1/clients", { token: ADMIN, body: { name: "" } });
    expect(res.status).toBe(400);
    expect(res.body.error.issues[0].path).toBe("name");
    expect(
      (
        await call("POST", "/v1/clients", {
          token: ADMIN,
          raw: "{",
          headers: { "content-type": "application/json" },
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await call("POST", "/v1/clients", {
          token: ADMIN,
          raw: "name=x",
          headers: { "content-type": "text/plain" },
        })
      ).status,
    ).toBe(415);
  });

  it("rotates the webhook secret (admin only) and 404s an unknown client", async () => {
    const client = await newClient();
    const res = await call("POST", `/v1/clients/${client.id}/rotate-secret`, { token: ADMIN });
    expect(res.status).toBe(200);
    expect(res.body.webhook_secret).toMatch(/^whsec_/);
    expect(res.body.webhook_secret).not.toBe(client.webhook_secret);
    expect(Date.parse(res.body.previous_secret_expires_at) - Date.now()).toBeGreaterThan(23 * 3600_000);
    expect((await call("POST", "/v1/clients/cli_nope/rotate-secret", { token: ADMIN })).status).toBe(404);
    expect(
      (await call("POST", `/v1/clients/${client.id}/rotate-secret`, { token: client.api_key })).status,
    ).toBe(403);
  });

  // Found in review: rotate-secret was an unlocked read-modify-write on KV, so two rotations at
  // once could drop a secret an admin had just been given. The client's object serialises them.
  it("keeps every secret handed out by concurrent rotations signing", async () => {
    const client = await newClient();
    const answers = await Promise.all(
      Array.from({ length: 5 }, () =>
        call("POST", `/v1/clients/${client.id}/rotate-secret`, { token: ADMIN }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    const live = await env.CLIENT.getByName(client.id).signingSecrets(client.id);
    for (const a of answers) expect(live).toContain(a.body.webhook_secret);
    expect(live).toContain(client.webhook_secret);
    expect(new Set(answers.map((a) => a.body.webhook_secret)).size).toBe(5);
  });
});
