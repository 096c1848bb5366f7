import { exports } from "cloudflare:workers";
import { expect, it } from "vitest";
import { createRelayClient } from "../../src/client";
import { newClient } from "./helpers";

it("the typed hono/client talks to the relay", async () => {
  const { api_key } = await newClient();
  const client = createRelayClient("http://relay", api_key);
  // Route the client's fetch into this worker.
  const relay = (input: RequestInfo | URL, init?: RequestInit) =>
    exports.default.fetch(new Request(input, init));
  const res = await client.v1.edits.$post(
    { header: {}, json: { prompt: "Add a funny hat", input_image: ["https://example.com/a.png"] } },
    { fetch: relay },
  );
  expect(res.status).toBe(202);
  const edit = (await res.json()) as { id: string; status: string };
  expect(edit.status).toBe("queued");
  const got = await client.v1.edits[":id"].$get({ param: { id: edit.id }, header: {} }, { fetch: relay });
  expect(got.status).toBe(200);
  const body = await got.json();
  expect("status" in body && body.status).toBeTruthy();
});
