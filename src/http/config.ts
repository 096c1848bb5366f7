import type { MiddlewareHandler } from "hono";
import { ConfigError, readConfig } from "../core/config";
import { log } from "../lib/log";
import { ApiError } from "./errors";
import type { AppEnv } from "./types";

const checked = new WeakSet<object>();

/**
 * Refuses to serve with a variable the relay cannot use (a malformed retry schedule, say): a
 * loud 503 on every request and an error in the logs, never a silent fallback to defaults.
 * Checked once per isolate and environment.
 */
export const requireConfig: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!checked.has(c.env)) {
    try {
      readConfig(c.env);
      checked.add(c.env);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      log("error", "configuration refused", { variable: e.variable, error: e.message });
      throw new ApiError(503, "misconfigured", `The relay is misconfigured: ${e.message}.`);
    }
  }
  return next();
};
