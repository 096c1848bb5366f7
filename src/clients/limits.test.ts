import { describe, expect, it } from "vitest";
import { admitGenerations, admitRedelivery, DEFAULT_LIMITS, REDELIVERIES_PER_HOUR, utcDay } from "./limits";

const NOON = Date.UTC(2026, 11, 1, 12, 0, 0);

describe("admitGenerations", () => {
  it("admits within both limits, counting the request's own generations", () => {
    expect(admitGenerations(DEFAULT_LIMITS, { active: 196, today: 0 }, 4, NOON)).toEqual({ ok: true });
    expect(admitGenerations(DEFAULT_LIMITS, { active: 197, today: 0 }, 4, NOON)).toMatchObject({
      ok: false,
      retryAfterS: 30,
    });
  });
  it("refuses past the daily limit until the next UTC midnight", () => {
    const r = admitGenerations(
      { ...DEFAULT_LIMITS, generations_per_day: 10 },
      { active: 0, today: 9 },
      2,
      NOON,
    );
    expect(r).toMatchObject({ ok: false, retryAfterS: 12 * 3600 });
  });
  it("names the UTC day", () => {
    expect(utcDay(NOON)).toBe("2026-12-01");
  });
});

describe("admitRedelivery", () => {
  it("allows one per edit per minute", () => {
    expect(admitRedelivery(null, [], NOON)).toEqual({ ok: true });
    expect(admitRedelivery(NOON - 59_000, [], NOON)).toMatchObject({ ok: false, retryAfterS: 1 });
    expect(admitRedelivery(NOON - 60_000, [], NOON)).toEqual({ ok: true });
  });
  it("allows 100 per client per hour, counting only the last hour", () => {
    const full = Array.from({ length: REDELIVERIES_PER_HOUR }, (_, i) => NOON - 3_000_000 + i);
    expect(admitRedelivery(null, full, NOON)).toMatchObject({ ok: false, retryAfterS: 600 });
    expect(admitRedelivery(null, full, NOON + 600_000)).toEqual({ ok: true });
  });
});
