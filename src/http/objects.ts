import { errorMessage, log } from "../lib/log";
import { sleep } from "../lib/time";
import { ApiError } from "./errors";

/**
 * Calls a Durable Object, retrying when the call itself fails: the platform may reset an object
 * under a call in flight (a deploy, an eviction, an overload), and such errors carry no reliable
 * flag. Every object method is safe to repeat (create is keyed and fingerprinted, cancel and
 * redelivery are idempotent), so a retry is right; if the object still fails, 503, never 500.
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
      log(i < attempts ? "warn" : "error", "durable object call failed", {
        request_id: requestId,
        what,
        attempt: i,
        error: errorMessage(e),
      });
      if (i >= attempts) {
        throw new ApiError(503, "temporarily_unavailable", "The service is briefly unavailable; try again.", {
          headers: { "retry-after": "1" },
        });
      }
      await sleep(25 * 2 ** i);
    }
  }
}
