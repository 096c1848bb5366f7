import { expect, it } from "vitest";
import { oxenFailure, oxenUnreachable } from "../oxen/errors";
import { oxenApiError } from "./oxen-failures";

it.each([
  [404, { error: { message: "Model not found: x" } }, 400],
  [400, { error: { type: "invalid_params", title: "t" } }, 400],
  [401, { error: { type: "unauthenticated" } }, 502],
  [402, null, 503],
  [429, null, 503],
  [500, null, 502],
  [502, null, 502],
  [503, null, 503],
])("Oxen's HTTP %i is the caller's %i", (status, body, expected) => {
  expect(oxenApiError(oxenFailure(status, body, null)).status).toBe(expected);
});

it("passes Retry-After on, and no answer is a 503", () => {
  expect(oxenApiError(oxenFailure(429, null, "7")).headers["retry-after"]).toBe("7");
  expect(oxenApiError(oxenUnreachable(new Error("x"))).status).toBe(503);
});
