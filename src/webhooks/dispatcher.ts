import { log } from "../lib/log";
import { Outbox, type OutboxRow } from "./outbox";
import { type AttemptOutcome, nextStep } from "./retry";
import { type AttemptResult, attemptWebhook } from "./send";

/** An attempt's lease beyond its timeout; a new instance resumes interrupted attempts at once. */
const LEASE_MARGIN_MS = 30_000;

export interface DispatcherOptions {
  timeoutMs: number;
  scheduleSeconds: readonly number[];
  allowPrivate: boolean;
  /** For the logs: which edit this outbox belongs to. */
  editId: () => string | undefined;
  /** The live signing secrets of the edit's client, read at each attempt so rotation applies. */
  secrets: () => Promise<string[]>;
  /** Deliveries that settled in one pass: delivered, or given up (exhausted, gone, blocked). */
  onSettled?: (delivered: number, failed: number) => void;
  /**
   * Client endpoints' rows had their attempts here (all those of one pass, in one call): tells
   * the client's object, which takes each on from there (its backlog retries); answers each
   * one's next attempt time, for the log.
   */
  onEndpointAttempts?: (reports: EndpointReport[]) => Promise<(number | null)[]>;
  /** How long after its event an endpoint row's first attempt may still be made here. */
  endpointDeadlineMs?: number;
}

export interface EndpointReport {
  endpoint_id: string;
  event_id: string;
  result: AttemptResult;
  redelivery: boolean;
}

/** An endpoint row's attempt, made, to be reported with the others of its pass and then recorded. */
interface Made {
  row: OutboxRow;
  type: string;
  attempt: number;
  result: AttemptResult;
  delivered: boolean;
}

/** Sends what the outbox says is due, one attempt per (event, URL) at a time, and records it. */
export class Dispatcher {
  readonly outbox: Outbox;
  readonly #opts: DispatcherOptions;
  readonly #inflight = new Set<string>();

  constructor(sql: SqlStorage, opts: DispatcherOptions) {
    this.outbox = new Outbox(sql);
    this.#opts = opts;
  }

  async deliverDue(now = Date.now()): Promise<void> {
    const due = this.outbox.due(now).filter((r) => !this.#inflight.has(key(r)));
    const made: Made[] = [];
    const settled = await Promise.all(due.map((row) => this.#attempt(row, made)));
    if (made.length > 0) await this.#report(made);
    // Counted once per pass, not per URL: one call to the client's object for a whole fan-out.
    const delivered = settled.filter((s) => s === "delivered").length;
    const failed = settled.filter((s) => s === "failed").length;
    if (delivered + failed > 0) this.#opts.onSettled?.(delivered, failed);
  }

  /**
   * One call for the pass's endpoint attempts; then each is recorded, settled here either way:
   * on failure the endpoint's backlog (in the client's object) goes on. A lost call leaves the
   * client's rows to be reclaimed by its lease.
   */
  async #report(made: Made[]): Promise<void> {
    const nexts = this.#opts.onEndpointAttempts
      ? await this.#opts
          .onEndpointAttempts(
            made.map((m) => ({
              endpoint_id: m.row.endpoint_id as string,
              event_id: m.row.event_id,
              result: m.result,
              redelivery: m.row.redeliver === 2,
            })),
          )
          .catch(() => made.map(() => null))
      : made.map(() => null);
    made.forEach((m, i) => {
      const outcome: AttemptOutcome = m.delivered ? { kind: "delivered" } : { kind: "exhausted" };
      this.outbox.finish(m.row, m.type, m.attempt, m.result, outcome, Date.now(), nexts[i] ?? null);
    });
  }

  /** One attempt; what it settled, if it settled a delivery this object counts. */
  async #attempt(row: OutboxRow, made: Made[]): Promise<"delivered" | "failed" | null> {
    this.#inflight.add(key(row));
    try {
      const event = this.outbox.event(row.event_id);
      if (!event) return null;
      if (row.endpoint_id && Date.now() > event.created_at + (this.#opts.endpointDeadlineMs ?? Infinity)) {
        this.outbox.drop(row);
        return null;
      }
      const attempt = this.outbox.begin(row, Date.now() + this.#opts.timeoutMs + LEASE_MARGIN_MS);
      const { result, refused } = await attemptWebhook({
        url: row.url,
        eventId: row.event_id,
        body: event.payload,
        secrets: this.#opts.secrets,
        allowPrivate: this.#opts.allowPrivate,
        timeoutMs: this.#opts.timeoutMs,
      });
      const outcome: AttemptOutcome = refused
        ? { kind: "blocked" }
        : nextStep(attempt, result.status, result.retryAfter, this.#opts.scheduleSeconds, Date.now());
      if (row.endpoint_id) {
        made.push({ row, type: event.type, attempt, result, delivered: outcome.kind === "delivered" });
        return null;
      }
      this.outbox.finish(row, event.type, attempt, result, outcome, Date.now());
      // Every attempt is in the edit's attempt log (/deliveries); Workers Logs gets the failures
      // only: a line per successful webhook costs CPU and log volume and says nothing new.
      if (outcome.kind === "delivered") return "delivered";
      // The URL is left out on purpose: receivers often carry tokens in it.
      log("warn", "webhook attempt", {
        edit_id: this.#opts.editId(),
        event_id: row.event_id,
        type: event.type,
        attempt,
        status: result.status,
        duration_ms: result.durationMs,
        outcome: outcome.kind,
        error: result.error,
      });
      return outcome.kind === "retry" ? null : "failed";
    } finally {
      this.#inflight.delete(key(row));
    }
  }
}

const key = (r: OutboxRow) => `${r.event_id} ${r.url}`;
