import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { DEFAULT_LIMITS } from "../clients/limits";
import type { ClientRecord } from "../clients/store";
import { currentSecret, newClientRecord } from "../clients/store";
import { requireAdmin } from "../http/auth";
import { requireJson } from "../http/body";
import { notFound } from "../http/errors";
import { callObject } from "../http/objects";
import { adminErrors, bearerSecurity, jsonBody, jsonResponse } from "../http/openapi";
import type { AppEnv } from "../http/types";

const Limits = z
  .object({
    max_active_generations: z
      .int()
      .min(0)
      .max(1_000_000)
      .openapi({ example: DEFAULT_LIMITS.max_active_generations }),
    generations_per_day: z
      .int()
      .min(0)
      .max(100_000_000)
      .openapi({ example: DEFAULT_LIMITS.generations_per_day }),
  })
  .openapi("ClientLimits");
const LimitsPatch = Limits.partial().strict();
const Status = z.enum(["active", "disabled"]);

const ClientCreate = z
  .strictObject({ name: z.string().trim().min(1).max(100), limits: LimitsPatch.optional() })
  .openapi("ClientCreate");
const ClientPatch = z
  .strictObject({
    name: z.string().trim().min(1).max(100).optional(),
    status: Status.optional(),
    limits: LimitsPatch.optional(),
  })
  .openapi("ClientPatch");
const Client = z
  .object({ id: z.string(), name: z.string(), status: Status, limits: Limits, created_at: z.string() })
  .openapi("Client");
const ClientCreated = Client.extend({
  api_key: z.string().openapi({ description: "Shown only here; stored only as a hash." }),
  webhook_secret: z.string(),
}).openapi("ClientCreated");
const SecretRotated = z
  .object({ id: z.string(), webhook_secret: z.string(), previous_secret_expires_at: z.string().nullable() })
  .openapi("SecretRotated");
const KeyRotated = z.object({ id: z.string(), api_key: z.string() }).openapi("KeyRotated");
const IdParam = z.object({ id: z.string().openapi({ param: { name: "id", in: "path" } }) });

const route = <const C extends Parameters<typeof createRoute>[0]>(config: C) =>
  createRoute({ tags: ["clients"], security: bearerSecurity, ...config });

const create = route({
  method: "post",
  path: "/v1/clients",
  summary: "Create a client (admin)",
  middleware: [requireAdmin, requireJson] as const,
  request: { body: jsonBody(ClientCreate) },
  responses: { 201: jsonResponse("The client, with its api key", ClientCreated), ...adminErrors },
});

const get = route({
  method: "get",
  path: "/v1/clients/{id}",
  summary: "A client, without its key or secrets (admin)",
  middleware: [requireAdmin] as const,
  request: { params: IdParam },
  responses: { 200: jsonResponse("The client", Client), ...adminErrors },
});

const patch = route({
  method: "patch",
  path: "/v1/clients/{id}",
  summary: "Rename, disable or re-enable a client, or change its limits (admin)",
  middleware: [requireAdmin, requireJson] as const,
  request: { params: IdParam, body: jsonBody(ClientPatch) },
  responses: { 200: jsonResponse("The updated client", Client), ...adminErrors },
});

const rotateSecret = route({
  method: "post",
  path: "/v1/clients/{id}/rotate-secret",
  summary: "Rotate a client's webhook secret (admin); the old one keeps signing for 24 h",
  middleware: [requireAdmin] as const,
  request: { params: IdParam },
  responses: { 200: jsonResponse("The new secret", SecretRotated), ...adminErrors },
});

const rotateKey = route({
  method: "post",
  path: "/v1/clients/{id}/rotate-key",
  summary:
    "Replace a client's api key (admin); the old key is refused at once here and within ~60 s everywhere",
  middleware: [requireAdmin] as const,
  request: { params: IdParam },
  responses: { 200: jsonResponse("The new api key, shown only here", KeyRotated), ...adminErrors },
});

const secretRotated = (r: ClientRecord) => {
  const previous = r.secrets.find((s) => s.expires_at !== null);
  return {
    id: r.id,
    webhook_secret: currentSecret(r),
    previous_secret_expires_at: previous?.expires_at ? new Date(previous.expires_at).toISOString() : null,
  };
};

export const clientRoutes = new OpenAPIHono<AppEnv>()
  .openapi(create, async (c) => {
    const { name, limits } = c.req.valid("json");
    const { record, apiKey } = await newClientRecord(name, limits);
    const client = await callObject(c.get("requestId"), "client create", () =>
      c.env.CLIENT.getByName(record.id).create(record),
    );
    return c.json({ ...client, api_key: apiKey, webhook_secret: currentSecret(record) }, 201);
  })
  .openapi(get, async (c) => {
    const { id } = c.req.valid("param");
    const client = await callObject(c.get("requestId"), "client", () => c.env.CLIENT.getByName(id).view(id));
    if (!client) throw notFound("client");
    return c.json(client, 200);
  })
  .openapi(patch, async (c) => {
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const client = await callObject(c.get("requestId"), "client update", () =>
      c.env.CLIENT.getByName(id).update(id, body),
    );
    if (!client) throw notFound("client");
    return c.json(client, 200);
  })
  .openapi(rotateSecret, async (c) => {
    const { id } = c.req.valid("param");
    const next = await callObject(c.get("requestId"), "rotate secret", () =>
      c.env.CLIENT.getByName(id).rotateSecret(id),
    );
    if (!next) throw notFound("client");
    return c.json(secretRotated(next), 200);
  })
  .openapi(rotateKey, async (c) => {
    const { id } = c.req.valid("param");
    const next = await callObject(c.get("requestId"), "rotate key", () =>
      c.env.CLIENT.getByName(id).rotateKey(id),
    );
    if (!next) throw notFound("client");
    return c.json({ id, api_key: next.api_key }, 200);
  });
