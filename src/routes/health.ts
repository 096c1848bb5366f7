import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { readConfig } from "../core/config";
import { isAdmin } from "../http/auth";
import { jsonResponse } from "../http/openapi";
import type { AppEnv } from "../http/types";
import { type HubStatus, hubStub } from "../hub/name";
import { errorMessage, log } from "../lib/log";

const Health = z
  .object({
    ok: z.boolean(),
    hub: z.object({
      connected: z.boolean(),
      last_event_at: z.string().nullable().optional().openapi({ description: "With the admin token only" }),
      outstanding: z.int().optional().openapi({ description: "With the admin token only" }),
    }),
  })
  .openapi("Health");

const health = createRoute({
  method: "get",
  path: "/healthz",
  tags: ["operations"],
  summary: "Liveness and whether the hub holds Oxen's stream; details with the admin token",
  responses: { 200: jsonResponse("Health", Health) },
});

/** Public answers come from this cache: a flood of /healthz costs the hub nothing. */
const PUBLIC_CACHE_MS = 5_000;
let cached: { connected: boolean; at: number } | null = null;

async function hubStatus(env: Env, requestId: string): Promise<HubStatus> {
  try {
    return await (await hubStub(env, readConfig(env))).status();
  } catch (e) {
    log("warn", "healthz could not reach hub", { request_id: requestId, error: errorMessage(e) });
    return { connected: false, last_event_at: null, outstanding: 0 };
  }
}

export const healthRoutes = new OpenAPIHono<AppEnv>().openapi(health, async (c) => {
  if (await isAdmin(c)) return c.json({ ok: true, hub: await hubStatus(c.env, c.get("requestId")) }, 200);
  const now = Date.now();
  if (!cached || now - cached.at > PUBLIC_CACHE_MS) {
    cached = { connected: (await hubStatus(c.env, c.get("requestId"))).connected, at: now };
  }
  return c.json({ ok: true, hub: { connected: cached.connected } }, 200);
});
