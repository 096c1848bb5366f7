import type { MiddlewareHandler } from "hono";
import { findClientByApiKey } from "../clients/store";
import { secretsEqual } from "../lib/crypto";
import { ApiError } from "./errors";
import { callBinding } from "./objects";
import { admitClient } from "./rate-limit";
import type { AppEnv } from "./types";

function bearer(header: string | undefined): string | null {
  const m = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return m?.[1] ?? null;
}

const unauthorized = (message: string) => new ApiError(401, "unauthorized", message);

export const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  const token = bearer(c.req.header("authorization"));
  if (!token) throw unauthorized("Send the admin token as `Authorization: Bearer <ADMIN_TOKEN>`.");
  const admin = c.env.ADMIN_TOKEN;
  if (admin && (await secretsEqual(token, admin))) return next();
  if (await callBinding(c.get("requestId"), "auth", () => findClientByApiKey(c.env.EDITS, token))) {
    throw new ApiError(403, "forbidden", "Client api keys cannot manage clients; use the admin token.");
  }
  throw unauthorized("The admin token is not valid.");
};

export const requireClient: MiddlewareHandler<AppEnv> = async (c, next) => {
  const token = bearer(c.req.header("authorization"));
  if (!token) throw unauthorized("Send your api key as `Authorization: Bearer <api_key>`.");
  const client = await callBinding(c.get("requestId"), "auth", () => findClientByApiKey(c.env.EDITS, token));
  if (!client) throw unauthorized("The api key is not valid.");
  await callBinding(c.get("requestId"), "rate limit", () => admitClient(c.env.CLIENT_RATE_LIMIT, client.id));
  c.set("client", client);
  return next();
};
