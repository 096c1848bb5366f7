import type { GenerationUpdate } from "../core/status";
import { isTerminal } from "../core/status";
import { mapLimit } from "../lib/time";
import type { OxenClient } from "../oxen/client";
import type { OxenFailure } from "../oxen/errors";
import { updateFromRest } from "../oxen/events";
import type { EditResult } from "./creation";
import type { Snapshot } from "./kv";
import type { EditStore } from "./store";

/** How often the outcome of a cancelled generation is read before it is left to the hub. */
const READ_TRIES = 3;

/**
 * Cancels generations on Oxen and reads what each really became: one that finished first keeps
 * its outcome. Oxen's answer to the DELETE is not trusted alone (it has no defined code for a
 * finished job); the GET after it is. A generation whose outcome could not be read is left
 * unresolved (the hub still watches it), never guessed.
 */
export async function cancelGenerations(
  oxen: OxenClient,
  ids: string[],
  onAccepted: (id: string) => void = () => {},
): Promise<{ updates: GenerationUpdate[]; unresolved: OxenFailure | null }> {
  let unresolved: OxenFailure | null = null;
  const outcomes = await mapLimit(ids, 4, async (id): Promise<GenerationUpdate | null> => {
    const del = await oxen.cancel(id);
    if (del.ok && del.value !== null) onAccepted(id);
    for (let i = 0; i < READ_TRIES; i++) {
      const got = await oxen.getGeneration(id);
      if (!got.ok) {
        unresolved = got.failure;
        continue;
      }
      if (got.value === null) {
        // Unknown to Oxen: cancelled if it accepted the DELETE, else finished with no record.
        return del.ok && del.value !== null
          ? { generation_id: id, status: "cancelled" }
          : updateFromRest(id, null);
      }
      const rest = updateFromRest(id, got.value);
      if (isTerminal(rest.status)) return rest;
      if (del.ok && del.value !== null) return { generation_id: id, status: "cancelled" };
      unresolved = del.ok ? unresolved : del.failure;
      return null;
    }
    return null;
  });
  const updates = outcomes.filter((u): u is GenerationUpdate => u !== null);
  return { updates, unresolved: updates.length === ids.length ? null : unresolved };
}

/** What a cancel needs of its edit object. */
export interface CancelDeps {
  store: EditStore;
  oxen: OxenClient;
  forget: (ids: string[]) => Promise<void>;
  register: (snap: Snapshot) => Promise<void>;
  applyUpdates: (updates: GenerationUpdate[]) => Promise<void>;
  /** Runs the output copies now, so a job that finished first answers with its final outcome. */
  settleCopies: () => Promise<void>;
}

/**
 * Cancels every unfinished generation of an edit. Oxen emits nothing for a cancel, so the edit
 * settles here and `edit.cancelled` goes out from here. A generation that finished first keeps
 * its real outcome; one whose outcome cannot be read yet is left to the hub, and the caller told.
 */
export async function cancelEdit(d: CancelDeps): Promise<EditResult> {
  const snap = d.store.load();
  if (!snap) return { ok: false, reason: { kind: "not_found" } };
  if (isTerminal(snap.edit.status)) return { ok: true, snapshot: snap };
  const pending = snap.edit.outputs.filter((o) => !isTerminal(o.status)).map((o) => o.generation_id);
  // The hub stops watching first: a cancelled job may read as 404 (Oxen's legacy answer for a
  // finished job), which the hub's reconciliation would record as "outcome unknown" (found by
  // the chaos run). What the cancel cannot resolve is registered again below.
  await d.forget(pending);
  const { updates, unresolved } = await cancelGenerations(d.oxen, pending, (id) =>
    d.store.noteCancelled([id]),
  );
  await d.applyUpdates(updates);
  await d.settleCopies();
  if (unresolved) {
    const after = d.store.load();
    if (after) await d.register(after);
    return { ok: false, reason: { kind: "oxen", failure: unresolved } };
  }
  return { ok: true, snapshot: d.store.load() ?? snap };
}

/** Asks Oxen to stop jobs the relay has given up on (MAX_EDIT_SECONDS), so they stop costing; best effort. */
export async function cancelQuietly(oxen: OxenClient, ids: string[]): Promise<void> {
  await Promise.all(ids.map((id) => oxen.cancel(id)));
}
