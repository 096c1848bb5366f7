import { describe, expect, it } from "vitest";
import { nextStep, parseRetryAfter } from "./retry";

const schedule = [5, 300, 1800];
const now = 1_000_000;

describe("nextStep", () => {
  it("delivers on any 2xx and stops at once on 410", () => {
    expect(nextStep(1, 204, null, schedule, now)).toEqual({ kind: "delivered" });
    expect(nextStep(1, 410, null, schedule, now)).toEqual({ kind: "gone" });
  });
  it("follows the schedule with ±20% jitter", () => {
    expect(nextStep(1, 500, null, schedule, now, () => 0)).toEqual({ kind: "retry", at: now + 4_000 });
    expect(nextStep(1, 500, null, schedule, now, () => 1)).toEqual({ kind: "retry", at: now + 6_000 });
    expect(nextStep(2, 0, null, schedule, now, () => 0.5)).toEqual({ kind: "retry", at: now + 300_000 });
  });
  it("treats a 3xx as a failure", () => {
    expect(nextStep(1, 302, null, schedule, now, () => 0.5).kind).toBe("retry");
  });
  it("is exhausted after the last scheduled retry", () => {
    expect(nextStep(4, 500, null, schedule, now)).toEqual({ kind: "exhausted" });
  });
  it("honours Retry-After on 429 and 503, never shortened by jitter", () => {
    expect(nextStep(1, 429, "60", schedule, now, () => 1)).toEqual({ kind: "retry", at: now + 60_000 });
    expect(nextStep(1, 503, "1", schedule, now, () => 0.5)).toEqual({ kind: "retry", at: now + 5_000 });
    expect(nextStep(1, 500, "60", schedule, now, () => 0.5)).toEqual({ kind: "retry", at: now + 5_000 });
  });
});

describe("parseRetryAfter", () => {
  it("reads seconds and HTTP dates, bounded", () => {
    expect(parseRetryAfter("120", now)).toBe(120);
    expect(parseRetryAfter(new Date(now + 30_000).toUTCString(), now)).toBe(30);
    expect(parseRetryAfter("99999999", now)).toBe(86_400);
    expect(parseRetryAfter("soon", now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });
});
