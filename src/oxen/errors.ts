import { ApiError } from "../http/errors";
import { OxenErrorBody } from "./schemas";

/** The message inside either of Oxen's error envelopes. */
export function oxenMessage(body: unknown): string | null {
  const parsed = OxenErrorBody.safeParse(body);
  if (!parsed.success) return null;
  const e = parsed.data.error;
  if ("message" in e) return e.message;
  return e.detail ?? e.title ?? e.type ?? null;
}

/**
 * Maps a failed Oxen response onto our contract: the caller's mistakes Oxen catches are 400s;
 * Oxen's own trouble is 503 when it may pass soon (429, 5xx "unavailable", network), else 502.
 */
export function mapOxenFailure(status: number, body: unknown, retryAfter: string | null): ApiError {
  const detail = oxenMessage(body);
  const suffix = detail ? `: ${detail}` : "";
  if (status === 404 && detail?.startsWith("Model not found")) {
    return new ApiError(400, "invalid_request", `Oxen rejected the model${suffix}`, {
      issues: [{ path: "model", message: detail }],
    });
  }
  if (status === 400 || status === 422) {
    return new ApiError(400, "invalid_request", `Oxen rejected the request${suffix}`);
  }
  if (status === 429 || status === 503) {
    const headers: Record<string, string> = retryAfter ? { "retry-after": retryAfter } : {};
    return new ApiError(503, "oxen_unavailable", `Oxen is busy (HTTP ${status}); try again shortly`, {
      headers,
    });
  }
  if (status === 401 || status === 403) {
    return new ApiError(502, "oxen_auth_failed", "The relay's Oxen credentials were refused");
  }
  if (status === 402) {
    return new ApiError(
      503,
      "oxen_insufficient_credits",
      `Oxen refused the job for lack of credits${suffix}`,
    );
  }
  return new ApiError(502, "oxen_error", `Oxen answered HTTP ${status}${suffix}`);
}

export const oxenUnreachable = (cause: unknown): ApiError =>
  new ApiError(
    503,
    "oxen_unavailable",
    `Oxen could not be reached: ${String((cause as Error)?.message ?? cause)}`,
  );
