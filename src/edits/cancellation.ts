import type { GenerationUpdate } from "../core/status";
import { isTerminal } from "../core/status";
import { mapLimit } from "../lib/time";
import type { OxenClient } from "../oxen/client";
import type { OxenFailure } from "../oxen/errors";
import { updateFromRest } from "../oxen/events";

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
