import {
  type Admission,
  admitGenerations,
  admitRedelivery,
  type ClientLimits,
  MAX_STREAMS_PER_CLIENT,
  STREAM_LEASE_MS,
  utcDay,
} from "./limits";

/** Per UTC day and model: what a client did, counted as it happened (no scans). */
export interface UsageRow {
  date: string;
  model: string;
  edits_created: number;
  generations_succeeded: number;
  generations_failed: number;
  generations_cancelled: number;
  webhooks_delivered: number;
  webhooks_failed: number;
}

export interface Outcomes {
  succeeded: number;
  failed: number;
  cancelled: number;
}

/** Reservations are kept this long (a replay within it is not counted again); one no edit settled by then (its create died unseen) stops counting as active. */
const STALE_RESERVATION_MS = 2 * 86_400_000;
const HOUR_MS = 3_600_000;

/**
 * The client object's counters over its SQLite (tables in clients/migrations.ts): running
 * generations per edit, usage per day and model, recent redeliveries. Decisions are the pure
 * functions of limits.ts; this class only reads and writes.
 */
export class Ledger {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  activeGenerations(now: number): number {
    this.#sql.exec("DELETE FROM active WHERE reserved_at < ?", now - STALE_RESERVATION_MS);
    return (
      this.#sql
        .exec<{ n: number | null }>("SELECT SUM(generations) AS n FROM active WHERE released_at IS NULL")
        .one().n ?? 0
    );
  }

  generationsOn(date: string): number {
    return (
      this.#sql
        .exec<{ n: number | null }>("SELECT SUM(generations) AS n FROM usage WHERE date = ?", date)
        .one().n ?? 0
    );
  }

  /**
   * Reserves an edit's generations if they fit. An edit is reserved once: a replay of its create
   * (an Idempotency-Key, a retry) is admitted without counting again, also after it ended.
   */
  reserve(limits: ClientLimits, editId: string, model: string, n: number, now: number): Admission {
    const held = this.#sql.exec("SELECT 1 FROM active WHERE edit_id = ?", editId).toArray().length > 0;
    if (held) return { ok: true };
    const date = utcDay(now);
    const verdict = admitGenerations(
      limits,
      { active: this.activeGenerations(now), today: this.generationsOn(date) },
      n,
      now,
    );
    if (!verdict.ok) return verdict;
    this.#sql.exec("INSERT INTO active (edit_id, generations, reserved_at) VALUES (?, ?, ?)", editId, n, now);
    this.#bump(date, model, { edits_created: 1, generations: n });
    return verdict;
  }

  /**
   * Ends a reservation. `refund`: the create never reached Oxen, so it does not count today
   * either. `outcomes` are counted once per edit, however often the edit reports them.
   */
  release(editId: string, model: string, now: number, opts: { refund?: boolean; outcomes?: Outcomes }): void {
    const row = this.#sql
      .exec<{ generations: number; reserved_at: number; released_at: number | null }>(
        "SELECT generations, reserved_at, released_at FROM active WHERE edit_id = ?",
        editId,
      )
      .toArray()[0];
    if (opts.refund) {
      this.#sql.exec("DELETE FROM active WHERE edit_id = ?", editId);
      if (row)
        this.#bump(utcDay(row.reserved_at), model, { edits_created: -1, generations: -row.generations });
      return;
    }
    if (row?.released_at != null) return;
    if (row) this.#sql.exec("UPDATE active SET released_at = ? WHERE edit_id = ?", now, editId);
    else
      this.#sql.exec(
        "INSERT INTO active (edit_id, generations, reserved_at, released_at) VALUES (?, 0, ?, ?)",
        editId,
        now,
        now,
      );
    const o = opts.outcomes;
    if (o) {
      this.#bump(utcDay(now), model, {
        generations_succeeded: o.succeeded,
        generations_failed: o.failed,
        generations_cancelled: o.cancelled,
      });
    }
  }

  countWebhooks(model: string, now: number, delivered: number, failed: number): void {
    this.#bump(utcDay(now), model, { webhooks_delivered: delivered, webhooks_failed: failed });
  }

  /** Admits and records a redelivery of an edit, or says when one will be allowed. */
  redeliver(editId: string, now: number): Admission {
    this.#sql.exec("DELETE FROM redeliveries WHERE at <= ?", now - HOUR_MS);
    const times = this.#sql
      .exec<{ edit_id: string; at: number }>("SELECT edit_id, at FROM redeliveries")
      .toArray();
    const last = times
      .filter((t) => t.edit_id === editId)
      .reduce<number | null>((m, t) => Math.max(m ?? 0, t.at), null);
    const verdict = admitRedelivery(
      last,
      times.map((t) => t.at),
      now,
    );
    if (verdict.ok) this.#sql.exec("INSERT INTO redeliveries (edit_id, at) VALUES (?, ?)", editId, now);
    return verdict;
  }

  /** Takes a lease for an event stream if the client has fewer than its maximum open. */
  openStream(streamId: string, now: number): Admission {
    this.#sql.exec("DELETE FROM streams WHERE expires_at <= ?", now);
    const open = this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM streams").one().n;
    if (open >= MAX_STREAMS_PER_CLIENT) {
      return { ok: false, retryAfterS: 10, reason: `${MAX_STREAMS_PER_CLIENT} event streams are open` };
    }
    this.#sql.exec(
      "INSERT OR REPLACE INTO streams (stream_id, expires_at) VALUES (?, ?)",
      streamId,
      now + STREAM_LEASE_MS + 60_000,
    );
    return { ok: true };
  }

  closeStream(streamId: string): void {
    this.#sql.exec("DELETE FROM streams WHERE stream_id = ?", streamId);
  }

  usage(from: string, to: string): UsageRow[] {
    return this.#sql
      .exec<UsageRow & Record<string, SqlStorageValue>>(
        `SELECT date, model, edits_created, generations_succeeded, generations_failed, generations_cancelled,
                webhooks_delivered, webhooks_failed
         FROM usage WHERE date >= ? AND date <= ? ORDER BY date, model`,
        from,
        to,
      )
      .toArray();
  }

  #bump(date: string, model: string, deltas: Record<string, number>): void {
    const cols = Object.keys(deltas);
    this.#sql.exec(
      `INSERT INTO usage (date, model, ${cols.join(", ")}) VALUES (?, ?, ${cols.map(() => "?").join(", ")})
       ON CONFLICT (date, model) DO UPDATE SET ${cols.map((c) => `${c} = ${c} + excluded.${c}`).join(", ")}`,
      date,
      model,
      ...Object.values(deltas),
    );
  }
}
