import { describe, expect, it } from "vitest";
import { KV_WRITE_INTERVAL_MS, nextAlarm, type Timers } from "./timers";

const idle: Timers = {
  deliveryDue: null,
  kvDirty: false,
  kvWrittenAt: null,
  terminal: true,
  registrationCheckAt: 500,
  deadlineAt: 900,
};

describe("nextAlarm", () => {
  it("is null when nothing is due (a finished, published, delivered edit)", () => {
    expect(nextAlarm(idle)).toBeNull();
  });
  it("takes the earliest of deliveries, the KV flush, the watchdog and the deadline", () => {
    expect(nextAlarm({ ...idle, deliveryDue: 700 })).toBe(700);
    expect(nextAlarm({ ...idle, deliveryDue: 5_000, kvDirty: true, kvWrittenAt: 100 })).toBe(
      100 + KV_WRITE_INTERVAL_MS,
    );
    expect(nextAlarm({ ...idle, terminal: false })).toBe(500);
    expect(nextAlarm({ ...idle, terminal: false, registrationCheckAt: null })).toBe(900);
  });
  it("ignores the watchdog and deadline once the edit is terminal", () => {
    expect(nextAlarm({ ...idle, deliveryDue: 10_000 })).toBe(10_000);
  });
});
