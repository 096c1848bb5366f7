import { expect, it } from "vitest";
import { reconnectDelayMs } from "./backoff";

it("grows, is capped, and is jittered", () => {
  expect(reconnectDelayMs(0, () => 0)).toBe(100);
  expect(reconnectDelayMs(0, () => 1)).toBe(350);
  expect(reconnectDelayMs(3, () => 1)).toBe(2_100);
  expect(reconnectDelayMs(50, () => 1)).toBe(30_100);
});
