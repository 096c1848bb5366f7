import { describe, expect, it } from "vitest";
import { boundsProblem, MAX_PARAM_DEPTH, storedBytes } from "./bounds";
import { requestFingerprint } from "./idempotency";

const nested = (levels: number): unknown => {
  let v: unknown = "leaf";
  for (let i = 0; i < levels; i++) v = { a: v };
  return v;
};

describe("boundsProblem", () => {
  it("passes ordinary parameters", () => {
    expect(boundsProblem({ guidance: 2.5, loras: [{ name: "x", weight: 1 }] })).toBeNull();
    expect(boundsProblem(nested(MAX_PARAM_DEPTH - 1))).toBeNull();
  });
  // Found by a hidden test: a parameter nested thousands deep overflowed the stack (500).
  it("refuses deep nesting without recursing, however deep", () => {
    expect(boundsProblem(nested(MAX_PARAM_DEPTH + 1))).toMatch(/deeper/);
    expect(boundsProblem(nested(200_000))).toMatch(/deeper/);
  });
  it("refuses too many values", () => {
    expect(boundsProblem(Array.from({ length: 5_000 }, (_, i) => i))).toMatch(/more than/);
  });
  it("counts stored bytes as UTF-8", () => {
    expect(storedBytes("é")).toBe(4);
  });
  it("fingerprints any request within the bounds", async () => {
    await expect(requestFingerprint({ p: nested(MAX_PARAM_DEPTH - 1) })).resolves.toMatch(/^[0-9a-f]{64}$/);
  });
});
