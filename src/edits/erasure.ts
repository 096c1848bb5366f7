import { deletePrefix, editPrefix } from "../media/store";
import { deleteSnapshot, type Snapshot } from "./kv";
import type { KvProjection } from "./projection";

/**
 * Erases an edit: its usage reported if it was not, then its R2 files, its KV snapshot and list
 * entry, its events' data in the client's log, and all of its object's storage (its alarm too),
 * in that order, so a failure part-way leaves the object to try again. KV
 * writes still queued are let finish first, so none can land after the delete and bring the
 * edit back. The Idempotency-Key goes with the storage: the key's edit id is free again.
 */
export async function eraseEdit(
  ctx: DurableObjectState,
  env: Env,
  snap: Snapshot,
  steps: { report: () => Promise<unknown>; projection: KvProjection },
): Promise<void> {
  // The client's running count and usage must not wait two days for a stale sweep.
  await steps.report();
  await steps.projection.publish();
  // Nothing written to KV after this: a late write would bring the erased edit back.
  steps.projection.stop();
  await deletePrefix(env.MEDIA, editPrefix(snap.edit.id));
  await deleteSnapshot(env.EDITS, snap);
  // The client's event log keeps the event's place (cursors) but not its data, nor sends it on.
  await env.CLIENT.getByName(snap.client_id).forgetEdit(snap.edit.id);
  await ctx.storage.deleteAlarm();
  await ctx.storage.deleteAll();
}
