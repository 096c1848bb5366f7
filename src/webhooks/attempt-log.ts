/** The attempt log of one edit's outbox (table `attempts`, edits/migrations.ts). */

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
  response: string | null;
}

/** Attempts kept per (event, URL); older ones are dropped, so no client can grow the log for ever. */
export const MAX_ATTEMPTS_KEPT = 50;
/** A stored error is at most this long (receivers choose what goes into it). */
export const MAX_ERROR_CHARS = 512;
/** A kept answer is at most 4 KB of bytes read; as characters, never more than that. */
const MAX_RESPONSE_CHARS = 4096;

export class AttemptLog {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  /** Adds an attempt to the log (also those a client endpoint's backlog made), keeping the last ones per (event, URL). */
  add(a: AttemptRow): void {
    this.#sql.exec(
      `INSERT INTO attempts (event_id, type, url, attempt, status_code, error, duration_ms, at, next_attempt_at, response)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      a.event_id,
      a.type,
      a.url,
      a.attempt,
      a.status_code,
      a.error === null ? null : a.error.slice(0, MAX_ERROR_CHARS),
      a.duration_ms,
      a.at,
      a.next_attempt_at,
      a.response === null ? null : a.response.slice(0, MAX_RESPONSE_CHARS),
    );
    // Only a pair with more attempts than are kept has any to drop.
    if (a.attempt <= MAX_ATTEMPTS_KEPT) return;
    this.#sql.exec(
      `DELETE FROM attempts WHERE event_id = ? AND url = ? AND seq <= (
         SELECT seq FROM attempts WHERE event_id = ? AND url = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)`,
      a.event_id,
      a.url,
      a.event_id,
      a.url,
      MAX_ATTEMPTS_KEPT,
    );
  }

  /** A page of the attempt log, oldest first, after the attempt `after` (its `seq`). */
  page(limit: number, after = 0): { rows: (AttemptRow & { seq: number })[]; more: boolean } {
    const rows = this.#sql
      .exec<AttemptRow & { seq: number } & Record<string, SqlStorageValue>>(
        "SELECT * FROM attempts WHERE seq > ? ORDER BY seq LIMIT ?",
        after,
        limit + 1,
      )
      .toArray();
    return { rows: rows.slice(0, limit), more: rows.length > limit };
  }

  all(): AttemptRow[] {
    return this.#sql
      .exec<AttemptRow & Record<string, SqlStorageValue>>("SELECT * FROM attempts ORDER BY seq")
      .toArray();
  }
}
