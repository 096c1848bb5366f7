import type { OxenFailure } from "../oxen/errors";
import { ApiError } from "./errors";

/**
 * What a caller is told when Oxen failed: its mistakes Oxen caught are 400s; Oxen's own trouble
 * is 503 when it may pass soon (busy, unreachable, out of credits), else 502.
 */
export function oxenApiError(f: OxenFailure): ApiError {
  const suffix = f.detail ? `: ${f.detail}` : "";
  switch (f.kind) {
    case "unknown_model":
      return new ApiError(400, "invalid_request", `Oxen rejected the model${suffix}`, {
        issues: [{ path: "model", message: f.detail ?? "unknown model" }],
      });
    case "rejected":
      return new ApiError(400, "invalid_request", `Oxen rejected the request${suffix}`);
    case "busy":
      return new ApiError(503, "oxen_unavailable", `Oxen is busy (HTTP ${f.status}); try again shortly`, {
        // Oxen may not say when; a client must still be told to come back, not to hammer.
        headers: { "retry-after": f.retryAfter ?? "1" },
      });
    case "unreachable":
      return new ApiError(503, "oxen_unavailable", f.message, { headers: { "retry-after": "1" } });
    case "auth":
      return new ApiError(502, "oxen_auth_failed", "The relay's Oxen credentials were refused");
    case "credits":
      return new ApiError(
        503,
        "oxen_insufficient_credits",
        `Oxen refused the job for lack of credits${suffix}`,
      );
    default:
      return new ApiError(
        502,
        "oxen_error",
        f.status ? `Oxen answered HTTP ${f.status}${suffix}` : f.message,
      );
  }
}
