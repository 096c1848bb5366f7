import { exports } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN, call, newClient } from "./helpers";

// Hostile clients: whatever arrives, the answer is a 4xx in the contract's envelope, never a 500,
// and nothing is stored. A pool of clients keeps the per-client rate limit out of the way.
const RUNS = 1000;
let pool: { api_key: string }[] = [];
let turn = 0;
const token = () => pool[turn++ % pool.length]!.api_key;

beforeAll(async () => {
  pool = await Promise.all(Array.from({ length: 8 }, (_, i) => newClient(`fuzz-${i}`)));
});

function expectClientError(res: { status: number; body: any }, allowed?: number[]) {
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
  if (allowed) expect(allowed).toContain(res.status);
  expect(typeof res.body?.error?.type).toBe("string");
  expect(typeof res.body?.error?.message).toBe("string");
}

async function raw(
  method: string,
  path: string,
  body: BodyInit | undefined,
  headers: Record<string, string>,
) {
  const res = await exports.default.fetch(new Request(`http://relay${path}`, { method, body, headers }));
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: res.status, body: parsed as any };
}

const wrongTypes = fc.record(
  {
    model: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
    prompt: fc.oneof(fc.string({ maxLength: 5 }), fc.integer(), fc.array(fc.string()), fc.constant("")),
    input_image: fc.oneof(fc.string(), fc.array(fc.oneof(fc.string(), fc.integer())), fc.constant([])),
    aspect_ratio: fc.oneof(fc.string(), fc.integer()),
    num_generations: fc.oneof(fc.integer(), fc.double(), fc.string()),
    webhook: fc.oneof(fc.string(), fc.webUrl(), fc.integer()),
    webhooks: fc.array(fc.record({ url: fc.oneof(fc.string(), fc.webUrl()), events: fc.array(fc.string()) })),
    metadata: fc.oneof(fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer())), fc.string()),
  },
  { requiredKeys: [] },
);

describe("POST /v1/edits under hostile input", () => {
  it("answers arbitrary JSON with a 4xx envelope", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue(), wrongTypes), async (value) => {
        const res = await call("POST", "/v1/edits", { token: token(), body: value });
        expectClientError(res, [400]);
      }),
      { numRuns: RUNS },
    );
  });

  it("answers other content types with 415 and broken bytes with 400", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          "text/plain",
          "application/x-www-form-urlencoded",
          "multipart/form-data",
          "application/xml",
          "",
        ),
        fc.uint8Array({ maxLength: 200 }),
        async (type, bytes) => {
          const headers: Record<string, string> = { authorization: `Bearer ${token()}` };
          if (type) headers["content-type"] = type;
          expectClientError(await raw("POST", "/v1/edits", bytes, headers), [415]);
          const asJson = await raw("POST", "/v1/edits", bytes, {
            ...headers,
            "content-type": "application/json",
          });
          expectClientError(asJson, [400]);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("survives invalid UTF-8, deep nesting and huge strings", async () => {
    const headers = { authorization: `Bearer ${token()}`, "content-type": "application/json" };
    const invalid = new Uint8Array([0x7b, 0x22, 0x70, 0xff, 0xfe, 0x22, 0x3a, 0xc3, 0x28, 0x7d]);
    expectClientError(await raw("POST", "/v1/edits", invalid, headers), [400]);
    const deep = `{"prompt":${"[".repeat(100_000)}${"]".repeat(100_000)}}`;
    expectClientError(await raw("POST", "/v1/edits", deep, headers), [400]);
    const deepObject = `${'{"a":'.repeat(50_000)}1${"}".repeat(50_000)}`;
    expectClientError(await raw("POST", "/v1/edits", deepObject, headers), [400]);
    const huge = JSON.stringify({
      prompt: "x".repeat(2_000_000),
      input_image: ["https://example.com/a.png"],
    });
    expectClientError(await raw("POST", "/v1/edits", huge, headers), [400]);
    const longUrl = JSON.stringify({ prompt: "p", input_image: [`https://example.com/${"a".repeat(5000)}`] });
    expectClientError(await raw("POST", "/v1/edits", longUrl, headers), [400]);
  });

  it("stored nothing for any of it", async () => {
    for (const c of pool)
      expect((await call("GET", "/v1/edits?limit=100", { token: c.api_key })).body.data).toEqual([]);
  });
});

describe("every other route under hostile input", () => {
  const segment = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.constantFrom("edit_0000000000000000000000", "..", "%00", "edit_", "cli_x", "🎩"),
  );

  it("never answers 5xx to arbitrary ids, queries and methods", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          ["GET", "/v1/edits/:id"],
          ["POST", "/v1/edits/:id/cancel"],
          ["GET", "/v1/edits/:id/deliveries"],
          ["POST", "/v1/edits/:id/redeliver"],
          ["GET", "/v1/edits?:q"],
          ["POST", "/v1/clients/:id/rotate-secret"],
          ["DELETE", "/v1/edits/:id"],
          ["PUT", "/v1/clients"],
          ["GET", "/:id"],
          ["GET", "/v1/clients/:id"],
          ["PATCH", "/v1/clients/:id"],
          ["POST", "/v1/clients/:id/rotate-key"],
          ["GET", "/v1/usage?:q"],
          ["GET", "/v1/edits/:id/events"],
          ["GET", "/v1/endpoints/:id"],
          ["PATCH", "/v1/endpoints/:id"],
          ["DELETE", "/v1/endpoints/:id"],
          ["POST", "/v1/endpoints/:id/recover"],
          ["GET", "/v1/events?:q"],
        ),
        segment,
        fc.dictionary(
          fc.constantFrom("status", "limit", "cursor", "x", "from", "to", "after", "type"),
          fc.string({ maxLength: 30 }),
        ),
        fc.constantFrom("client", "admin", "none", "garbage"),
        async ([method, template], id, query, who) => {
          const path = template
            .replace(":id", encodeURIComponent(id))
            .replace(":q", new URLSearchParams(query).toString());
          const headers: Record<string, string> = {};
          if (who === "client") headers.authorization = `Bearer ${token()}`;
          if (who === "admin") headers.authorization = `Bearer ${ADMIN}`;
          if (who === "garbage") headers.authorization = `Bearer ${encodeURIComponent(id) || "x"}`;
          const res = await raw(method, path, undefined, headers);
          if (res.status < 400) {
            // Only a list, or a path that resolves to the console page ("/.." is "/") or to a
            // list ("/v1/edits/../events" is the event log).
            const resolved = new URL(path, "http://relay").pathname;
            const page = resolved === "/" || resolved === "/v1/events";
            expect(method === "GET" && (template.endsWith("?:q") || page)).toBe(true);
            return;
          }
          expectClientError(res);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("answers arbitrary client-creation bodies with 201 or a 4xx envelope", async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (value) => {
        const res = await call("POST", "/v1/clients", { token: ADMIN, body: value });
        if (res.status !== 201) expectClientError(res, [400]);
      }),
      { numRuns: RUNS },
    );
  });
});
