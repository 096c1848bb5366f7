import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { readConfig } from "../core/config";
import { WebhookUrl } from "../edits/schema";
import { ENDPOINT_EVENT_TYPES, ENDPOINT_STATUSES, MAX_ENDPOINTS } from "../endpoints/policy";
import { requireClient } from "../http/auth";
import { requireJson } from "../http/body";
import { ApiError, notFound } from "../http/errors";
import { callObject } from "../http/objects";
import { bearerSecurity, commonErrors, jsonBody, jsonResponse } from "../http/openapi";
import type { AppEnv } from "../http/types";
import { checkWebhookUrl } from "../webhooks/url-safety";
import { IdParam } from "./edits-api";

/** `/v1/endpoints`: a client's account-level subscriptions, and `/v1/events`, its event log. */

const EndpointEventType = z.enum(ENDPOINT_EVENT_TYPES).openapi("EndpointEventType");
const Events = z.array(EndpointEventType).min(1).max(ENDPOINT_EVENT_TYPES.length);
const Description = z.string().max(500).nullable();

const EndpointCreate = z
  .strictObject({ url: WebhookUrl, events: Events.optional(), description: Description.optional() })
  .openapi("EndpointCreate");
const EndpointPatch = z
  .strictObject({
    url: WebhookUrl.optional(),
    events: Events.optional(),
    description: Description.optional(),
    status: z.enum(["active", "paused"]).optional(),
  })
  .openapi("EndpointPatch");
const Health = z
  .object({
    last_attempt_at: z.string().nullable(),
    last_success_at: z.string().nullable(),
    failing_since: z
      .string()
      .nullable()
      .openapi({ description: "Since when every attempt has failed; null after a success" }),
    success_rate_24h: z.number().nullable().openapi({
      description: "Delivered attempts over all attempts in the last 24 h; null without attempts",
    }),
    pending: z.int().openapi({ description: "Events not yet delivered (held while paused or disabled)" }),
  })
  .openapi("EndpointHealth");
export const EndpointSchema = z
  .object({
    id: z.string().openapi({ example: "ep_2bV8yJ1nqk3Zf6QhX0cWmA" }),
    url: z.string(),
    events: z.array(EndpointEventType),
    description: z.string().nullable(),
    status: z.enum(ENDPOINT_STATUSES),
    created_at: z.string(),
    updated_at: z.string(),
    health: Health,
  })
  .openapi("Endpoint");
const Endpoint = EndpointSchema;
const Recover = z
  .strictObject({ since: z.iso.datetime({ offset: true }).openapi({ example: "2026-12-01T00:00:00Z" }) })
  .openapi("EndpointRecover");
const LoggedEvent = z
  .object({
    id: z.string().openapi({ description: "The event's `webhook-id`" }),
    type: z.string(),
    timestamp: z.string(),
    data: z
      .record(z.string(), z.unknown())
      .openapi({ description: "The edit (or, for `endpoint.disabled`, the endpoint)" }),
  })
  .openapi("LoggedEvent");

const route = <const C extends Parameters<typeof createRoute>[0]>(config: C) =>
  createRoute({ tags: ["endpoints"], security: bearerSecurity, ...config });

const tooMany = {
  description: `The client already has ${MAX_ENDPOINTS} endpoints (\`too_many_endpoints\`)`,
  content: {
    "application/json": { schema: z.object({ error: z.object({ type: z.string(), message: z.string() }) }) },
  },
};

const create = route({
  method: "post",
  path: "/v1/endpoints",
  summary: `Subscribe an endpoint to this client's events (up to ${MAX_ENDPOINTS})`,
  middleware: [requireClient, requireJson] as const,
  request: { body: jsonBody(EndpointCreate) },
  responses: { 201: jsonResponse("The endpoint", Endpoint), ...commonErrors, 409: tooMany },
});
const list = route({
  method: "get",
  path: "/v1/endpoints",
  summary: "This client's endpoints, oldest first",
  middleware: [requireClient] as const,
  responses: {
    200: jsonResponse("Every endpoint", z.object({ data: z.array(Endpoint) }).openapi("EndpointList")),
    ...commonErrors,
  },
});
const get = route({
  method: "get",
  path: "/v1/endpoints/{id}",
  summary: "One endpoint, with its health",
  middleware: [requireClient] as const,
  request: { params: IdParam },
  responses: { 200: jsonResponse("The endpoint", Endpoint), ...commonErrors },
});
const patch = route({
  method: "patch",
  path: "/v1/endpoints/{id}",
  summary:
    "Change an endpoint; `status: active` resumes a paused or disabled one and sends what it held, in order",
  middleware: [requireClient, requireJson] as const,
  request: { params: IdParam, body: jsonBody(EndpointPatch) },
  responses: { 200: jsonResponse("The endpoint", Endpoint), ...commonErrors },
});
const remove = route({
  method: "delete",
  path: "/v1/endpoints/{id}",
  summary: "Delete an endpoint (what it held is dropped)",
  middleware: [requireClient] as const,
  request: { params: IdParam },
  responses: { 204: { description: "Deleted" }, ...commonErrors },
});
const recover = route({
  method: "post",
  path: "/v1/endpoints/{id}/recover",
  summary: "Send again, same ids, in order, every event since `since` this endpoint has not acknowledged",
  middleware: [requireClient, requireJson] as const,
  request: { params: IdParam, body: jsonBody(Recover) },
  responses: {
    202: jsonResponse(
      "How many events will be sent",
      z.object({ events: z.int() }).openapi("EndpointRecovery"),
    ),
    ...commonErrors,
  },
});
const events = route({
  method: "get",
  path: "/v1/events",
  summary:
    "This client's event log, oldest first (kept for the retention period): the webhook payloads and ids",
  middleware: [requireClient] as const,
  request: {
    query: z.object({
      after: z.string().max(64).optional().openapi({ description: "An event id: the page starts after it" }),
      type: z.enum(ENDPOINT_EVENT_TYPES).optional(),
      limit: z.coerce.number().int().min(1).max(100).default(100),
    }),
  },
  responses: {
    200: jsonResponse(
      "A page of events, oldest first",
      z.object({ data: z.array(LoggedEvent), next_cursor: z.string().nullable() }).openapi("EventList"),
    ),
    ...commonErrors,
  },
});

const checkUrl = (env: Env, url: string | undefined) => {
  if (url === undefined) return;
  const problem = checkWebhookUrl(url, { allowPrivate: readConfig(env).allowPrivateWebhooks });
  if (problem) {
    throw new ApiError(400, "invalid_request", "The endpoint URL is not allowed.", {
      issues: [{ path: "url", message: problem }],
    });
  }
};

export const endpointRoutes = new OpenAPIHono<AppEnv>()
  .openapi(create, async (c) => {
    const body = c.req.valid("json");
    checkUrl(c.env, body.url);
    const clientId = c.get("client").id;
    const made = await callObject(c.get("requestId"), "endpoint create", () =>
      c.env.CLIENT.getByName(clientId).createEndpoint(body),
    );
    if (!made.endpoint) {
      throw new ApiError(409, "too_many_endpoints", `A client has at most ${MAX_ENDPOINTS} endpoints.`);
    }
    return c.json(made.endpoint, 201);
  })
  .openapi(list, async (c) => {
    const clientId = c.get("client").id;
    const data = await callObject(c.get("requestId"), "endpoint list", () =>
      c.env.CLIENT.getByName(clientId).listEndpoints(),
    );
    return c.json({ data }, 200);
  })
  .openapi(get, async (c) => {
    const clientId = c.get("client").id;
    const { id } = c.req.valid("param");
    const ep = await callObject(c.get("requestId"), "endpoint get", () =>
      c.env.CLIENT.getByName(clientId).getEndpoint(id),
    );
    if (!ep) throw notFound("endpoint");
    return c.json(ep, 200);
  })
  .openapi(patch, async (c) => {
    const body = c.req.valid("json");
    checkUrl(c.env, body.url);
    const clientId = c.get("client").id;
    const { id } = c.req.valid("param");
    const ep = await callObject(c.get("requestId"), "endpoint update", () =>
      c.env.CLIENT.getByName(clientId).updateEndpoint(id, body),
    );
    if (!ep) throw notFound("endpoint");
    return c.json(ep, 200);
  })
  .openapi(remove, async (c) => {
    const clientId = c.get("client").id;
    const { id } = c.req.valid("param");
    const gone = await callObject(c.get("requestId"), "endpoint delete", () =>
      c.env.CLIENT.getByName(clientId).deleteEndpoint(id),
    );
    if (!gone) throw notFound("endpoint");
    return c.body(null, 204);
  })
  .openapi(recover, async (c) => {
    const { since } = c.req.valid("json");
    const clientId = c.get("client").id;
    const { id } = c.req.valid("param");
    const n = await callObject(c.get("requestId"), "endpoint recover", () =>
      c.env.CLIENT.getByName(clientId).recoverEndpoint(id, Date.parse(since)),
    );
    if (n === null) throw notFound("endpoint");
    return c.json({ events: n }, 202);
  })
  .openapi(events, async (c) => {
    const { after, type, limit } = c.req.valid("query");
    const clientId = c.get("client").id;
    const page = await callObject(c.get("requestId"), "events", () =>
      c.env.CLIENT.getByName(clientId).events(after, type, limit),
    );
    if (!page) {
      throw new ApiError(400, "invalid_request", "The cursor is not valid.", {
        issues: [
          { path: "after", message: "no event with that id (it may have passed the retention period)" },
        ],
      });
    }
    return c.json(
      page as {
        data: { id: string; type: string; timestamp: string; data: Record<string, unknown> }[];
        next_cursor: string | null;
      },
      200,
    );
  });
