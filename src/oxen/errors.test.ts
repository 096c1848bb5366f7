import { describe, expect, it } from "vitest";
import { oxenFailure, oxenMessage, oxenUnreachable } from "./errors";

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
    [404, { error: { message: "Model not found: x" } }, "unknown_model", false],
    [400, { error: { type: "invalid_params", title: "t" } }, "rejected", false],
    [401, { error: { type: "unauthenticated" } }, "auth", false],
    [402, null, "credits", false],
    [429, null, "busy", false],
    [500, null, "error", true],
    [502, null, "error", true],
    [503, null, "busy", true],
  ] as const)("HTTP %i is %s (uncertain: %s)", (status, body, kind, uncertain) => {
    const f = oxenFailure(status, body, null);
    expect(f.kind).toBe(kind);
    expect(f.uncertain).toBe(uncertain);
  });
  it("keeps Retry-After, and no answer is uncertain", () => {
    expect(oxenFailure(429, null, "7").retryAfter).toBe("7");
    expect(oxenUnreachable(new Error("reset")).uncertain).toBe(true);
  });
});
