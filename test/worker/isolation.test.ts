import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN, call, newClient } from "./helpers";

// Every route, from the wrong client: nothing readable, cancellable, listable or redeliverable.
let owner: { id: string; api_key: string };
let stranger: { id: string; api_key: string };
let editId: string;

beforeAll(async () => {
  owner = await newClient("owner");
  stranger = await newClient("stranger");
  const res = await call("POST", "/v1/edits", {
    token: owner.api_key,
    body: { prompt: "p", input_image: ["https://example.com/a.png"] },
    headers: { prefer: "wait=10" },
  });
  expect(res.body.status).toBe("succeeded");
  editId = res.body.id;
});

describe("isolation between clients", () => {
  it.each([
    ["GET", "/v1/edits/:id"],
    ["POST", "/v1/edits/:id/cancel"],
    ["GET", "/v1/edits/:id/deliveries"],
    ["POST", "/v1/edits/:id/redeliver"],
  ])("%s %s of another client's edit is a 404", async (method, template) => {
    const path = template.replace(":id", editId);
    const theirs = await call(method, path, { token: stranger.api_key });
    expect(theirs.status).toBe(404);
    expect(theirs.body.error.type).toBe("not_found");
    const mine = await call(method, path, { token: owner.api_key });
    expect(mine.status).toBeLessThan(300);
  });

  it("lists only the caller's edits", async () => {
    expect((await call("GET", "/v1/edits?limit=100", { token: stranger.api_key })).body.data).toEqual([]);
    const mine = await call("GET", "/v1/edits?limit=100", { token: owner.api_key });
    expect(mine.body.data.map((e: { id: string }) => e.id)).toContain(editId);
  });

  it("refuses client keys on admin routes (403) and the admin token on client routes (401)", async () => {
    expect((await call("POST", "/v1/clients", { token: owner.api_key, body: { name: "x" } })).status).toBe(
      403,
    );
    expect(
      (await call("POST", `/v1/clients/${owner.id}/rotate-secret`, { token: owner.api_key })).status,
    ).toBe(403);
    expect(
      (await call("POST", `/v1/clients/${stranger.id}/rotate-secret`, { token: owner.api_key })).status,
    ).toBe(403);
    expect((await call("GET", `/v1/edits/${editId}`, { token: ADMIN })).status).toBe(401);
    expect((await call("GET", "/v1/edits", { token: ADMIN })).status).toBe(401);
  });

  it("has no chaos hooks unless the operator turns them on", async () => {
    const res = await call("POST", "/_chaos/abort?target=hub", { token: ADMIN });
    expect(res.status).toBe(404);
  });
});
