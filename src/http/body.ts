import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ApiError } from "./errors";
import type { AppEnv } from "./types";

/** Large enough for a few data: URL images; anything bigger should be a link. */
export const MAX_BODY_BYTES = 8 * 1024 * 1024;

export const limitBody = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => {
    throw new ApiError(413, "payload_too_large", `The body exceeds ${MAX_BODY_BYTES} bytes.`);
  },
});

/** JSON bodies only; a form or a bare string is a 415, not a confusing validation error. */
export const requireJson: MiddlewareHandler<AppEnv> = async (c, next) => {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(type)) {
    throw new ApiError(415, "unsupported_media_type", "Send the body as `Content-Type: application/json`.");
  }
  return next();
};
