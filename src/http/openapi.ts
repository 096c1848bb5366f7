import { z } from "@hono/zod-openapi";

export const ErrorSchema = z
  .object({
    error: z.object({
      type: z.string().openapi({ example: "invalid_request" }),
      message: z.string(),
      issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    }),
  })
  .openapi("Error");

const errorResponse = (description: string) => ({
  description,
  content: { "application/json": { schema: ErrorSchema } },
});

/** The error responses every client route may give. */
export const commonErrors = {
  400: errorResponse("Malformed or invalid request (`invalid_request`, `invalid_json`)"),
  401: errorResponse("Missing or invalid key (`unauthorized`), or a disabled client (`client_disabled`)"),
  403: errorResponse("An admin route called with a client key (`forbidden`)"),
  404: errorResponse("Unknown id, or another client's (`not_found`)"),
  409: errorResponse("A conflict (`idempotency_conflict`, `edit_not_terminal`)"),
  413: errorResponse("Body too large, or an edit too large to store (`payload_too_large`)"),
  415: errorResponse("Body is not application/json (`unsupported_media_type`)"),
  429: errorResponse(
    "Rate limited (`rate_limited`), a quota reached (`quota_exceeded`), or too many failed authentications from this address; see `Retry-After`",
  ),
  500: errorResponse("A bug on the relay's side (`internal_error`); never for anything a client sent"),
  502: errorResponse("Oxen failed (`oxen_error`, `oxen_auth_failed`)"),
  503: errorResponse(
    "Oxen or the platform briefly unavailable (`oxen_unavailable`, `oxen_insufficient_credits`, `temporarily_unavailable`), or the relay misconfigured (`misconfigured`)",
  ),
} as const;

/** The error responses every admin route may give. */
export const adminErrors = {
  ...commonErrors,
  503: errorResponse(
    "The relay is misconfigured (`misconfigured`: e.g. an ADMIN_TOKEN shorter than 32 characters), or briefly unavailable",
  ),
} as const;

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { "application/json": { schema } },
});

export const jsonResponse = <T extends z.ZodType>(description: string, schema: T) => ({
  description,
  content: { "application/json": { schema } },
});

export const bearerSecurity = [{ bearer: [] }];
