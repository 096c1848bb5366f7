import { assertFitsRow } from "../lib/limits";
import { AttemptLog } from "./attempt-log";
import { type AttemptOutcome, afterAttempt, type RedeliverFlag } from "./retry";
import type { AttemptResult } from "./send";

export { type AttemptRow, MAX_ATTEMPTS_KEPT, MAX_ERROR_CHARS } from "./attempt-log";

export type DeliveryState = "pending" | "sending" | "delivered" | "gone" | "exhausted" | "blocked";

export interface OutboxRow {
  event_id: string;
  url: string;
  attempts: number;
  next_at: number | null;
  state: DeliveryState;
  /** Set on a client endpoint's row: this object makes the first attempt, the client's object the rest. */
  endpoint_id?: string | null;
  redeliver?: number;
}

export interface EventRow {
  event_id: string;
  type: string;
  payload: string;
  created_at: number;
}

/**
 * An endpoint's row is keyed by its URL with the endpoint named in the fragment: a fragment is
 * never sent (fetch drops it), and webhook URLs have none (they are normalised without), so the
 * key is the endpoint's alone. `/deliveries` shows the URL without it.
 */
export const endpointRowUrl = (url: string, endpointId: string) => `${url.split("#")[0]}#${endpointId}`;
export const shownUrl = (rowUrl: string) => rowUrl.split("#")[0] as string;

/**
 * The durable webhook outbox of one edit: each event once (its id is the `webhook-id` for good),
 * one row per (event, URL) with its schedule, and the log of its attempts (attempt-log.ts).
 */
export class Outbox {
  readonly #sql: SqlStorage;
  /** Every attempt, the last ones per (event, URL): `/deliveries`. */
  readonly attemptLog: AttemptLog;

  /** The tables are the edit object's (edits/migrations.ts); this class only reads and writes them. */
  constructor(sql: SqlStorage) {
    this.#sql = sql;
    this.attemptLog = new AttemptLog(sql);
  }

  /** Adds an event and a pending delivery to each URL, due now. */
  addEvent(event: EventRow, urls: string[]): void {
    assertFitsRow("event payload", event.payload);
    this.#sql.exec(
      "INSERT OR IGNORE INTO events (event_id, type, payload, created_at) VALUES (?, ?, ?, ?)",
      event.event_id,
      event.type,
      event.payload,
      event.created_at,
    );
    for (const url of urls) {
      this.#sql.exec(
        "INSERT OR IGNORE INTO outbox (event_id, url, attempts, next_at, state) VALUES (?, ?, 0, ?, 'pending')",
        event.event_id,
        url,
        event.created_at,
      );
    }
  }

  /**
   * Rows for the client's endpoints: one first attempt each, kept apart from a webhook (or another
   * endpoint) with the same URL: each subscription gets its own delivery, under the same id.
   */
  addEndpointTargets(eventId: string, targets: { endpoint_id: string; url: string }[], now: number): void {
    for (const t of targets) {
      this.#sql.exec(
        `INSERT OR IGNORE INTO outbox (event_id, url, attempts, next_at, state, endpoint_id)
         VALUES (?, ?, 0, ?, 'pending', ?)`,
        eventId,
        endpointRowUrl(t.url, t.endpoint_id),
        now,
        t.endpoint_id,
      );
    }
  }

  event(eventId: string): EventRow | null {
    return (
      this.#sql
        .exec<EventRow & Record<string, SqlStorageValue>>("SELECT * FROM events WHERE event_id = ?", eventId)
        .toArray()[0] ?? null
    );
  }

  lastEvent(): EventRow | null {
    return (
      this.#sql
        .exec<EventRow & Record<string, SqlStorageValue>>(
          "SELECT * FROM events ORDER BY created_at DESC LIMIT 1",
        )
        .toArray()[0] ?? null
    );
  }

  events(): EventRow[] {
    return this.#sql
      .exec<EventRow & Record<string, SqlStorageValue>>("SELECT * FROM events ORDER BY created_at")
      .toArray();
  }

  due(now: number): OutboxRow[] {
    return this.#sql
      .exec<OutboxRow & Record<string, SqlStorageValue>>(
        "SELECT * FROM outbox WHERE state IN ('pending', 'sending') AND next_at <= ? ORDER BY next_at",
        now,
      )
      .toArray();
  }

  nextDue(): number | null {
    const row = this.#sql
      .exec<{ t: number | null }>(
        "SELECT MIN(next_at) AS t FROM outbox WHERE state IN ('pending', 'sending')",
      )
      .one();
    return row.t;
  }

  /**
   * Counts the attempt before it is made and pushes the row past the attempt's timeout, so an
   * eviction mid-request leads to a retry (same event id), never to a lost delivery.
   */
  begin(row: OutboxRow, leaseUntil: number): number {
    const attempt = row.attempts + 1;
    this.#sql.exec(
      "UPDATE outbox SET attempts = ?, next_at = ?, state = 'sending' WHERE event_id = ? AND url = ?",
      attempt,
      leaseUntil,
      row.event_id,
      row.url,
    );
    return attempt;
  }

  /**
   * Records an attempt and what follows it (see `afterAttempt`: a redelivery asked for while the
   * attempt was in flight is honoured now). The log keeps the last attempts per (event, URL).
   */
  finish(
    row: OutboxRow,
    type: string,
    attempt: number,
    result: AttemptResult,
    outcome: AttemptOutcome,
    at: number,
    /** The next attempt as someone else schedules it (a client endpoint's backlog). */
    nextAttemptAt?: number | null,
  ) {
    const flag =
      this.#sql
        .exec<{ redeliver: number }>(
          "SELECT redeliver FROM outbox WHERE event_id = ? AND url = ?",
          row.event_id,
          row.url,
        )
        .toArray()[0]?.redeliver ?? 0;
    const next = afterAttempt(flag as RedeliverFlag, outcome, at);
    this.#sql.exec(
      "UPDATE outbox SET state = ?, next_at = ?, redeliver = ? WHERE event_id = ? AND url = ?",
      next.state,
      next.nextAt,
      next.redeliver,
      row.event_id,
      row.url,
    );
    this.attemptLog.add({
      event_id: row.event_id,
      type,
      url: row.url,
      attempt,
      status_code: result.status === 0 ? null : result.status,
      error: result.error,
      duration_ms: result.durationMs,
      at,
      next_attempt_at: nextAttemptAt === undefined ? next.nextAt : nextAttemptAt,
      response: result.response,
    });
  }

  /**
   * Attempts a previous instance began and never finished: only one instance of an object runs,
   * so in a new one they are due at once (the receiver may see them twice, with the same id).
   */
  resumeInterrupted(now: number): number {
    return this.#sql.exec(
      "UPDATE outbox SET state = 'pending', next_at = ?, redeliver = 0 WHERE state = 'sending'",
      now,
    ).rowsWritten;
  }

  /**
   * Queues an event again for every URL it went to, keeping its id and counting on its attempt
   * numbers. A row still in its retry schedule is made due now; a settled one gets one more
   * attempt (no new schedule); one in flight is marked and queued when its attempt ends; one that
   * answered 410 is never called again.
   */
  requeue(eventId: string, now: number): number {
    // The edit's own webhooks only: a client endpoint's rows are its object's to send (it knows
    // whether the endpoint is paused, changed or gone).
    let n = this.#sql.exec(
      "UPDATE outbox SET redeliver = 1 WHERE event_id = ? AND state = 'sending' AND endpoint_id IS NULL",
      eventId,
    ).rowsWritten;
    n += this.#sql.exec(
      "UPDATE outbox SET next_at = ? WHERE event_id = ? AND state = 'pending' AND endpoint_id IS NULL",
      now,
      eventId,
    ).rowsWritten;
    n += this.#sql.exec(
      `UPDATE outbox SET state = 'pending', next_at = ?, redeliver = 2
       WHERE event_id = ? AND state IN ('delivered', 'exhausted', 'blocked') AND endpoint_id IS NULL`,
      now,
      eventId,
    ).rowsWritten;
    return n;
  }

  /** A row settled without an attempt (a client endpoint's first attempt too late to make here). */
  drop(row: OutboxRow): void {
    this.#sql.exec(
      "UPDATE outbox SET state = 'exhausted', next_at = NULL WHERE event_id = ? AND url = ?",
      row.event_id,
      row.url,
    );
  }

  rows(): OutboxRow[] {
    return this.#sql.exec<OutboxRow & Record<string, SqlStorageValue>>("SELECT * FROM outbox").toArray();
  }
}
