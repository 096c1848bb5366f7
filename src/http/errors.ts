import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ErrorIssue } from "../core/issues";

export type { ErrorIssue };

export interface ErrorBody {
  error: { type: string; message: string; issues?: ErrorIssue[] };
}

/** An error that is the client's or Oxen's, rendered in the contract's envelope. */
export class ApiError extends Error {
  readonly status: ContentfulStatusCode;
  readonly type: string;
  readonly issues: ErrorIssue[] | undefined;
  readonly headers: Record<string, string>;

  constructor(
    status: ContentfulStatusCode,
    type: string,
    message: string,
    opts: { issues?: ErrorIssue[]; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.status = status;
    this.type = type;
    this.issues = opts.issues;
    this.headers = opts.headers ?? {};
  }

  body(): ErrorBody {
    return errorBody(this.type, this.message, this.issues);
  }
}

export function errorBody(type: string, message: string, issues?: ErrorIssue[]): ErrorBody {
  return { error: issues && issues.length > 0 ? { type, message, issues } : { type, message } };
}

export const notFound = (what: string) => new ApiError(404, "not_found", `No ${what} with that id.`);
