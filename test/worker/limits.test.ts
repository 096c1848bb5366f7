import { describe, expect, it } from "vitest";
import { call, newClient } from "./helpers";

describe("limits", () => {
  it("rate limits one client with 429 and Retry-After, without touching another", async () => {
    const a = await newClient("busy");
    const b = await newClient("calm");
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof call>> | undefined;
    // All at once, so that even a slow machine puts more than 600 calls inside one 10 s window.
    for (let round = 0; round < 3 && !limited; round++) {
      const results = await Promise.all(
        Array.from({ length: 700 }, () => call("GET", "/v1/edits/x", { token: a.api_key })),
      );
      statuses.push(...results.map((r) => r.status));
      limited = results.find((r) => r.status === 429);
    }
    expect(limited).toBeDefined();
    expect(limited!.body.error.type).toBe("rate_limited");
    expect(Number(limited!.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(statuses.filter((s) => s === 404).length).toBeGreaterThanOrEqual(600);
    expect((await call("GET", "/v1/edits", { token: b.api_key })).status).toBe(200);
  });

  it("refuses a body over the limit with 413 before reading it all", async () => {
    const { api_key } = await newClient();
    const huge = JSON.stringify({
      prompt: "x".repeat(9 * 1024 * 1024),
      input_image: ["https://example.com/a.png"],
    });
    const res = await call("POST", "/v1/edits", {
      token: api_key,
      raw: huge,
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(413);
    expect(res.body.error.type).toBe("payload_too_large");
  });
});
