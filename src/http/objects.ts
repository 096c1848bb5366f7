import { errorMessage, log } from "../lib/log";
import { sleep } from "../lib/time";
import { ApiError } from "./errors";

/** What workerd puts on an error from a Durable Object call. */
interface PlatformError {
  retryable?: boolean;
  overloaded?: boolean;
  /** The object was reset under the call (a deploy, an eviction, `ctx.abort`). */
  durableObjectReset?: boolean;
}

const unavailable = () =>
  new ApiError(503, "temporarily_unavailable", "The service is briefly unavailable; try again.", {
    headers: { "retry-after": "1" },
  });

/**
 * Calls a Durable Object, retrying only what the platform marks retryable or as a reset of the
 * object under the call (a deploy, an eviction). An overloaded object is not given more load: 503 at once.
 * Anything else is a bug and surfaces as one (500), rather than hiding behind retries. Every
 * object method is safe to repeat (create is keyed and records its intent, cancel and redelivery
 * are idempotent). The pattern is partyserver's.
 */
export async function callObject<T>(
  requestId: string,
  what: string,
  fn: () => Promise<T>,
  attempts = 3,
): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof ApiError) throw e;
      const p = (e ?? {}) as PlatformError;
      const retry = (p.retryable === true || p.durableObjectReset === true) && p.overloaded !== true;
      log(retry && i < attempts ? "warn" : "error", "durable object call failed", {
        request_id: requestId,
        what,
        attempt: i,
        retryable: p.retryable === true,
        overloaded: p.overloaded === true,
        error: errorMessage(e),
      });
      if (p.overloaded === true || (retry && i >= attempts)) throw unavailable();
      if (!retry) throw e;
      // Full jitter, so callers reset together do not come back together.
      await sleep(Math.random() * 50 * 2 ** i);
    }
  }
}

/** A platform binding (KV, the rate limiter) that failed: the caller's request was fine, so 503. */
export async function callBinding<T>(requestId: string, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ApiError) throw e;
    log("error", "binding call failed", { request_id: requestId, what, error: errorMessage(e) });
    throw unavailable();
  }
}
