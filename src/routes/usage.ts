import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { utcDay } from "../clients/limits";
import { requireClient } from "../http/auth";
import { ApiError } from "../http/errors";
import { callObject } from "../http/objects";
import { bearerSecurity, commonErrors, jsonResponse } from "../http/openapi";
import type { AppEnv } from "../http/types";

const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "a UTC day, YYYY-MM-DD");
/** A usage query spans at most this many days. */
const MAX_DAYS = 366;

const UsageRow = z
  .object({
    date: z.string(),
    model: z.string(),
    edits_created: z.int(),
    generations_succeeded: z.int(),
    generations_failed: z.int(),
    generations_cancelled: z.int(),
    webhooks_delivered: z.int(),
    webhooks_failed: z.int(),
  })
  .openapi("UsageDay");

const Usage = z
  .object({
    data: z.array(UsageRow),
    limits: z.object({ max_active_generations: z.int(), generations_per_day: z.int() }),
    today: z.object({ active_generations: z.int(), generations: z.int() }),
  })
  .openapi("Usage");

const usage = createRoute({
  method: "get",
  path: "/v1/usage",
  tags: ["usage"],
  summary: "This client's usage per UTC day and model, its limits, and where it stands today",
  security: bearerSecurity,
  middleware: [requireClient] as const,
  request: { query: z.object({ from: Day.optional(), to: Day.optional() }) },
  responses: { 200: jsonResponse("Usage, oldest day first", Usage), ...commonErrors },
});

export const usageRoutes = new OpenAPIHono<AppEnv>().openapi(usage, async (c) => {
  const today = utcDay(Date.now());
  const { from = today, to = today } = c.req.valid("query");
  const span = (Date.parse(to) - Date.parse(from)) / 86_400_000;
  if (!(span >= 0 && span < MAX_DAYS)) {
    throw new ApiError(400, "invalid_request", "The range is not valid.", {
      issues: [
        { path: "to", message: `must be a valid day on or after from, at most ${MAX_DAYS} days later` },
      ],
    });
  }
  const clientId = c.get("client").id;
  const body = await callObject(c.get("requestId"), "usage", () =>
    c.env.CLIENT.getByName(clientId).usage(clientId, from, to),
  );
  return c.json(body, 200);
});
