import { assertFitsRow } from "../lib/limits";
import type { AttemptOutcome } from "./retry";
import type { AttemptResult } from "./send";

export type DeliveryState = "pending" | "sending" | "delivered" | "gone" | "exhausted" | "blocked";

export interface OutboxRow {
  event_id: string;
  url: string;
  attempts: number;
  next_at: number | null;
  state: DeliveryState;
}

export interface EventRow {
  event_id: string;
  type: string;
  payload: string;
  created_at: number;
}

export interface AttemptRow {
  event_id: string;
  type: string;
  url: string;
  attempt: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
  at: number;
  next_attempt_at: number | null;
}

/**
 * The durable webhook outbox of one edit: each event once (its id is the `webhook-id` for good),
 * one row per (event, URL) with its schedule, and a log of every attempt.
 */
export class Outbox {
  readonly #sql: SqlStorage;

  /** The tables are the edit object's (edits/migrations.ts); this class only reads and writes them. */
  constructor(sql: SqlStorage) {
    this.#sql = sql;
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

  event(eventId: string): EventRow | null {
    return (
      this.#sql
        .exec<EventRow & Record<string, SqlStorageValue>>("SELECT * FROM events WHERE event_id = ?", eventId)
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
   * Records an attempt and what follows it. A redelivery asked for while the attempt was in
   * flight is honoured now: the row is due again at once.
   */
  finish(
    row: OutboxRow,
    type: string,
    attempt: number,
    result: AttemptResult,
    outcome: AttemptOutcome,
    at: number,
  ) {
    const asked =
      this.#sql
        .exec<{ redeliver: number }>(
          "SELECT redeliver FROM outbox WHERE event_id = ? AND url = ?",
          row.event_id,
          row.url,
        )
        .toArray()[0]?.redeliver === 1;
    const state: DeliveryState = asked || outcome.kind === "retry" ? "pending" : outcome.kind;
    const nextAt = asked ? at : outcome.kind === "retry" ? outcome.at : null;
    this.#sql.exec(
      "UPDATE outbox SET state = ?, next_at = ?, redeliver = 0, attempts = ? WHERE event_id = ? AND url = ?",
      state,
      nextAt,
      asked ? 0 : attempt,
      row.event_id,
      row.url,
    );
    this.#sql.exec(
      `INSERT INTO attempts (event_id, type, url, attempt, status_code, error, duration_ms, at, next_attempt_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      row.event_id,
      type,
      row.url,
      attempt,
      result.status === 0 ? null : result.status,
      result.error,
      result.durationMs,
      at,
      nextAt,
    );
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
   * Queues an event again for every URL it went to, keeping its id. A row whose attempt is in
   * flight is marked instead, and queued when that attempt finishes (`finish`).
   */
  requeue(eventId: string, now: number): number {
    const marked = this.#sql.exec(
      "UPDATE outbox SET redeliver = 1 WHERE event_id = ? AND state = 'sending'",
      eventId,
    ).rowsWritten;
    const queued = this.#sql.exec(
      "UPDATE outbox SET state = 'pending', next_at = ?, attempts = 0 WHERE event_id = ? AND state != 'sending'",
      now,
      eventId,
    ).rowsWritten;
    return marked + queued;
  }

  attempts(): AttemptRow[] {
    return this.#sql
      .exec<AttemptRow & Record<string, SqlStorageValue>>("SELECT * FROM attempts ORDER BY seq")
      .toArray();
  }

  rows(): OutboxRow[] {
    return this.#sql.exec<OutboxRow & Record<string, SqlStorageValue>>("SELECT * FROM outbox").toArray();
  }
}
