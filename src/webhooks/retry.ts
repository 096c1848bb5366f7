/** Pure retry policy for webhook attempts. */

export const JITTER = 0.2;
/** Retry-After is honoured up to this bound, so one receiver cannot park a delivery for days. */
export const MAX_RETRY_AFTER_S = 24 * 60 * 60;

export type AttemptOutcome =
  | { kind: "delivered" }
  | { kind: "gone" }
  | { kind: "retry"; at: number }
  | { kind: "exhausted" }
  | { kind: "blocked" };

/** Seconds from a Retry-After header (delta seconds or an HTTP date), or null. */
export function parseRetryAfter(value: string | null, now: number): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Math.min(Number(trimmed), MAX_RETRY_AFTER_S);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return null;
  return Math.min(Math.max(0, Math.ceil((date - now) / 1000)), MAX_RETRY_AFTER_S);
}

/**
 * What follows attempt number `attempt` (1-based) that answered `status` (0 for a network error
 * or timeout). `random` is injectable so tests can pin the jitter.
 */
export function nextStep(
  attempt: number,
  status: number,
  retryAfterHeader: string | null,
  schedule: readonly number[],
  now: number,
  random: () => number = Math.random,
): AttemptOutcome {
  if (status >= 200 && status < 300) return { kind: "delivered" };
  if (status === 410) return { kind: "gone" };
  const base = schedule[attempt - 1];
  if (base === undefined) return { kind: "exhausted" };
  const jittered = base * (1 - JITTER + 2 * JITTER * random());
  const retryAfter = status === 429 || status === 503 ? parseRetryAfter(retryAfterHeader, now) : null;
  const delayS = retryAfter === null ? jittered : Math.max(retryAfter, jittered);
  return { kind: "retry", at: now + Math.round(delayS * 1000) };
}

/** On an outbox row: 0 none; 1 a redelivery asked for while an attempt was in flight; 2 this attempt is a redelivery. */
export type RedeliverFlag = 0 | 1 | 2;

/**
 * The row's state after an attempt. A redelivery is one attempt, not a new schedule: if it
 * fails, the row is `exhausted` again. A redelivery asked for during an attempt follows it at
 * once (as the next attempt of a schedule still running, or as one more attempt of a settled row).
 */
export function afterAttempt(
  flag: RedeliverFlag,
  outcome: AttemptOutcome,
  at: number,
): {
  state: "pending" | "delivered" | "gone" | "exhausted" | "blocked";
  nextAt: number | null;
  redeliver: RedeliverFlag;
} {
  if (flag === 1 && outcome.kind !== "gone") {
    return { state: "pending", nextAt: at, redeliver: outcome.kind === "retry" ? 0 : 2 };
  }
  if (outcome.kind === "retry") {
    return flag === 2
      ? { state: "exhausted", nextAt: null, redeliver: 0 }
      : { state: "pending", nextAt: outcome.at, redeliver: 0 };
  }
  return { state: outcome.kind, nextAt: null, redeliver: 0 };
}
