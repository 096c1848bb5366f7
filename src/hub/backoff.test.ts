import { describe, expect, it } from "vitest";
import { afterStreamEnd, reconnectDelayMs } from "./backoff";

it("grows, is capped, and is jittered", () => {
  expect(reconnectDelayMs(0, () => 0)).toBe(100);
  expect(reconnectDelayMs(0, () => 1)).toBe(350);
  expect(reconnectDelayMs(3, () => 1)).toBe(2_100);
  expect(reconnectDelayMs(50, () => 1)).toBe(30_100);
});

describe("afterStreamEnd", () => {
  it("reconnects at once after a healthy session, and forgets past failures", () => {
    expect(afterStreamEnd(5, { ms: 60_000, events: 0 })).toEqual({ delayMs: 0, failures: 0 });
    expect(afterStreamEnd(5, { ms: 200, events: 10 })).toEqual({ delayMs: 0, failures: 0 });
  });
  it("backs off, more each time, after a failed connect or a session that died young", () => {
    expect(afterStreamEnd(0, null, () => 1)).toEqual({ delayMs: 350, failures: 1 });
    expect(afterStreamEnd(1, { ms: 200, events: 0 }, () => 1)).toEqual({ delayMs: 600, failures: 2 });
  });
});
