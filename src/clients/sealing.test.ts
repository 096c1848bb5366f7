import { expect, it } from "vitest";
import { isSealingKey, seal, unseal } from "./sealing";

const KEY = btoa(String.fromCharCode(...new Uint8Array(32).fill(7)));

it("round-trips a secret, with a fresh IV each time", async () => {
  const a = await seal(KEY, "whsec_abc");
  const b = await seal(KEY, "whsec_abc");
  expect(a).not.toBe(b);
  expect(a).not.toContain("whsec_abc");
  expect(await unseal(KEY, a)).toBe("whsec_abc");
});

it("refuses another key and a tampered ciphertext", async () => {
  const sealed = await seal(KEY, "whsec_abc");
  const other = btoa(String.fromCharCode(...new Uint8Array(32).fill(8)));
  await expect(unseal(other, sealed)).rejects.toThrow();
  await expect(unseal(KEY, `${sealed.slice(0, -4)}AAAA`)).rejects.toThrow();
});

it("accepts only 32-byte base64 keys", () => {
  expect(isSealingKey(KEY)).toBe(true);
  expect(isSealingKey("short")).toBe(false);
  expect(isSealingKey(btoa("x".repeat(16)))).toBe(false);
});
