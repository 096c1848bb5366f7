import { Hono } from "hono";
import { readConfig } from "../core/config";
import { EDIT_ID } from "../edits/read";
import { requireAdmin } from "../http/auth";
import { notFound } from "../http/errors";
import type { AppEnv } from "../http/types";
import { hubStub } from "../hub/name";

/**
 * Fault injection for the chaos run: aborts a Durable Object the way the platform may. Answers
 * 404 (as an unknown route) unless CHAOS_HOOKS is "true", and needs the admin token even then.
 */
export const chaosRoutes = new Hono<AppEnv>().post(
  "/_chaos/abort",
  async (c, next) => {
    if (c.env.CHAOS_HOOKS !== "true") throw notFound("route");
    return next();
  },
  requireAdmin,
  async (c) => {
    const target = c.req.query("target") ?? "";
    const stub =
      target === "hub"
        ? await hubStub(c.env, readConfig(c.env))
        : EDIT_ID.test(target)
          ? c.env.EDIT.getByName(target)
          : null;
    if (!stub) throw notFound("target");
    try {
      await stub.abort();
    } catch {
      // An aborted object rejects the call that aborted it: that is the point.
    }
    return c.json({ aborted: target });
  },
);
