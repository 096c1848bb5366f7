import { expect, it } from "vitest";
import { signPath, verifyPath } from "./signing";

const NOW = Date.UTC(2026, 11, 1);

it("verifies its own signature until it expires", async () => {
  const q = new URLSearchParams(await signPath("s3cret", "/v1/files/a.png", NOW + 60_000));
  const [exp, sig] = [q.get("exp") ?? "", q.get("sig") ?? ""];
  expect(await verifyPath("s3cret", "/v1/files/a.png", exp, sig, NOW)).toBe(true);
  expect(await verifyPath("s3cret", "/v1/files/a.png", exp, sig, NOW + 61_000)).toBe(false);
});

it("refuses another path, secret, expiry or a forged signature", async () => {
  const q = new URLSearchParams(await signPath("s3cret", "/v1/files/a.png", NOW + 60_000));
  const [exp, sig] = [q.get("exp") ?? "", q.get("sig") ?? ""];
  expect(await verifyPath("s3cret", "/v1/files/b.png", exp, sig, NOW)).toBe(false);
  expect(await verifyPath("other", "/v1/files/a.png", exp, sig, NOW)).toBe(false);
  expect(await verifyPath("s3cret", "/v1/files/a.png", String(Number(exp) + 1), sig, NOW)).toBe(false);
  expect(await verifyPath("s3cret", "/v1/files/a.png", exp, `${sig.slice(0, -2)}AA`, NOW)).toBe(false);
  expect(await verifyPath("s3cret", "/v1/files/a.png", exp, "!!", NOW)).toBe(false);
  expect(await verifyPath("s3cret", "/v1/files/a.png", undefined, sig, NOW)).toBe(false);
});

// Found by a test: changing the last character to a neighbour kept the signature valid (its two
// unused bits). Only the canonical encoding is accepted.
it("accepts only the canonical encoding of a signature", async () => {
  const q = new URLSearchParams(await signPath("s3cret", "/v1/files/a.png", NOW + 60_000));
  const [exp, sig] = [q.get("exp") ?? "", q.get("sig") ?? ""];
  const last = sig.at(-1) as string;
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const neighbour = alphabet[(alphabet.indexOf(last) ^ 1) % 64] as string;
  expect(await verifyPath("s3cret", "/v1/files/a.png", exp, sig.slice(0, -1) + neighbour, NOW)).toBe(false);
});
