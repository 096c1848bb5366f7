import type { EditFailure } from "../edits/object";
import { ApiError, notFound } from "./errors";
import { oxenApiError } from "./oxen-failures";

/** What a caller is told when an edit's object could not do what was asked. */
export function editApiError(reason: EditFailure): ApiError {
  switch (reason.kind) {
    case "oxen":
      return oxenApiError(reason.failure);
    case "idempotency_conflict":
      return new ApiError(
        409,
        "idempotency_conflict",
        "This Idempotency-Key was already used with a different request.",
      );
    case "not_found":
      return notFound("edit");
    case "outcome_unknown":
      return new ApiError(
        503,
        "temporarily_unavailable",
        "An earlier attempt of this request reached Oxen with no answer, and Oxen cannot be asked now; retry.",
        { headers: { "retry-after": "5" } },
      );
  }
}
