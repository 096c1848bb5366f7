import { describe, expect, it } from "vitest";
import { afterEndpointAttempt, endpointView, normaliseEvents, subscribes, successRate } from "./policy";

describe("endpoint policy", () => {
  it("starts a failing streak on the first failure, keeps it, and ends it on a success", () => {
    expect(afterEndpointAttempt(null, false, 1_000, 60)).toEqual({ failingSince: 1_000, disable: false });
    expect(afterEndpointAttempt(1_000, false, 30_000, 60)).toEqual({ failingSince: 1_000, disable: false });
    expect(afterEndpointAttempt(1_000, true, 30_000, 60)).toEqual({ failingSince: null, disable: false });
  });

  it("disables once the streak has lasted the whole window, not before", () => {
    expect(afterEndpointAttempt(1_000, false, 60_999, 60).disable).toBe(false);
    expect(afterEndpointAttempt(1_000, false, 61_000, 60).disable).toBe(true);
    // A success at the last moment resets it.
    expect(afterEndpointAttempt(1_000, true, 61_000, 60).disable).toBe(false);
  });

  it("reads the 24 h success rate from hourly buckets, null without attempts", () => {
    expect(successRate([])).toBeNull();
    expect(successRate([{ ok: 0, failed: 0 }])).toBeNull();
    expect(successRate([{ ok: 3, failed: 1 }])).toBe(0.75);
    expect(
      successRate([
        { ok: 1, failed: 0 },
        { ok: 0, failed: 2 },
      ]),
    ).toBe(0.3333);
  });

  it("keeps event filters in canonical order and defaults to every type", () => {
    expect(normaliseEvents(undefined)).toEqual([
      "edit.succeeded",
      "edit.failed",
      "edit.cancelled",
      "endpoint.disabled",
    ]);
    expect(normaliseEvents(["edit.failed", "edit.succeeded", "edit.failed"])).toEqual([
      "edit.succeeded",
      "edit.failed",
    ]);
    expect(subscribes({ events: '["edit.failed"]' }, "edit.failed")).toBe(true);
    expect(subscribes({ events: '["edit.failed"]' }, "edit.succeeded")).toBe(false);
  });

  it("shows times as ISO strings and health from its parts", () => {
    const v = endpointView(
      {
        id: "ep_1",
        url: "https://example.com/h",
        events: '["edit.succeeded"]',
        description: null,
        status: "active",
        created_at: 0,
        updated_at: 0,
        last_attempt_at: 1_000,
        last_success_at: null,
        failing_since: 1_000,
      },
      [{ ok: 0, failed: 1 }],
      2,
    );
    expect(v.created_at).toBe("1970-01-01T00:00:00.000Z");
    expect(v.health).toEqual({
      last_attempt_at: "1970-01-01T00:00:01.000Z",
      last_success_at: null,
      failing_since: "1970-01-01T00:00:01.000Z",
      success_rate_24h: 0,
      pending: 2,
    });
  });
});
