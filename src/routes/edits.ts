import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { readConfig } from "../config";
import { listEditIds, readSnapshot } from "../edits/kv";
import { loadEdit } from "../edits/read";
import {
  EditCreateBody,
  type EditCreateInput,
  EditSchema,
  editInput,
  normaliseWebhooks,
} from "../edits/schema";
import { GENERATION_STATUSES, isTerminal } from "../edits/status";
import { requireClient } from "../http/auth";
import { requireJson } from "../http/body";
import { ApiError, fromShape, notFound } from "../http/errors";
import { bearerSecurity, commonErrors, jsonBody, jsonResponse } from "../http/openapi";
import type { AppEnv } from "../http/types";
import { newId } from "../lib/ids";
import { iso } from "../lib/time";
import { checkWebhookUrl } from "../webhooks/url-safety";

const IdParam = z.object({ id: z.string().openapi({ param: { name: "id", in: "path" } }) });

const createEdit = createRoute({
  method: "post",
  path: "/v1/edits",
  tags: ["edits"],
  summary: "Create an edit: enqueue it on Oxen and be told by webhook when it finishes",
  security: bearerSecurity,
  middleware: [requireClient, requireJson] as const,
  request: { body: jsonBody(EditCreateBody) },
  responses: {
    200: jsonResponse("The edit, already terminal", EditSchema),
    202: jsonResponse("The edit, accepted", EditSchema),
    ...commonErrors,
  },
});

const getEdit = createRoute({
  method: "get",
  path: "/v1/edits/{id}",
  tags: ["edits"],
  summary: "Get an edit",
  security: bearerSecurity,
  middleware: [requireClient] as const,
  request: { params: IdParam },
  responses: { 200: jsonResponse("The edit", EditSchema), ...commonErrors },
});

const EditList = z
  .object({ data: z.array(EditSchema), next_cursor: z.string().nullable() })
  .openapi("EditList");

const listEdits = createRoute({
  method: "get",
  path: "/v1/edits",
  tags: ["edits"],
  summary: "List this client's edits, newest first",
  security: bearerSecurity,
  middleware: [requireClient] as const,
  request: {
    query: z.object({
      status: z.enum(GENERATION_STATUSES).optional(),
      limit: z.coerce.number().int().min(1).max(100).default(20),
      cursor: z.string().max(1024).optional(),
    }),
  },
  responses: { 200: jsonResponse("A page of edits", EditList), ...commonErrors },
});

function checkWebhooks(body: EditCreateInput, allowPrivate: boolean) {
  const webhooks = normaliseWebhooks(body);
  const issues = webhooks.flatMap((w, i) => {
    const problem = checkWebhookUrl(w.url, { allowPrivate });
    const path = body.webhook && i === 0 ? "webhook" : `webhooks.${body.webhook ? i - 1 : i}.url`;
    return problem ? [{ path, message: problem }] : [];
  });
  if (issues.length > 0) {
    throw new ApiError(400, "invalid_request", "A webhook URL is not allowed.", { issues });
  }
  return webhooks;
}

export const editRoutes = new OpenAPIHono<AppEnv>()
  .openapi(createEdit, async (c) => {
    const body = c.req.valid("json");
    const config = readConfig(c.env);
    const webhooks = checkWebhooks(body, config.allowPrivateWebhooks);
    const id = newId("edit");
    const result = await c.env.EDIT.getByName(id).create({
      id,
      client_id: c.get("client").id,
      model: body.model,
      input: editInput(body),
      webhooks,
      metadata: body.metadata ?? {},
      created_at: iso(Date.now()),
    });
    if (!result.ok) throw fromShape(result.error);
    const edit = result.snapshot.edit;
    return c.json(edit, isTerminal(edit.status) ? 200 : 202);
  })
  .openapi(getEdit, async (c) => {
    const snap = await loadEdit(c.env, c.req.valid("param").id);
    if (!snap || snap.client_id !== c.get("client").id) throw notFound("edit");
    return c.json(snap.edit, 200);
  })
  .openapi(listEdits, async (c) => {
    const { status, limit, cursor } = c.req.valid("query");
    const clientId = c.get("client").id;
    let page: Awaited<ReturnType<typeof listEditIds>>;
    try {
      page = await listEditIds(c.env.EDITS, clientId, { limit, cursor, status });
    } catch {
      throw new ApiError(400, "invalid_request", "The cursor is not valid.", {
        issues: [{ path: "cursor", message: "not a cursor this API returned" }],
      });
    }
    const snaps = await Promise.all(page.ids.map((id) => readSnapshot(c.env.EDITS, id)));
    const data = snaps.flatMap((s) => (s && s.client_id === clientId ? [s.edit] : []));
    return c.json({ data, next_cursor: page.cursor }, 200);
  });
