import { createRoute, type RouteConfig, z } from "@hono/zod-openapi";
import { EVENT_TYPES, GENERATION_STATUSES } from "../core/status";
import { EditCreateBody, EditSchema } from "../edits/schema";
import { requireClient } from "../http/auth";
import { requireJson } from "../http/body";
import { bearerSecurity, commonErrors, jsonBody, jsonResponse } from "../http/openapi";

/** The edit routes as documented in /openapi.json: paths, parameters, bodies and every answer. */

export const IdParam = z.object({ id: z.string().openapi({ param: { name: "id", in: "path" } }) });
export const PreferHeader = z
  .string()
  .optional()
  .openapi({ description: "`wait=N` (N ≤ 60): answer once the edit is terminal or N seconds have passed" });

/** A route on one of the caller's edits: `/v1/edits/{id}…`, client key required. */
export function editRoute<
  M extends "get" | "post" | "delete",
  P extends string,
  R extends RouteConfig["responses"],
>(method: M, path: P, summary: string, responses: R) {
  return createRoute({
    method,
    path,
    tags: ["edits"],
    summary,
    security: bearerSecurity,
    middleware: [requireClient] as const,
    request: { params: IdParam },
    responses: { ...responses, ...commonErrors },
  });
}

export const createEdit = createRoute({
  method: "post",
  path: "/v1/edits",
  tags: ["edits"],
  summary: "Create an edit: enqueue it on Oxen and be told by webhook when it finishes",
  security: bearerSecurity,
  middleware: [requireClient, requireJson] as const,
  request: {
    headers: z.object({
      "idempotency-key": z
        .string()
        .min(1)
        .max(255)
        .regex(/^[\x21-\x7e]+$/, "printable ASCII without spaces")
        .optional()
        .openapi({
          description: "The same key with the same body returns the same edit; with another body, 409",
        }),
      prefer: PreferHeader,
    }),
    body: jsonBody(EditCreateBody),
  },
  responses: {
    200: jsonResponse("The edit, already terminal", EditSchema),
    202: jsonResponse("The edit, accepted", EditSchema),
    ...commonErrors,
  },
});

export const getEdit = createRoute({
  method: "get",
  path: "/v1/edits/{id}",
  tags: ["edits"],
  summary: "Get an edit",
  security: bearerSecurity,
  middleware: [requireClient] as const,
  request: { params: IdParam, headers: z.object({ prefer: PreferHeader }) },
  responses: { 200: jsonResponse("The edit", EditSchema), ...commonErrors },
});

export const EditList = z
  .object({ data: z.array(EditSchema), next_cursor: z.string().nullable() })
  .openapi("EditList");

export const listEdits = createRoute({
  method: "get",
  path: "/v1/edits",
  tags: ["edits"],
  summary: "List this client's edits, newest first",
  security: bearerSecurity,
  middleware: [requireClient] as const,
  request: {
    query: z.object({
      status: z.enum(GENERATION_STATUSES).optional(),
      limit: z.coerce.number().int().min(1).max(100).default(20),
      cursor: z.string().max(1024).optional(),
    }),
  },
  responses: { 200: jsonResponse("A page of edits", EditList), ...commonErrors },
});

export const cancelEdit = editRoute(
  "post",
  "/v1/edits/{id}/cancel",
  "Cancel an edit's unfinished generations (no-op on a terminal edit)",
  {
    200: jsonResponse("The edit", EditSchema),
    ...commonErrors,
  },
);

export const DeliverySchema = z
  .object({
    event_id: z.string(),
    type: z.enum(EVENT_TYPES),
    url: z.string(),
    attempt: z.int().min(1),
    status_code: z.int().nullable(),
    error: z.string().nullable(),
    duration_ms: z.int(),
    at: z.string(),
    next_attempt_at: z.string().nullable(),
    response: z
      .string()
      .nullable()
      .openapi({ description: "The first 4 KB of the receiver's answer body, null when it sent none" }),
  })
  .openapi("Delivery");

export const listDeliveries = createRoute({
  method: "get",
  path: "/v1/edits/{id}/deliveries",
  tags: ["edits"],
  summary: "The edit's webhook attempts, oldest first (the last 50 per event and URL are kept)",
  security: bearerSecurity,
  middleware: [requireClient] as const,
  request: {
    params: IdParam,
    query: z.object({
      limit: z.coerce.number().int().min(1).max(100).default(100),
      cursor: z
        .string()
        .regex(/^\d{1,15}$/, "not a cursor this API returned")
        .optional(),
    }),
  },
  responses: {
    200: jsonResponse(
      "A page of attempts, oldest first",
      z.object({ data: z.array(DeliverySchema), next_cursor: z.string().nullable() }).openapi("DeliveryList"),
    ),
    ...commonErrors,
  },
});

export const editEvents = editRoute(
  "get",
  "/v1/edits/{id}/events",
  "Server-Sent Events of the edit's events (the webhook payloads), ending after the terminal one",
  {
    200: {
      description:
        "`event: edit.succeeded` (or failed, cancelled), `id:` the webhook-id, `data:` the webhook body",
      content: { "text/event-stream": { schema: z.string() } },
    },
    204: { description: "Everything was already sent (an EventSource reconnecting after the end)" },
  },
);

export const RedeliverySchema = z
  .object({
    object: z.literal("redelivery"),
    edit_id: z.string(),
    event_id: z.string(),
    type: z.string(),
    urls: z.array(z.string()),
  })
  .openapi("Redelivery");

export const redeliver = editRoute(
  "post",
  "/v1/edits/{id}/redeliver",
  "Send the edit's terminal event again to every subscribed URL, with its original webhook-id",
  {
    202: jsonResponse("Queued", RedeliverySchema),
  },
);

export const deleteEdit = editRoute(
  "delete",
  "/v1/edits/{id}",
  "Erase a finished edit now: its files, its record and its pending deliveries (409 while unfinished: cancel first)",
  {
    204: { description: "Erased; the edit and its file URLs answer 404 from now on" },
  },
);
