import { ApiError } from "./errors";

/** The binding's window; it reports no reset time, so a full window is the honest Retry-After. */
export const RATE_LIMIT_PERIOD_S = 10;

/** Counts one call against the client's budget (per Cloudflare location, approximate by design). */
export async function admitClient(limiter: RateLimit, clientId: string): Promise<void> {
  const { success } = await limiter.limit({ key: clientId });
  if (!success) {
    throw new ApiError(429, "rate_limited", "Too many requests for this api key; slow down.", {
      headers: { "retry-after": String(RATE_LIMIT_PERIOD_S) },
    });
  }
}
