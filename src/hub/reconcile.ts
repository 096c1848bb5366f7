import { type GenerationUpdate, isTerminal } from "../core/status";
import { mapLimit } from "../lib/time";
import type { OxenClient } from "../oxen/client";
import { updateFromRest } from "../oxen/events";
import type { HubStore, OutstandingRow } from "./store";

/** Oxen may answer 404 for a generation it has only just accepted; only older ones count as gone. */
export const GONE_GRACE_MS = 30_000;
/**
 * Generations asked about one by one in a pass, least recently checked first. With the RPCs that
 * hand their outcomes on, a pass stays far inside the 1,000 subrequests of one invocation, and
 * a backlog larger than this is walked over successive passes instead of starving its tail.
 */
export const MAX_CHECKS_PER_PASS = 200;
/** A Durable Object has about six outbound connections waiting for headers at once. */
const REST_CONCURRENCY = 6;

export type Forward = (editId: string, update: GenerationUpdate) => Promise<void>;

/**
 * One reconciliation pass. One `GET /ai/queue` lists every active generation: an outstanding
 * one in it is still running; one missing from it has finished (or never existed) and only those
 * are read one by one, boundedly. A completion the hub already holds (an orphan whose edit has
 * not applied it) is handed on without asking Oxen. If the list cannot be read, the pass falls
 * back to reading the least recently checked generations.
 */
export async function reconcilePass(store: HubStore, oxen: OxenClient, forward: Forward): Promise<void> {
  const rows = store.outstanding();
  if (rows.length === 0) return;
  const now = Date.now();
  const list = await oxen.listGenerations();
  let candidates: OutstandingRow[] = rows;
  if (list.ok) {
    const active = new Map(list.value.generations.map((g) => [g.generation_id, g.status]));
    candidates = [];
    const moved: OutstandingRow[] = [];
    for (const row of rows) {
      const status = active.get(row.generation_id);
      if (status === undefined || isTerminal(status)) candidates.push(row);
      else if (status !== row.last_status) moved.push({ ...row, last_status: status });
    }
    for (const row of moved.slice(0, MAX_CHECKS_PER_PASS)) {
      await forward(row.edit_id, { generation_id: row.generation_id, status: row.last_status });
    }
  }
  const due = candidates.sort((a, b) => a.checked_at - b.checked_at).slice(0, MAX_CHECKS_PER_PASS);
  await mapLimit(due, REST_CONCURRENCY, async (row) => {
    const held = store.orphan(row.generation_id);
    if (held) return forward(row.edit_id, held);
    store.markChecked(row.generation_id, Date.now());
    const res = await oxen.getGeneration(row.generation_id);
    if (!res.ok) return;
    if (res.value === null && now - row.registered_at < GONE_GRACE_MS) return;
    const update = updateFromRest(row.generation_id, res.value);
    // The stream may have settled it while this request was out.
    if (
      (isTerminal(update.status) || update.status !== row.last_status) &&
      store.editFor(row.generation_id)
    ) {
      await forward(row.edit_id, update);
    }
  });
}
