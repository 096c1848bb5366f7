import type { Context, MiddlewareHandler } from "hono";
import { findClientByApiKey } from "../clients/store";
import { secretsEqual } from "../lib/crypto";
import { ApiError } from "./errors";
import { callBinding } from "./objects";
import { admitClient } from "./rate-limit";
import type { AppEnv } from "./types";

/** Shorter admin tokens can be guessed: admin routes refuse to run with one. */
export const MIN_ADMIN_TOKEN_LENGTH = 32;
/** The failed-authentication limiter's window (the binding's period, in wrangler.toml). */
export const AUTH_FAILURE_PERIOD_S = 60;

function bearer(header: string | undefined): string | null {
  const m = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return m?.[1] ?? null;
}

/**
 * A failed authentication: counted against the caller's address, and once that address has
 * failed more than the limiter allows in a minute, a 429 instead of the 401/403, so guessing keys
 * or the admin token is slow. A valid key from the same address is served as usual.
 */
async function refuse(c: Context<AppEnv>, error: ApiError): Promise<never> {
  const ip = c.req.header("cf-connecting-ip") ?? "unknown";
  const { success } = await callBinding(c.get("requestId"), "auth limit", () =>
    c.env.AUTH_FAILURE_LIMIT.limit({ key: ip }),
  );
  if (!success) {
    throw new ApiError(429, "rate_limited", "Too many failed authentications from this address; slow down.", {
      headers: { "retry-after": String(AUTH_FAILURE_PERIOD_S) },
    });
  }
  throw error;
}

const unauthorized = (message: string) => new ApiError(401, "unauthorized", message);

export const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  const admin = c.env.ADMIN_TOKEN ?? "";
  if (admin.length < MIN_ADMIN_TOKEN_LENGTH) {
    throw new ApiError(
      503,
      "misconfigured",
      `Admin routes are off: ADMIN_TOKEN must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters.`,
    );
  }
  const token = bearer(c.req.header("authorization"));
  if (!token)
    return refuse(c, unauthorized("Send the admin token as `Authorization: Bearer <ADMIN_TOKEN>`."));
  if (await secretsEqual(token, admin)) return next();
  if (await callBinding(c.get("requestId"), "auth", () => findClientByApiKey(c.env.EDITS, token))) {
    return refuse(
      c,
      new ApiError(403, "forbidden", "Client api keys cannot manage clients; use the admin token."),
    );
  }
  return refuse(c, unauthorized("The admin token is not valid."));
};

export const requireClient: MiddlewareHandler<AppEnv> = async (c, next) => {
  const token = bearer(c.req.header("authorization"));
  if (!token) return refuse(c, unauthorized("Send your api key as `Authorization: Bearer <api_key>`."));
  const client = await callBinding(c.get("requestId"), "auth", () => findClientByApiKey(c.env.EDITS, token));
  if (!client) return refuse(c, unauthorized("The api key is not valid."));
  if (client.status === "disabled") {
    return refuse(c, new ApiError(401, "client_disabled", "This client is disabled; ask the operator."));
  }
  await callBinding(c.get("requestId"), "rate limit", () => admitClient(c.env.CLIENT_RATE_LIMIT, client.id));
  c.set("client", client);
  return next();
};

/** Whether a request carries the admin token (for routes that say more to the operator). */
export async function isAdmin(c: Context<AppEnv>): Promise<boolean> {
  const admin = c.env.ADMIN_TOKEN ?? "";
  const token = bearer(c.req.header("authorization"));
  return admin.length >= MIN_ADMIN_TOKEN_LENGTH && token !== null && (await secretsEqual(token, admin));
}
