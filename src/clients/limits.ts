/** Pure policy for what one client may spend and resend (contract v1.2). */

export interface ClientLimits {
  max_active_generations: number;
  generations_per_day: number;
}

export const DEFAULT_LIMITS: ClientLimits = { max_active_generations: 200, generations_per_day: 20_000 };

/** A redelivery per edit at most this often; the original delivery does not count. */
export const REDELIVERY_EDIT_INTERVAL_MS = 60_000;
/** Open event streams per client; each holds a lease that ends when it closes or after 15 min. */
export const MAX_STREAMS_PER_CLIENT = 100;
export const STREAM_LEASE_MS = 15 * 60_000;
/** Redeliveries per client in any hour. */
export const REDELIVERIES_PER_HOUR = 100;
const HOUR_MS = 3_600_000;

export type Admission = { ok: true } | { ok: false; retryAfterS: number; reason: string };

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/** The UTC day of a time, `YYYY-MM-DD`. */
export const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const nextUtcMidnight = (ms: number) => Math.floor(ms / 86_400_000) * 86_400_000 + 86_400_000;

/** Whether `n` more generations fit the client's limits. */
export function admitGenerations(
  limits: ClientLimits,
  usage: { active: number; today: number },
  n: number,
  now: number,
): Admission {
  if (usage.active + n > limits.max_active_generations) {
    return {
      ok: false,
      // Nothing says when running jobs end; images take 5–30 s.
      retryAfterS: 30,
      reason: `${usage.active} generations are running; the limit is ${limits.max_active_generations}`,
    };
  }
  if (usage.today + n > limits.generations_per_day) {
    return {
      ok: false,
      retryAfterS: seconds(nextUtcMidnight(now) - now),
      reason: `${usage.today} generations today (UTC); the limit is ${limits.generations_per_day}`,
    };
  }
  return { ok: true };
}

/** Whether an edit's terminal event may be redelivered now, given earlier redelivery times. */
export function admitRedelivery(
  lastForEdit: number | null,
  clientTimesInHour: number[],
  now: number,
): Admission {
  if (lastForEdit !== null && now - lastForEdit < REDELIVERY_EDIT_INTERVAL_MS) {
    return {
      ok: false,
      retryAfterS: seconds(lastForEdit + REDELIVERY_EDIT_INTERVAL_MS - now),
      reason: "this edit was redelivered less than a minute ago",
    };
  }
  const recent = clientTimesInHour.filter((t) => now - t < HOUR_MS);
  if (recent.length >= REDELIVERIES_PER_HOUR) {
    return {
      ok: false,
      retryAfterS: seconds(Math.min(...recent) + HOUR_MS - now),
      reason: `${REDELIVERIES_PER_HOUR} redeliveries in the last hour`,
    };
  }
  return { ok: true };
}
