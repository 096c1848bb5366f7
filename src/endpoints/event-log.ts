import { assertFitsRow } from "../lib/limits";
import type { Row } from "./store";

/** A row of the client's event log (table `event_log`); `payload` is the webhook body, null once erased. */
export interface LoggedEvent {
  seq: number;
  id: string;
  type: string;
  edit_id: string | null;
  model: string | null;
  payload: string | null;
  created_at: number;
}

/**
 * The client's event log (table `event_log`): every terminal event of its edits and its
 * endpoints' notices, once each, in the order they were logged; and the edits erased since
 * (table `forgotten`), whose late reports must add nothing back.
 */
export class EventLog {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  /** Appends an event once (a repeated append of the same id changes nothing); null if it was there. */
  append(e: Omit<LoggedEvent, "seq">): number | null {
    if (e.payload !== null) assertFitsRow("event payload", e.payload);
    const written = this.#sql.exec(
      `INSERT OR IGNORE INTO event_log (id, type, edit_id, model, payload, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
      e.id,
      e.type,
      e.edit_id,
      e.model,
      e.payload,
      e.created_at,
    ).rowsWritten;
    return written > 0 ? this.seqOf(e.id) : null;
  }

  seqOf(eventId: string): number | null {
    return (
      this.#sql.exec<{ seq: number }>("SELECT seq FROM event_log WHERE id = ?", eventId).toArray()[0]?.seq ??
      null
    );
  }

  event(seq: number): LoggedEvent | null {
    return (
      this.#sql.exec<Row<LoggedEvent>>("SELECT * FROM event_log WHERE seq = ?", seq).toArray()[0] ?? null
    );
  }

  /** A page of the log, oldest first, after `afterSeq`; erased events are skipped. */
  page(afterSeq: number, type: string | undefined, limit: number): LoggedEvent[] {
    return this.#sql
      .exec<Row<LoggedEvent>>(
        `SELECT * FROM event_log WHERE seq > ? AND payload IS NOT NULL AND (? IS NULL OR type = ?)
         ORDER BY seq LIMIT ?`,
        afterSeq,
        type ?? null,
        type ?? null,
        limit,
      )
      .toArray();
  }

  /** An erased edit's events keep their place (cursors stay valid) but lose their payload and pending deliveries. */
  /** Whether an edit was erased: its late reports must not bring its events back. */
  isForgotten(editId: string): boolean {
    return this.#sql.exec("SELECT 1 FROM forgotten WHERE edit_id = ?", editId).toArray().length > 0;
  }

  forgetEdit(editId: string, now: number): void {
    this.#sql.exec("INSERT OR IGNORE INTO forgotten (edit_id, at) VALUES (?, ?)", editId, now);
    this.#sql.exec(
      `DELETE FROM endpoint_deliveries WHERE state IN ('direct', 'queued', 'failed')
       AND seq IN (SELECT seq FROM event_log WHERE edit_id = ?)`,
      editId,
    );
    this.#sql.exec("UPDATE event_log SET payload = NULL WHERE edit_id = ?", editId);
  }

  /** Drops events older than `before`, with their delivery rows, and old erasure marks. */
  expire(before: number): void {
    this.#sql.exec(
      "DELETE FROM endpoint_deliveries WHERE seq IN (SELECT seq FROM event_log WHERE created_at < ?)",
      before,
    );
    this.#sql.exec("DELETE FROM event_log WHERE created_at < ?", before);
    this.#sql.exec("DELETE FROM forgotten WHERE at < ?", before);
  }

  oldestEvent(): number | null {
    return this.#sql.exec<{ t: number | null }>("SELECT MIN(created_at) AS t FROM event_log").one().t;
  }
}
