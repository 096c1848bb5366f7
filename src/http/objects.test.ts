import { describe, expect, it } from "vitest";
import { ApiError } from "./errors";
import { callBinding, callObject } from "./objects";

const flagged = (flags: Record<string, boolean>) => Object.assign(new Error("platform"), flags);

describe("callObject", () => {
  it("retries what the platform marks retryable or a reset, then succeeds", async () => {
    for (const flags of [{ retryable: true }, { durableObjectReset: true }] as Record<string, boolean>[]) {
      let calls = 0;
      const value = await callObject("req", "test", async () => {
        if (++calls < 3) throw flagged(flags);
        return "ok";
      });
      expect([value, calls]).toEqual(["ok", 3]);
    }
  });

  // Found in review: every error was retried three times and then hidden behind a 503, so a
  // real bug never showed as a 500 and an overloaded object got more load.
  it("does not retry a bug: it surfaces as itself (a 500 upstream)", async () => {
    let calls = 0;
    const bug = new TypeError("undefined is not a function");
    await expect(
      callObject("req", "test", async () => {
        calls++;
        throw bug;
      }),
    ).rejects.toBe(bug);
    expect(calls).toBe(1);
  });

  it("answers an overloaded object with 503 at once, without more load", async () => {
    let calls = 0;
    const err = await callObject("req", "test", async () => {
      calls++;
      throw flagged({ retryable: true, overloaded: true });
    }).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect([err.status, err.type, calls]).toEqual([503, "temporarily_unavailable", 1]);
  });

  it("gives up on a reset that keeps happening with 503", async () => {
    const err = await callObject("req", "test", async () => {
      throw flagged({ durableObjectReset: true });
    }).catch((e) => e);
    expect(err.status).toBe(503);
  });
});

it("answers a failing binding (KV, a rate limiter) with 503, not 500", async () => {
  const err = await callBinding("req", "kv", async () => {
    throw new Error("KV GET failed: 500 Internal Server Error");
  }).catch((e) => e);
  expect(err).toBeInstanceOf(ApiError);
  expect(err.status).toBe(503);
});
