/** KV allows one write per second per key; faster changes are coalesced. */
export const KV_WRITE_INTERVAL_MS = 1_000;
/** While unfinished, the edit re-registers with the hub this often, in case the hub lost it. */
export const REGISTRATION_CHECK_MS = 5 * 60_000;
/** A registration that failed, or has not been acknowledged yet, is tried again this soon. */
export const REGISTRATION_RETRY_MS = 5_000;

/** Everything the one alarm of an edit object may be waiting for. */
export interface Timers {
  /** The next due webhook delivery. */
  deliveryDue: number | null;
  /** A snapshot KV does not hold yet, and when KV was last written. */
  kvDirty: boolean;
  kvWrittenAt: number | null;
  /** Only while the edit is unfinished: the hub watchdog and the give-up time. */
  terminal: boolean;
  registrationCheckAt: number | null;
  deadlineAt: number | null;
  /** A terminal edit's usage the client's object has not taken yet. */
  usageDue?: number | null;
  /** When a terminal edit is erased (its retention ends). */
  eraseAt?: number | null;
}

/**
 * When the alarm should next fire: the earliest thing due, or null for no alarm. The Agents SDK
 * does the same, one alarm per object multiplexing its heartbeat and its scheduled work.
 */
export function nextAlarm(t: Timers): number | null {
  const times: number[] = [];
  if (t.deliveryDue !== null) times.push(t.deliveryDue);
  if (t.usageDue != null) times.push(t.usageDue);
  if (t.terminal && t.eraseAt != null) times.push(t.eraseAt);
  if (t.kvDirty) times.push((t.kvWrittenAt ?? 0) + KV_WRITE_INTERVAL_MS);
  if (!t.terminal) {
    if (t.registrationCheckAt !== null) times.push(t.registrationCheckAt);
    if (t.deadlineAt !== null) times.push(t.deadlineAt);
  }
  return times.length === 0 ? null : Math.min(...times);
}
