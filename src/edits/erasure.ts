import { deletePrefix, editPrefix } from "../media/store";
import { deleteSnapshot, type Snapshot } from "./kv";

/**
 * Erases an edit: its R2 files, its KV snapshot and list entry, its events' data in the client's
 * log, and all of its object's storage
 * (its alarm too), in that order, so a failure part-way leaves the object to try again. KV
 * writes still queued are let finish first, so none can land after the delete and bring the
 * edit back. The Idempotency-Key goes with the storage: the key's edit id is free again.
 */
export async function eraseEdit(
  ctx: DurableObjectState,
  env: Env,
  snap: Snapshot,
  drainKv: () => Promise<void>,
): Promise<void> {
  await drainKv();
  await deletePrefix(env.MEDIA, editPrefix(snap.edit.id));
  await deleteSnapshot(env.EDITS, snap);
  // The client's event log keeps the event's place (cursors) but not its data, nor sends it on.
  await env.CLIENT.getByName(snap.client_id).forgetEdit(snap.edit.id);
  await ctx.storage.deleteAlarm();
  await ctx.storage.deleteAll();
}
