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

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    sql.exec(`
      CREATE TABLE IF NOT EXISTS events (
        event_id TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS outbox (
        event_id TEXT NOT NULL,
        url TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at INTEGER,
        state TEXT NOT NULL,
        PRIMARY KEY (event_id, url)
      );
      CREATE TABLE IF NOT EXISTS attempts (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id TEXT NOT NULL,
        type TEXT NOT NULL,
        url TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        status_code INTEGER,
        error TEXT,
        duration_ms INTEGER NOT NULL,
        at INTEGER NOT NULL,
        next_attempt_at INTEGER
      );
    `);
  }

  /** Adds an event and a pending delivery to each URL, due now. */
  addEvent(event: EventRow, urls: string[]): void {
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

  finish(
    row: OutboxRow,
    type: string,
    attempt: number,
    result: AttemptResult,
    outcome: AttemptOutcome,
    at: number,
  ) {
    const state: DeliveryState = outcome.kind === "retry" ? "pending" : outcome.kind;
    const nextAt = outcome.kind === "retry" ? outcome.at : null;
    this.#sql.exec(
      "UPDATE outbox SET state = ?, next_at = ? WHERE event_id = ? AND url = ?",
      state,
      nextAt,
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
    return this.#sql.exec("UPDATE outbox SET state = 'pending', next_at = ? WHERE state = 'sending'", now)
      .rowsWritten;
  }

  /** Queues an event again for every URL it went to, keeping its id. */
  requeue(eventId: string, now: number): number {
    return this.#sql.exec(
      "UPDATE outbox SET state = 'pending', next_at = ?, attempts = 0 WHERE event_id = ?",
      now,
      eventId,
    ).rowsWritten;
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
