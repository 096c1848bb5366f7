import {
  aggregateError,
  aggregateStatus,
  applyUpdate,
  type GenerationUpdate,
  isTerminal,
  type Output,
  terminalEventType,
} from "../core/status";
import type { Snapshot } from "./kv";
import { type Edit, publicEdit } from "./schema";

export interface PendingEvent {
  event_id: string;
  type: string;
  payload: string;
  created_at: number;
}

/**
 * The edit after its outputs changed, and the event it owes if it has just become terminal
 * (pure: the caller writes both in one transaction, so an edit is never terminal without its
 * event). `errorType` overrides the error's type, e.g. `timeout` when the relay gave up waiting.
 */
export function transition(
  snap: Snapshot,
  outputs: Output[],
  now: number,
  eventId: string,
  opts: { errorType?: string } = {},
): { next: Snapshot; event: PendingEvent | null } {
  const status = aggregateStatus(outputs);
  const error = aggregateError(outputs);
  const edit: Edit = {
    ...snap.edit,
    outputs,
    status,
    error: error && opts.errorType ? { ...error, type: opts.errorType } : error,
    completed_at: isTerminal(status) ? (snap.edit.completed_at ?? new Date(now).toISOString()) : null,
  };
  const type = terminalEventType(status);
  const becameTerminal = type !== null && !isTerminal(snap.edit.status);
  const event =
    becameTerminal && type
      ? {
          event_id: eventId,
          type,
          payload: JSON.stringify({ type, timestamp: new Date(now).toISOString(), data: publicEdit(edit) }),
          created_at: now,
        }
      : null;
  return { next: { client_id: snap.client_id, edit }, event };
}

/** The URLs subscribed to an event type, each once. */
export const subscribers = (edit: Edit, type: string): string[] => [
  ...new Set(edit.webhooks.filter((w) => (w.events as string[]).includes(type)).map((w) => w.url)),
];

/** Every unfinished generation failed for want of time: the relay stops waiting on Oxen. */
export function timedOut(outputs: Output[], maxSeconds: number): Output[] {
  return outputs.map((o) =>
    isTerminal(o.status)
      ? o
      : {
          ...o,
          status: "failed",
          url: null,
          error: `Oxen did not finish the generation within ${maxSeconds} s`,
        },
  );
}

/** The outputs after a batch of updates, or null when none of them changes anything. */
export function mergeUpdates(outputs: Output[], updates: GenerationUpdate[]): Output[] | null {
  let changed = false;
  const next = outputs.map((o) => {
    let current = o;
    for (const u of updates) {
      if (u.generation_id !== o.generation_id) continue;
      const applied = applyUpdate(current, u);
      if (applied) {
        current = applied;
        changed = true;
      }
    }
    return current;
  });
  return changed ? next : null;
}
