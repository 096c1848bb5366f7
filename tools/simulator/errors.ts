export type OxenErrorType =
  | "unauthenticated"
  | "invalid_params"
  | "insufficient_credits"
  | "resource_not_found"
  | "rate_limited"
  | "unknown_error";

const TITLES: Record<OxenErrorType, string> = {
  unauthenticated: "Unauthenticated",
  invalid_params: "Invalid request parameters",
  insufficient_credits: "Insufficient credits",
  resource_not_found: "The requested resource could not be found",
  rate_limited: "Too many requests",
  unknown_error: "An unknown error occurred",
};

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

/** Oxen's main envelope: {"error":{type,title,detail?},"status":"error","status_message":type}. */
export function oxenError(
  status: number,
  type: OxenErrorType,
  detail?: string,
  headers?: Record<string, string>,
): Response {
  const error: Record<string, string> = { type, title: TITLES[type] };
  if (detail !== undefined) error.detail = detail;
  return jsonResponse(status, { error, status: "error", status_message: type }, headers);
}

export function typeForStatus(status: number): OxenErrorType {
  if (status === 400) return "invalid_params";
  if (status === 401) return "unauthenticated";
  if (status === 402) return "insufficient_credits";
  if (status === 404) return "resource_not_found";
  if (status === 429) return "rate_limited";
  return "unknown_error";
}

export const unauthenticated = (): Response => oxenError(401, "unauthenticated");
export const notFound = (): Response => oxenError(404, "resource_not_found");
export const invalidParams = (detail: string): Response => oxenError(400, "invalid_params", detail);
export const insufficientCredits = (): Response => oxenError(402, "insufficient_credits");

/** The second envelope Oxen uses, for model lookups. */
export const modelNotFound = (name: string): Response =>
  jsonResponse(404, { error: { message: `Model not found: ${name}` } });
