import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { Admission } from "../clients/limits";
import { readConfig } from "../core/config";
import { toIssues } from "../core/issues";
import { loadEdit } from "../edits/read";
import { ApiError } from "../http/errors";
import { callObject } from "../http/objects";
import { ErrorSchema } from "../http/openapi";
import type { AppEnv } from "../http/types";
import { newId } from "../lib/ids";
import { verifyPath } from "../media/signing";

/**
 * Key-less, signed reads: stored files, and an edit's event stream for a browser's EventSource.
 * The signature is the credential (like a presigned link), so these answer any origin (CORS),
 * GET only; nothing else in the API does.
 */
const CORS = { "access-control-allow-origin": "*", "access-control-allow-methods": "GET" };

const Signed = z.object({
  exp: z.string().openapi({ description: "Expiry, Unix seconds" }),
  sig: z.string().openapi({ description: "HMAC-SHA256 of the path and expiry, base64url" }),
});

const error = (description: string) => ({
  description,
  content: { "application/json": { schema: ErrorSchema } },
});

const getFile = createRoute({
  method: "get",
  path: "/v1/files/{key}",
  tags: ["files"],
  summary: "A stored file (an output copied from Oxen, or a data: input), by its signed URL; no key",
  request: {
    params: z.object({
      key: z.string().openapi({ param: { name: "key", in: "path" }, example: "edits/edit_…/out/….png" }),
    }),
    query: Signed,
  },
  responses: {
    200: {
      description: "The bytes, with their content type, ETag and Cache-Control",
      content: { "image/*": { schema: z.string() } },
    },
    304: { description: "Not modified (If-None-Match)" },
    400: error("Malformed query"),
    403: error("A bad or expired signature (`forbidden`)"),
    404: error("The file was deleted (its edit erased), or never existed (`not_found`)"),
    503: error("Storage briefly unavailable"),
  },
});

async function checkSignature(c: Context<AppEnv>, path: string): Promise<void> {
  const ok = await verifyPath(readConfig(c.env).fileUrlSecret, path, c.req.query("exp"), c.req.query("sig"));
  if (!ok)
    throw new ApiError(403, "forbidden", "The signature is not valid or has expired.", { headers: CORS });
}

export const fileRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    getFile,
    async (c) => {
      const key = decodeURIComponent(new URL(c.req.url).pathname.slice("/v1/files/".length));
      await checkSignature(c, `/v1/files/${key}`);
      const obj = await callObject(c.get("requestId"), "r2", () =>
        c.env.MEDIA.get(key, { onlyIf: c.req.raw.headers }),
      );
      if (!obj) throw new ApiError(404, "not_found", "No file at that address.", { headers: CORS });
      const headers = new Headers(CORS);
      obj.writeHttpMetadata(headers);
      headers.set("etag", obj.httpEtag);
      // Private: a shared cache could keep serving a file after its edit was erased.
      headers.set("cache-control", "private, max-age=3600");
      if (!("body" in obj)) return new Response(null, { status: 304, headers }) as never;
      return new Response(obj.body, { headers }) as never;
    },
    (result) => {
      // A malformed query is answered with CORS too, so a browser page can read why.
      if (!result.success) {
        throw new ApiError(400, "invalid_request", "A file URL needs its exp and sig.", {
          issues: toIssues(result.error.issues),
          headers: CORS,
        });
      }
    },
  )
  .options("/v1/files/*", (c) => c.body(null, 204, { ...CORS, "access-control-max-age": "86400" }))
  .options("/v1/edits/:id/events", (c) => c.body(null, 204, { ...CORS, "access-control-max-age": "86400" }))
  // The edit's stream by its signed `events_url`: read-only, no key. Without `sig`, the
  // authenticated route in routes/edits.ts answers.
  .get("/v1/edits/:id/events", async (c, next) => {
    if (c.req.query("sig") === undefined) return next();
    const id = c.req.param("id");
    await checkSignature(c, `/v1/edits/${id}/events`);
    // A signed stream counts against its client's open streams like any other.
    const snap = await callObject(c.get("requestId"), "get", () => loadEdit(c.env, id));
    if (!snap) throw new ApiError(404, "not_found", "No edit with that id.", { headers: CORS });
    const lease = newId("sse");
    const admitted: Admission = await callObject(
      c.get("requestId"),
      "stream lease",
      async (): Promise<Admission> => await c.env.CLIENT.getByName(snap.client_id).openStream(lease),
    );
    if (!admitted.ok) {
      throw new ApiError(429, "rate_limited", `Too many event streams: ${admitted.reason}.`, {
        headers: { ...CORS, "retry-after": String(admitted.retryAfterS) },
      });
    }
    const headers: Record<string, string> = { "x-stream-lease": lease };
    const last = c.req.header("last-event-id");
    if (last) headers["last-event-id"] = last;
    const res = await callObject(c.get("requestId"), "events", () =>
      c.env.EDIT.getByName(id).fetch(new Request("https://edit/events", { headers })),
    );
    if (res.status === 404) throw new ApiError(404, "not_found", "No edit with that id.", { headers: CORS });
    const out = new Response(res.body, res);
    for (const [k, v] of Object.entries(CORS)) out.headers.set(k, v);
    return out;
  });
