import { OpenAPIHono, type z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { Admission } from "../clients/limits";
import { readConfig } from "../core/config";
import { isTerminal } from "../core/status";
import { MAX_EDIT_BYTES, storedBytes } from "../edits/bounds";
import { editIdForKey, requestFingerprint } from "../edits/idempotency";
import { listEditIds, type Snapshot } from "../edits/kv";
import type { EditResult } from "../edits/object";
import { loadEdit } from "../edits/read";
import { editApiError } from "../http/edit-failures";
import { ApiError, notFound } from "../http/errors";
import { callBinding, callObject } from "../http/objects";
import { preferredWait } from "../http/prefer";
import { admitClient } from "../http/rate-limit";
import type { AppEnv } from "../http/types";
import { newId } from "../lib/ids";
import { errorMessage, log } from "../lib/log";
import { iso } from "../lib/time";
import { checkedInput, checkedWebhooks, storeDataInputs } from "./edit-input";
import {
  cancelEdit,
  createEdit,
  type DeliverySchema,
  deleteEdit,
  editEvents,
  getEdit,
  listDeliveries,
  listEdits,
  redeliver,
} from "./edits-api";

/**
 * Creates pass the per-client rate limit weighted by their generations: the request itself was
 * counted once when it was authenticated, each further generation counts once more.
 */
async function spendRate(c: Context<AppEnv>, generations: number): Promise<void> {
  for (let i = 1; i < generations; i++) {
    await callBinding(c.get("requestId"), "rate limit", () =>
      admitClient(c.env.CLIENT_RATE_LIMIT, c.get("client").id),
    );
  }
}

/** The client's durable quotas (running and daily generations), checked before Oxen sees anything. */
async function reserveQuota(c: Context<AppEnv>, editId: string, model: string, generations: number) {
  const clientId = c.get("client").id;
  const verdict: Admission = await callObject(
    c.get("requestId"),
    "quota",
    async (): Promise<Admission> =>
      await c.env.CLIENT.getByName(clientId).reserve(clientId, editId, model, generations),
  );
  if (!verdict.ok) {
    throw new ApiError(429, "quota_exceeded", `Quota exceeded: ${verdict.reason}.`, {
      headers: { "retry-after": String(verdict.retryAfterS) },
    });
  }
}

/** The caller's edit, or a 404 that says nothing about whether it exists for someone else. */
async function ownEdit(c: Context<AppEnv>, id: string): Promise<Snapshot> {
  const snap = await callObject(c.get("requestId"), "get", () => loadEdit(c.env, id));
  if (!snap || snap.client_id !== c.get("client").id) throw notFound("edit");
  return snap;
}

/** Honours `Prefer: wait=N`: the edit once terminal, or as it stands when N seconds are up. */
async function awaitPreferred(
  c: Context<AppEnv>,
  snap: Snapshot,
  prefer: string | undefined,
): Promise<Snapshot> {
  const wait = preferredWait(prefer);
  if (wait === null) return snap;
  c.header("preference-applied", `wait=${wait}`);
  if (isTerminal(snap.edit.status) || wait === 0) return snap;
  try {
    return (await c.env.EDIT.getByName(snap.edit.id).waitTerminal(wait * 1000)) ?? snap;
  } catch (e) {
    // The object restarted mid-wait; answer with what is known rather than fail.
    log("warn", "wait interrupted", {
      request_id: c.get("requestId"),
      edit_id: snap.edit.id,
      error: errorMessage(e),
    });
    return (await callObject(c.get("requestId"), "get", () => loadEdit(c.env, snap.edit.id))) ?? snap;
  }
}

export const editRoutes = new OpenAPIHono<AppEnv>()
  .openapi(createEdit, async (c) => {
    const body = c.req.valid("json");
    const headers = c.req.valid("header");
    const config = readConfig(c.env);
    const clientId = c.get("client").id;
    const webhooks = checkedWebhooks(body, config.allowPrivateWebhooks);
    const request = {
      model: body.model,
      input: await checkedInput(body, config),
      webhooks,
      metadata: body.metadata ?? {},
    };
    const key = headers["idempotency-key"];
    const id = key ? await editIdForKey(clientId, key) : newId("edit");
    // Over the request as sent: a replay with the same data: images matches.
    const fingerprint = await requestFingerprint(request);
    const origin = new URL(c.req.url).origin;
    // data: images go to R2 and Oxen gets the relay's signed URL: no row ever holds the bytes.
    request.input = await storeDataInputs(c.env, config, id, origin, request.input);
    const bytes = storedBytes(request);
    if (bytes > MAX_EDIT_BYTES) {
      // Refused before Oxen sees it: a Durable Object row holds at most 2 MB.
      throw new ApiError(
        413,
        "payload_too_large",
        `The edit would take ${bytes} bytes to store; the limit is ${MAX_EDIT_BYTES}. Send large images as https URLs.`,
      );
    }
    const generations = request.input.num_generations;
    await spendRate(c, generations);
    await reserveQuota(c, id, request.model, generations);
    const create = {
      id,
      client_id: clientId,
      fingerprint,
      created_at: iso(Date.now()),
      origin,
      ...request,
    };
    const result = await callObject<EditResult>(
      c.get("requestId"),
      "create",
      async () => await c.env.EDIT.getByName(id).create(create),
    );
    if (!result.ok) {
      // The reservation is given back: an Oxen outage must not use up a tenant's quota. (If an
      // uncertain enqueue did make a job, a retry that adopts it reserves again.)
      c.executionCtx.waitUntil(
        c.env.CLIENT.getByName(clientId)
          .release(id, request.model, { refund: true })
          .catch(() => {}),
      );
      throw editApiError(result.reason);
    }
    const snap = await awaitPreferred(c, result.snapshot, headers.prefer);
    return c.json(snap.edit, isTerminal(snap.edit.status) ? 200 : 202);
  })
  .openapi(getEdit, async (c) => {
    const snap = await ownEdit(c, c.req.valid("param").id);
    const latest = await awaitPreferred(c, snap, c.req.valid("header").prefer);
    return c.json(latest.edit, 200);
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
    // Finished edits come from KV; those in flight (no snapshot in KV) from their objects.
    const snaps = await Promise.all(
      page.entries.map((e) => callObject(c.get("requestId"), "get", () => loadEdit(c.env, e.id))),
    );
    const data = snaps.flatMap((s) =>
      s && s.client_id === clientId && (!status || s.edit.status === status) ? [s.edit] : [],
    );
    return c.json({ data, next_cursor: page.cursor }, 200);
  })
  .openapi(deleteEdit, async (c) => {
    const snap = await ownEdit(c, c.req.valid("param").id);
    type Erased = { ok: true } | { ok: false; reason: "not_found" | "not_terminal" };
    const done: Erased = await callObject(
      c.get("requestId"),
      "erase",
      async (): Promise<Erased> => await c.env.EDIT.getByName(snap.edit.id).erase(),
    );
    if (!done.ok && done.reason === "not_terminal") {
      throw new ApiError(409, "edit_not_terminal", "Only a finished edit can be erased; cancel it first.");
    }
    if (!done.ok) throw notFound("edit");
    return c.body(null, 204);
  })
  .openapi(cancelEdit, async (c) => {
    const snap = await ownEdit(c, c.req.valid("param").id);
    const result = await callObject<EditResult>(
      c.get("requestId"),
      "cancel",
      async () => await c.env.EDIT.getByName(snap.edit.id).cancel(),
    );
    if (!result.ok) throw editApiError(result.reason);
    return c.json(result.snapshot.edit, 200);
  })
  .openapi(listDeliveries, async (c) => {
    const snap = await ownEdit(c, c.req.valid("param").id);
    const { limit, cursor } = c.req.valid("query");
    const page = await callObject(c.get("requestId"), "deliveries", () =>
      c.env.EDIT.getByName(snap.edit.id).deliveries(limit, cursor ? Number(cursor) : 0),
    );
    return c.json(
      { data: page.data as z.output<typeof DeliverySchema>[], next_cursor: page.next_cursor },
      200,
    );
  })
  .openapi(editEvents, async (c) => {
    const snap = await ownEdit(c, c.req.valid("param").id);
    const clientId = c.get("client").id;
    const lease = newId("sse");
    const admitted: Admission = await callObject(
      c.get("requestId"),
      "stream lease",
      async (): Promise<Admission> => await c.env.CLIENT.getByName(clientId).openStream(lease),
    );
    if (!admitted.ok) {
      throw new ApiError(429, "rate_limited", `Too many event streams: ${admitted.reason}.`, {
        headers: { "retry-after": String(admitted.retryAfterS) },
      });
    }
    const headers: Record<string, string> = { "x-stream-lease": lease };
    const last = c.req.header("last-event-id");
    if (last) headers["last-event-id"] = last;
    // The edit's object serves the stream, so that it can hold it open until the edit finishes.
    return callObject(c.get("requestId"), "events", () =>
      c.env.EDIT.getByName(snap.edit.id).fetch(new Request("https://edit/events", { headers })),
    );
  })
  .openapi(redeliver, async (c) => {
    const snap = await ownEdit(c, c.req.valid("param").id);
    if (!isTerminal(snap.edit.status)) {
      throw new ApiError(409, "edit_not_terminal", "Only a finished edit's event can be redelivered.");
    }
    // Resends are limited durably, per edit and per client: redelivery must not be an amplifier.
    const clientId = c.get("client").id;
    const verdict: Admission = await callObject(
      c.get("requestId"),
      "redelivery limit",
      async (): Promise<Admission> => await c.env.CLIENT.getByName(clientId).redeliver(snap.edit.id),
    );
    if (!verdict.ok) {
      throw new ApiError(429, "rate_limited", `Redelivery limited: ${verdict.reason}.`, {
        headers: { "retry-after": String(verdict.retryAfterS) },
      });
    }
    const queued = await callObject(c.get("requestId"), "redeliver", () =>
      c.env.EDIT.getByName(snap.edit.id).redeliver(),
    );
    if (!queued)
      throw new ApiError(409, "edit_not_terminal", "Only a finished edit's event can be redelivered.");
    return c.json({ object: "redelivery" as const, edit_id: snap.edit.id, ...queued }, 202);
  });
