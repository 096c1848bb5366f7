import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { readConfig } from "../core/config";
import { jsonResponse } from "../http/openapi";
import type { AppEnv } from "../http/types";
import { hubStub } from "../hub/name";
import { errorMessage, log } from "../lib/log";

const Health = z
  .object({
    ok: z.boolean(),
    hub: z.object({ connected: z.boolean(), last_event_at: z.string().nullable(), outstanding: z.int() }),
  })
  .openapi("Health");

const health = createRoute({
  method: "get",
  path: "/healthz",
  tags: ["operations"],
  summary: "Liveness, and the state of the Oxen event stream",
  responses: { 200: jsonResponse("Health", Health) },
});

export const healthRoutes = new OpenAPIHono<AppEnv>().openapi(health, async (c) => {
  try {
    const hub = await (await hubStub(c.env, readConfig(c.env))).status();
    return c.json({ ok: true, hub }, 200);
  } catch (e) {
    log("warn", "healthz could not reach hub", { request_id: c.get("requestId"), error: errorMessage(e) });
    return c.json({ ok: true, hub: { connected: false, last_event_at: null, outstanding: 0 } }, 200);
  }
});
