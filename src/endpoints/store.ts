import { type EndpointRow, type EndpointStatus, hourOf } from "./policy";

/** Where one event stands at one endpoint (table `endpoint_deliveries`). */
export type EndpointDeliveryState = "direct" | "queued" | "delivered" | "failed";

export interface EndpointDelivery {
  endpoint_id: string;
  seq: number;
  state: EndpointDeliveryState;
  attempts: number;
  next_at: number | null;
}

export type Row<T> = T & Record<string, SqlStorageValue>;

/**
 * The client object's endpoints and where each event stands at each of them, over its SQLite
 * (tables in clients/migrations.ts; the event log itself is event-log.ts). Reads and writes only;
 * decisions are policy.ts's, backlog.ts's and service.ts's.
 */
export class EndpointStore {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  // Endpoints

  endpoint(id: string): EndpointRow | null {
    return this.#sql.exec<Row<EndpointRow>>("SELECT * FROM endpoints WHERE id = ?", id).toArray()[0] ?? null;
  }

  endpoints(): EndpointRow[] {
    return this.#sql.exec<Row<EndpointRow>>("SELECT * FROM endpoints ORDER BY created_at, id").toArray();
  }

  count(): number {
    return this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM endpoints").one().n;
  }

  insertEndpoint(row: EndpointRow): void {
    this.#sql.exec(
      `INSERT INTO endpoints (id, url, events, description, status, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      row.id,
      row.url,
      row.events,
      row.description,
      row.status,
      row.created_at,
      row.updated_at,
    );
  }

  updateEndpoint(
    id: string,
    patch: Partial<Pick<EndpointRow, "url" | "events" | "description" | "status" | "failing_since">>,
    now: number,
  ): void {
    const cols = Object.keys(patch);
    if (cols.length > 0) {
      this.#sql.exec(
        `UPDATE endpoints SET ${cols.map((c) => `${c} = ?`).join(", ")}, updated_at = ? WHERE id = ?`,
        ...Object.values(patch),
        now,
        id,
      );
    }
  }

  deleteEndpoint(id: string): void {
    this.#sql.exec("DELETE FROM endpoint_deliveries WHERE endpoint_id = ?", id);
    this.#sql.exec("DELETE FROM endpoint_stats WHERE endpoint_id = ?", id);
    this.#sql.exec("DELETE FROM endpoints WHERE id = ?", id);
  }

  /** Records an attempt's outcome in the endpoint's health: its times and its hourly counts. */
  recordAttempt(id: string, ok: boolean, at: number, failingSince: number | null): void {
    this.#sql.exec(
      `UPDATE endpoints SET last_attempt_at = ?, failing_since = ?,
         last_success_at = CASE WHEN ? THEN ? ELSE last_success_at END WHERE id = ?`,
      at,
      failingSince,
      ok ? 1 : 0,
      at,
      id,
    );
    this.#sql.exec(
      `INSERT INTO endpoint_stats (endpoint_id, hour, ok, failed) VALUES (?, ?, ?, ?)
       ON CONFLICT (endpoint_id, hour) DO UPDATE SET ok = ok + excluded.ok, failed = failed + excluded.failed`,
      id,
      hourOf(at),
      ok ? 1 : 0,
      ok ? 0 : 1,
    );
  }

  stats(id: string, now: number): { ok: number; failed: number }[] {
    return this.#sql
      .exec<Row<{ ok: number; failed: number }>>(
        "SELECT ok, failed FROM endpoint_stats WHERE endpoint_id = ? AND hour > ?",
        id,
        hourOf(now) - 24,
      )
      .toArray();
  }

  /** Hourly counts older than the 24 h the success rate reads. */
  expireStats(now: number): void {
    this.#sql.exec("DELETE FROM endpoint_stats WHERE hour <= ?", hourOf(now) - 25);
  }

  pending(id: string): number {
    return this.#sql
      .exec<{ n: number }>(
        `SELECT (SELECT COUNT(*) FROM endpoint_deliveries WHERE endpoint_id = ?1 AND state = 'queued')
              + (SELECT COUNT(*) FROM endpoint_deliveries WHERE endpoint_id = ?1 AND state = 'direct') AS n`,
        id,
      )
      .one().n;
  }

  // Deliveries to endpoints

  addDelivery(endpointId: string, seq: number, state: "direct" | "queued", at: number): void {
    this.#sql.exec(
      `INSERT OR IGNORE INTO endpoint_deliveries (endpoint_id, seq, state, attempts, next_at) VALUES (?, ?, ?, 0, ?)`,
      endpointId,
      seq,
      state,
      at,
    );
  }

  /** An event's delivery row at one endpoint, found by the event's id, with the event's model. */
  deliveryOf(endpointId: string, eventId: string): (EndpointDelivery & { model: string | null }) | null {
    return (
      this.#sql
        .exec<Row<EndpointDelivery & { model: string | null }>>(
          `SELECT d.*, l.model FROM event_log l JOIN endpoint_deliveries d ON d.seq = l.seq
           WHERE l.id = ? AND d.endpoint_id = ?`,
          eventId,
          endpointId,
        )
        .toArray()[0] ?? null
    );
  }

  delivery(endpointId: string, seq: number): EndpointDelivery | null {
    return (
      this.#sql
        .exec<Row<EndpointDelivery>>(
          "SELECT * FROM endpoint_deliveries WHERE endpoint_id = ? AND seq = ?",
          endpointId,
          seq,
        )
        .toArray()[0] ?? null
    );
  }

  deliveriesOf(seq: number): EndpointDelivery[] {
    return this.#sql
      .exec<Row<EndpointDelivery>>("SELECT * FROM endpoint_deliveries WHERE seq = ?", seq)
      .toArray();
  }

  setDelivery(
    endpointId: string,
    seq: number,
    state: EndpointDeliveryState,
    attempts: number,
    nextAt: number | null,
  ): void {
    this.#sql.exec(
      "UPDATE endpoint_deliveries SET state = ?, attempts = ?, next_at = ? WHERE endpoint_id = ? AND seq = ?",
      state,
      attempts,
      nextAt,
      endpointId,
      seq,
    );
  }

  /** Whether the endpoint has a backlog: new events then queue behind it, in order. */
  hasBacklog(endpointId: string): boolean {
    return (
      this.#sql
        .exec(
          "SELECT 1 FROM endpoint_deliveries WHERE endpoint_id = ? AND state = 'queued' LIMIT 1",
          endpointId,
        )
        .toArray().length > 0
    );
  }

  /** The oldest queued event of an endpoint: the only one its backlog may send now. */
  head(endpointId: string): EndpointDelivery | null {
    return (
      this.#sql
        .exec<Row<EndpointDelivery>>(
          "SELECT * FROM endpoint_deliveries WHERE endpoint_id = ? AND state = 'queued' ORDER BY seq LIMIT 1",
          endpointId,
        )
        .toArray()[0] ?? null
    );
  }

  /** First attempts handed to edit objects that never reported back: into the backlog. */
  reclaimDirect(before: number): number {
    return this.#sql.exec(
      "UPDATE endpoint_deliveries SET state = 'queued', next_at = ? WHERE state = 'direct' AND next_at < ?",
      before,
      before,
    ).rowsWritten;
  }

  oldestDirect(): number | null {
    return this.#sql
      .exec<{ t: number | null }>("SELECT MIN(next_at) AS t FROM endpoint_deliveries WHERE state = 'direct'")
      .one().t;
  }

  /**
   * Behind a head whose retries ran out: the queued events that have waited as long as a whole
   * retry schedule fail too (they had their window); younger ones keep waiting, in order.
   */
  failQueuedOlderThan(endpointId: string, createdBefore: number): number {
    return this.#sql.exec(
      `UPDATE endpoint_deliveries SET state = 'failed', next_at = NULL
       WHERE endpoint_id = ? AND state = 'queued'
       AND seq IN (SELECT seq FROM event_log WHERE created_at <= ?)`,
      endpointId,
      createdBefore,
    ).rowsWritten;
  }

  /** The backlog due now (a resume, a recovery): what waited for a retry goes at once, in order. */
  wakeQueued(endpointId: string, now: number): void {
    this.#sql.exec(
      "UPDATE endpoint_deliveries SET next_at = ? WHERE endpoint_id = ? AND state = 'queued' AND next_at > ?",
      now,
      endpointId,
      now,
    );
  }

  /** Failed events back into the backlog (a disabled endpoint holds them; recovery re-sends them). */
  requeueFailed(endpointId: string, sinceMs: number, now: number): number {
    return this.#sql.exec(
      `UPDATE endpoint_deliveries SET state = 'queued', attempts = 0, next_at = ?
       WHERE endpoint_id = ? AND state = 'failed'
       AND seq IN (SELECT seq FROM event_log WHERE created_at >= ? AND payload IS NOT NULL)`,
      now,
      endpointId,
      sinceMs,
    ).rowsWritten;
  }

  unacknowledgedSince(endpointId: string, sinceMs: number): number {
    return this.#sql
      .exec<{ n: number }>(
        `SELECT COUNT(*) AS n FROM endpoint_deliveries WHERE endpoint_id = ? AND state IN ('direct', 'queued')
         AND seq IN (SELECT seq FROM event_log WHERE created_at >= ?)`,
        endpointId,
        sinceMs,
      )
      .one().n;
  }

  /** The heads of the active endpoints' backlogs: one indexed lookup per endpoint (at most 20). */
  heads(): { endpoint_id: string; next_at: number }[] {
    const active = this.#sql
      .exec<{ id: string }>("SELECT id FROM endpoints WHERE status = 'active'")
      .toArray();
    return active.flatMap((e) => {
      const h = this.head(e.id);
      return h ? [{ endpoint_id: e.id, next_at: h.next_at ?? 0 }] : [];
    });
  }

  setStatus(id: string, status: EndpointStatus, now: number): void {
    this.updateEndpoint(id, { status }, now);
  }
}
