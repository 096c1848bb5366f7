import type { MiddlewareHandler } from "hono";
import { unauthenticated } from "./errors.ts";

/** All keys belong to the same Oxen user, so there is nothing else to tell apart. */
export function bearerAuth(keys: () => readonly string[]): MiddlewareHandler {
  return async (c, next) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("authorization") ?? "");
    const key = match?.[1];
    if (key === undefined || !keys().includes(key)) return unauthenticated();
    await next();
  };
}
