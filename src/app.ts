import { OpenAPIHono } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import { toIssues } from "./core/issues";
import { VERSION } from "./core/version";
import { limitBody } from "./http/body";
import { requireConfig } from "./http/config";
import { ApiError, errorBody } from "./http/errors";
import type { AppEnv } from "./http/types";
import { newId } from "./lib/ids";
import { errorMessage, log } from "./lib/log";
import { chaosRoutes } from "./routes/chaos";
import { clientRoutes } from "./routes/clients";
import { editRoutes } from "./routes/edits";
import { endpointRoutes } from "./routes/endpoints";
import { fileRoutes } from "./routes/files";
import { healthRoutes } from "./routes/health";
import { pageRoutes } from "./routes/pages";
import { usageRoutes } from "./routes/usage";
import { registerWebhooks } from "./routes/webhook-docs";

export function createApp() {
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (!result.success) {
        return c.json(
          errorBody("invalid_request", "The request is invalid.", toIssues(result.error.issues)),
          400,
        );
      }
    },
  });

  app.use("*", async (c, next) => {
    const started = Date.now();
    c.set("requestId", c.req.header("cf-ray") ?? newId("req", 16));
    await next();
    c.header("x-request-id", c.get("requestId"));
    // Method, path and status only: headers and bodies carry keys and secrets.
    log("info", "request", {
      request_id: c.get("requestId"),
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Date.now() - started,
    });
  });
  app.use("*", requireConfig);
  app.use("/v1/*", limitBody);

  app.onError((err, c) => {
    if (err instanceof ApiError) {
      for (const [k, v] of Object.entries(err.headers)) c.header(k, v);
      return c.json(err.body(), err.status);
    }
    if (err instanceof HTTPException && err.status < 500) {
      // Hono's own 4xx, e.g. the validator's "Malformed JSON in request body".
      const type = /json/i.test(err.message) ? "invalid_json" : "bad_request";
      return c.json(errorBody(type, err.message || "Bad request."), err.status);
    }
    log("error", "unhandled error", { request_id: c.get("requestId"), error: errorMessage(err) });
    return c.json(errorBody("internal_error", "Something went wrong on our side."), 500);
  });
  app.notFound((c) => c.json(errorBody("not_found", `No route for ${c.req.method} ${c.req.path}.`), 404));

  // Chained, so the route types flow into AppType for `hono/client`.
  const routes = app
    .route("/", fileRoutes)
    .route("/", healthRoutes)
    .route("/", clientRoutes)
    .route("/", editRoutes)
    .route("/", usageRoutes)
    .route("/", endpointRoutes);
  app.route("/", chaosRoutes);

  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });
  registerWebhooks(app.openAPIRegistry);
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "oxen-edit-relay",
      version: VERSION,
      description: "Image edits on Oxen's models, with signed webhooks when they finish.",
    },
  });
  // The console and the API reference (Scalar, rendered from the document above, its script
  // served from this relay's own assets, not a CDN), with their security headers.
  app.route("/", pageRoutes);
  return routes;
}

/** The relay's routes, for a typed client: `hc<AppType>(url)` from `hono/client`. */
export type AppType = ReturnType<typeof createApp>;
