import { EVENT_TYPES } from "../core/status";

/** Pure rules for a client's endpoints: what they receive, how their health reads, when they stop. */

export const ENDPOINT_EVENT_TYPES = [...EVENT_TYPES, "endpoint.disabled"] as const;
export type EndpointEventType = (typeof ENDPOINT_EVENT_TYPES)[number];
export const ENDPOINT_STATUSES = ["active", "paused", "disabled"] as const;
export type EndpointStatus = (typeof ENDPOINT_STATUSES)[number];

/** Endpoints per client (the contract's bound). */
export const MAX_ENDPOINTS = 20;
/** Events one endpoint's backlog sends in a row in one pass before others get a turn. */
export const BACKLOG_BATCH = 25;
/**
 * An event handed to an edit object for its first attempt is taken back into the endpoint's
 * backlog if no report came by then (the edit's object was reset, or its report was lost).
 */
export const DIRECT_LEASE_MS = 120_000;
const HOUR_MS = 3_600_000;

export interface EndpointRow {
  id: string;
  url: string;
  events: string;
  description: string | null;
  status: EndpointStatus;
  created_at: number;
  updated_at: number;
  last_attempt_at: number | null;
  last_success_at: number | null;
  failing_since: number | null;
}

export interface Health {
  last_attempt_at: string | null;
  last_success_at: string | null;
  failing_since: string | null;
  success_rate_24h: number | null;
  pending: number;
}

export interface EndpointView {
  id: string;
  url: string;
  events: EndpointEventType[];
  description: string | null;
  status: EndpointStatus;
  created_at: string;
  updated_at: string;
  health: Health;
}

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

/** The hour bucket an attempt is counted in, for the 24 h success rate. */
export const hourOf = (t: number) => Math.floor(t / HOUR_MS);

/** Successes over attempts in the last 24 hourly buckets (null: no attempt in that time). */
export function successRate(buckets: { ok: number; failed: number }[]): number | null {
  let ok = 0;
  let all = 0;
  for (const b of buckets) {
    ok += b.ok;
    all += b.ok + b.failed;
  }
  return all === 0 ? null : Math.round((ok / all) * 10_000) / 10_000;
}

export function endpointView(
  row: EndpointRow,
  stats: { ok: number; failed: number }[],
  pending: number,
): EndpointView {
  return {
    id: row.id,
    url: row.url,
    events: JSON.parse(row.events) as EndpointEventType[],
    description: row.description,
    status: row.status,
    created_at: iso(row.created_at) as string,
    updated_at: iso(row.updated_at) as string,
    health: {
      last_attempt_at: iso(row.last_attempt_at),
      last_success_at: iso(row.last_success_at),
      failing_since: iso(row.failing_since),
      success_rate_24h: successRate(stats),
      pending,
    },
  };
}

/** Whether an endpoint receives an event type. */
export const subscribes = (row: Pick<EndpointRow, "events">, type: string): boolean =>
  (JSON.parse(row.events) as string[]).includes(type);

/**
 * An endpoint's failure record after an attempt: a success ends the failing streak; a failure
 * starts one unless one is running. `disable` once the streak has lasted `windowS` seconds.
 */
export function afterEndpointAttempt(
  failingSince: number | null,
  ok: boolean,
  now: number,
  windowS: number,
): { failingSince: number | null; disable: boolean } {
  if (ok) return { failingSince: null, disable: false };
  const since = failingSince ?? now;
  return { failingSince: since, disable: now - since >= windowS * 1000 };
}

/** Events filter as stored: the listed types in their canonical order, every type when absent. */
export function normaliseEvents(events: readonly string[] | undefined): EndpointEventType[] {
  if (!events) return [...ENDPOINT_EVENT_TYPES];
  const set = new Set(events);
  return ENDPOINT_EVENT_TYPES.filter((e) => set.has(e));
}
