import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { currentSecret, newClientRecord } from "../clients/store";
import { requireAdmin } from "../http/auth";
import { requireJson } from "../http/body";
import { notFound } from "../http/errors";
import { callObject } from "../http/objects";
import { bearerSecurity, commonErrors, jsonBody, jsonResponse } from "../http/openapi";
import type { AppEnv } from "../http/types";

const ClientCreate = z.strictObject({ name: z.string().trim().min(1).max(100) }).openapi("ClientCreate");
const ClientCreated = z
  .object({
    id: z.string(),
    name: z.string(),
    api_key: z.string().openapi({ description: "Shown only here; stored only as a hash." }),
    webhook_secret: z.string(),
    created_at: z.string(),
  })
  .openapi("ClientCreated");
const SecretRotated = z
  .object({ id: z.string(), webhook_secret: z.string(), previous_secret_expires_at: z.string().nullable() })
  .openapi("SecretRotated");

const create = createRoute({
  method: "post",
  path: "/v1/clients",
  tags: ["clients"],
  summary: "Create a client (admin)",
  security: bearerSecurity,
  middleware: [requireAdmin, requireJson] as const,
  request: { body: jsonBody(ClientCreate) },
  responses: { 201: jsonResponse("The client, with its api key", ClientCreated), ...commonErrors },
});

const rotate = createRoute({
  method: "post",
  path: "/v1/clients/{id}/rotate-secret",
  tags: ["clients"],
  summary: "Rotate a client's webhook secret (admin); the old one keeps signing for 24 h",
  security: bearerSecurity,
  middleware: [requireAdmin] as const,
  request: { params: z.object({ id: z.string() }) },
  responses: { 200: jsonResponse("The new secret", SecretRotated), ...commonErrors },
});

export const clientRoutes = new OpenAPIHono<AppEnv>()
  .openapi(create, async (c) => {
    const { name } = c.req.valid("json");
    const { record, apiKey } = await newClientRecord(name);
    await callObject(c.get("requestId"), "client create", () =>
      c.env.CLIENT.getByName(record.id).create(record),
    );
    return c.json(
      {
        id: record.id,
        name: record.name,
        api_key: apiKey,
        webhook_secret: currentSecret(record),
        created_at: record.created_at,
      },
      201,
    );
  })
  .openapi(rotate, async (c) => {
    const id = c.req.valid("param").id;
    const next = await callObject(c.get("requestId"), "rotate", () =>
      c.env.CLIENT.getByName(id).rotateSecret(id),
    );
    if (!next) throw notFound("client");
    const previous = next.secrets.find((s) => s.expires_at !== null);
    return c.json(
      {
        id: next.id,
        webhook_secret: currentSecret(next),
        previous_secret_expires_at: previous?.expires_at ? new Date(previous.expires_at).toISOString() : null,
      },
      200,
    );
  });
