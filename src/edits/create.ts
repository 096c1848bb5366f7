import type { RelayConfig } from "../core/config";
import { type GenerationStatus, type GenerationUpdate, isTerminal } from "../core/status";
import { hubStub } from "../hub/name";
import { errorMessage, log } from "../lib/log";
import { eventsUrl } from "../media/urls";
import type { OxenClient } from "../oxen/client";
import { updateFromRest } from "../oxen/events";
import { type CreateEditRequest, type EditResult, enqueueOnce, newEdit } from "./creation";
import type { Snapshot } from "./kv";
import type { EditStore } from "./store";
import { REGISTRATION_RETRY_MS } from "./timers";

/** What a create needs of its edit object. */
export interface CreateDeps {
  ctx: DurableObjectState;
  env: Env;
  config: RelayConfig;
  store: EditStore;
  oxen: OxenClient;
  warmSecrets: (clientId: string) => Promise<unknown>;
  register: (snap: Snapshot) => Promise<void>;
  applyUpdates: (updates: GenerationUpdate[]) => Promise<void>;
  /** Writes the KV snapshot off the request path. */
  publish: () => void;
  schedule: () => Promise<void>;
}

/**
 * One create, run by the edit object one at a time: a replay answers the same edit (409 for
 * another request under the key), a retry after a death finishes the registration, and a new
 * edit is enqueued once (`enqueueOnce`), saved with its intent ended and its timers armed in one
 * transaction, then registered with the hub.
 */
export async function createOnce(d: CreateDeps, req: CreateEditRequest): Promise<EditResult> {
  const existing = d.store.load();
  if (existing) {
    if (d.store.fingerprint() !== req.fingerprint)
      return { ok: false, reason: { kind: "idempotency_conflict" } };
    // A retry after the object died mid-create: finish what the first call could not.
    if (!isTerminal(existing.edit.status) && d.store.get("registered_at") === null)
      await d.register(existing);
    d.publish();
    return { ok: true, snapshot: d.store.load() ?? existing };
  }
  d.ctx.waitUntil(d.warmSecrets(req.client_id));
  const hub = await hubStub(d.env, d.config);
  // Subscribed before enqueueing: Oxen drops events nobody listens for. If the stream cannot
  // open in time we go on; the hub's REST reconciliation covers that gap.
  await hub.ensureConnected().catch((e) => log("warn", "hub not reachable", { error: errorMessage(e) }));
  const enqueued = await enqueueOnce(d.store, d.oxen, req);
  if (!enqueued.ok) return enqueued;
  const snap = newEdit(req, enqueued.generations);
  const now = Date.now();
  const { maxEditSeconds, retentionSeconds, fileUrlSecret } = d.config;
  snap.edit.events_url = await eventsUrl(
    req.origin,
    req.id,
    fileUrlSecret,
    now + (maxEditSeconds + retentionSeconds + 86_400) * 1000,
  );
  // One transaction: the edit, the end of its intent, and its timers. The watchdog is armed
  // with the save: if the object dies before the hub knows the generations, the alarm registers them.
  d.store.transaction(() => {
    d.store.migrate();
    d.store.save(snap, req.fingerprint);
    d.store.setOrigin(req.origin);
    d.store.clearIntent();
    d.store.set("registration_check_at", now + REGISTRATION_RETRY_MS);
    d.store.set("deadline_at", now + maxEditSeconds * 1000);
  });
  await d.schedule();
  // Registered off the answer's path: the hub keeps a completion for a generation it does not
  // know yet until the registration comes, and the alarm just armed registers if this one fails.
  d.ctx.waitUntil(
    d
      .register(snap)
      .then(() => d.schedule())
      .catch(() => {}),
  );
  // Jobs recovered after a lost answer may be finished: Oxen's stream told nobody.
  const finished = enqueued.generations.flatMap((g) =>
    g.status && isTerminal(g.status as GenerationStatus)
      ? [updateFromRest(g.generation_id, { ...g, status: g.status as GenerationStatus })]
      : [],
  );
  if (finished.length > 0) await d.applyUpdates(finished);
  // The caller need not wait for KV: reads of an unfinished edit ask this object.
  d.publish();
  return { ok: true, snapshot: d.store.load() ?? snap };
}
