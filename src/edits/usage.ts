import { isTerminal } from "../core/status";
import { errorMessage, log } from "../lib/log";
import type { Outbox } from "../webhooks/outbox";
import type { Snapshot } from "./kv";
import type { EditStore } from "./store";
import type { Timers } from "./timers";

/** A report the client's object did not take is tried again this soon, by the alarm. */
export const USAGE_RETRY_MS = 5_000;

/**
 * Tells the client's object that a terminal edit's generations are no longer running, how they
 * ended (its quota and usage counters), and its event (the client's log and endpoints), in one
 * call. Durable: until the report is taken, the alarm tries again, so a client's running count
 * cannot stay inflated, nor its log miss an event, by a lost call. True when endpoint rows were added.
 */
export async function reportUsage(
  store: EditStore,
  snap: Snapshot,
  clients: Env["CLIENT"],
  outbox: Outbox,
): Promise<boolean> {
  if (store.get("usage_reported_at") !== null) return false;
  const count = (s: string) => snap.edit.outputs.filter((o) => o.status === s).length;
  const event = outbox.lastEvent();
  try {
    const { endpoints } = await clients.getByName(snap.client_id).settle(
      snap.edit.id,
      snap.edit.model,
      { succeeded: count("succeeded"), failed: count("failed"), cancelled: count("cancelled") },
      event
        ? {
            id: event.event_id,
            type: event.type,
            payload: event.payload,
            created_at: event.created_at,
            edit_id: snap.edit.id,
            model: snap.edit.model,
          }
        : null,
    );
    // Erased meanwhile (its storage is gone): nothing more to record.
    if (!store.exists()) return false;
    // The event's first attempt to each of the client's endpoints is made here, beside the webhooks.
    if (event) outbox.addEndpointTargets(event.event_id, endpoints, Date.now());
    store.set("usage_reported_at", Date.now());
    store.set("usage_retry_at", null);
    return endpoints.length > 0;
  } catch (e) {
    log("warn", "usage report failed", { edit_id: snap.edit.id, error: errorMessage(e) });
    if (store.exists()) store.set("usage_retry_at", Date.now() + USAGE_RETRY_MS);
    return false;
  }
}

/** When the alarm must report usage: a terminal edit's unreported usage, now or at its retry time. */
export function usageDue(store: EditStore, terminal: boolean): number | null {
  if (!terminal || store.get("usage_reported_at") !== null) return null;
  return store.get("usage_retry_at") ?? Date.now();
}

/**
 * What the edit's one alarm waits for, read from its store (see timers.ts `nextAlarm`). `due`:
 * the next delivery and the next output copy.
 */
export function timersOf(store: EditStore, t: { due: (number | null)[]; kvDirty: boolean }): Timers {
  const snap = store.load();
  const terminal = snap !== null && isTerminal(snap.edit.status);
  const due = t.due.filter((x): x is number => x !== null);
  return {
    deliveryDue: due.length > 0 ? Math.min(...due) : null,
    eraseAt: terminal ? store.get("erase_at") : null,
    kvDirty: t.kvDirty,
    kvWrittenAt: store.get("kv_written_at"),
    terminal: terminal || snap === null,
    registrationCheckAt: store.get("registration_check_at"),
    deadlineAt: store.get("deadline_at"),
    usageDue: usageDue(store, terminal),
  };
}
