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

/** The error responses every authenticated route may give. */
export const commonErrors = {
  400: errorResponse("Malformed or invalid request"),
  401: errorResponse("Missing or invalid key"),
  404: errorResponse("Unknown id"),
  413: errorResponse("Body too large"),
  415: errorResponse("Body is not application/json"),
  429: errorResponse("Rate limited"),
  502: errorResponse("Oxen failed"),
  503: errorResponse("Oxen unavailable"),
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
