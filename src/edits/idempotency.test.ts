import { expect, it } from "vitest";
import { editIdForKey, requestFingerprint } from "./idempotency";
import { EDIT_ID } from "./read";

it("derives one well-formed edit id per client and key", async () => {
  const a = await editIdForKey("cli_1", "order-42");
  expect(a).toMatch(EDIT_ID);
  expect(await editIdForKey("cli_1", "order-42")).toBe(a);
  expect(await editIdForKey("cli_2", "order-42")).not.toBe(a);
  expect(await editIdForKey("cli_1", "order-43")).not.toBe(a);
});

it("fingerprints requests independently of key order", async () => {
  const f = await requestFingerprint({ a: 1, b: { c: [1, 2], d: "x" } });
  expect(await requestFingerprint({ b: { d: "x", c: [1, 2] }, a: 1 })).toBe(f);
  expect(await requestFingerprint({ a: 1, b: { c: [2, 1], d: "x" } })).not.toBe(f);
});
