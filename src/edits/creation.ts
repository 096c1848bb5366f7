import type { GenerationStatus, Output } from "../core/status";
import { log } from "../lib/log";
import { sleep } from "../lib/time";
import type { OxenClient } from "../oxen/client";
import type { OxenFailure } from "../oxen/errors";
import type { Snapshot } from "./kv";
import { findEnqueued } from "./recovery";
import type { Edit, EditInput, WebhookSpec } from "./schema";
import type { EditStore } from "./store";

export interface CreateEditRequest {
  id: string;
  client_id: string;
  /** Hash of the normalised request, to tell a replay from a conflicting reuse of an Idempotency-Key. */
  fingerprint: string;
  model: string;
  input: EditInput;
  webhooks: WebhookSpec[];
  metadata: Record<string, string>;
  created_at: string;
  /** Scheme, host and port the request came to: file and stream URLs point there. */
  origin: string;
}

/** Why an edit call did not do what was asked, in the edit's terms; the routes map it to HTTP. */
export type EditFailure =
  | { kind: "oxen"; failure: OxenFailure }
  | { kind: "idempotency_conflict" }
  | { kind: "not_found" }
  /** An earlier create's outcome is unknown and Oxen cannot be asked now: retry later. */
  | { kind: "outcome_unknown" };

export type EditResult = { ok: true; snapshot: Snapshot } | { ok: false; reason: EditFailure };

export interface Redelivery {
  event_id: string;
  type: string;
  urls: string[];
}

/** What Oxen said of a job: an enqueue answer, or a recovered job with its outcome so far. */
type Enqueued = {
  generation_id: string;
  status?: string;
  result_url?: string | null;
  error_message?: string | null;
};

/**
 * How long after an enqueue was sent Oxen is given to have acted on it before a retry looks for
 * the job: a request sent by an instance that was then reset may still be on its way (found by a
 * test: a retry that looked at once enqueued a second job, and the first landed after it).
 */
export const ENQUEUE_SETTLE_MS = 5_000;

/**
 * Asks Oxen for the jobs of a create, at most once per fingerprint whatever the interleaving
 * (the caller runs one create at a time). The intent is stored before Oxen is asked; a definite
 * refusal ends it, an uncertain one (no answer, a 5xx) keeps it, and a create that finds an
 * intent looks for the job among Oxen's active ones before it would enqueue again.
 */
export async function enqueueOnce(
  store: EditStore,
  oxen: OxenClient,
  req: CreateEditRequest,
): Promise<{ ok: true; generations: Enqueued[] } | { ok: false; reason: EditFailure }> {
  const intent = store.intent();
  if (intent && intent.fingerprint !== req.fingerprint) {
    return { ok: false, reason: { kind: "idempotency_conflict" } };
  }
  if (intent) {
    const settle = intent.started_at + ENQUEUE_SETTLE_MS - Date.now();
    if (settle > 0) await sleep(Math.min(settle, ENQUEUE_SETTLE_MS));
    const found = await findEnqueued(oxen, req.model, req.input, intent.started_at);
    if (!found.ok) return { ok: false, reason: { kind: "outcome_unknown" } };
    if (found.generations.length > 0) {
      log("info", "create recovered jobs Oxen had", { edit_id: req.id, jobs: found.generations.length });
      return { ok: true, generations: found.generations };
    }
  }
  // Stored before Oxen is asked (the output gate holds the request until it is durable). An
  // intent whose answer is lost stays (one small row) until a retry resolves it.
  store.setIntent(req.fingerprint, Date.now());
  const res = await oxen.enqueue({ model: req.model, ...req.input });
  if (!res.ok) {
    if (!res.failure.uncertain) store.clearIntent();
    return { ok: false, reason: { kind: "oxen", failure: res.failure } };
  }
  return { ok: true, generations: res.value };
}

/** The edit a create makes of Oxen's answer. */
export function newEdit(req: CreateEditRequest, generations: Enqueued[]): Snapshot {
  const outputs: Output[] = generations.map((g) => ({
    generation_id: g.generation_id,
    // A recovered job may have finished already: its outcome comes through `applyUpdates`.
    status: (g.status === "processing" ? "processing" : "queued") as GenerationStatus,
    url: null,
    error: null,
  }));
  const edit: Edit = {
    id: req.id,
    object: "edit",
    status: outputs.some((o) => o.status === "processing") ? "processing" : "queued",
    model: req.model,
    input: req.input,
    outputs,
    error: null,
    webhooks: req.webhooks,
    metadata: req.metadata,
    created_at: req.created_at,
    completed_at: null,
  };
  return { client_id: req.client_id, edit };
}
