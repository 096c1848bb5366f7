import { describe, expect, it } from "vitest";
import { mapOxenFailure, oxenMessage } from "./errors";

describe("Oxen errors", () => {
  it("reads both envelopes", () => {
    expect(oxenMessage({ error: { message: "Model not found: x" } })).toBe("Model not found: x");
    expect(
      oxenMessage({
        error: { type: "invalid_params", title: "Bad", detail: "num_generations" },
        status: "error",
      }),
    ).toBe("num_generations");
    expect(oxenMessage("<html>")).toBeNull();
  });
  it.each([
    [404, { error: { message: "Model not found: x" } }, 400],
    [400, { error: { type: "invalid_params", title: "t" } }, 400],
    [401, { error: { type: "unauthenticated" } }, 502],
    [402, null, 503],
    [429, null, 503],
    [500, null, 502],
    [502, null, 502],
    [503, null, 503],
  ])("HTTP %i is mapped", (status, body, expected) => {
    expect(mapOxenFailure(status, body, null).status).toBe(expected);
  });
  it("passes Retry-After on", () => {
    expect(mapOxenFailure(429, null, "7").headers["retry-after"]).toBe("7");
  });
});
