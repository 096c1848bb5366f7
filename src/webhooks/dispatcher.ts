import { log } from "../lib/log";
import { Outbox, type OutboxRow } from "./outbox";
import { type AttemptOutcome, nextStep } from "./retry";
import { type AttemptResult, sendWebhook } from "./send";
import { checkWebhookUrl } from "./url-safety";

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
   * A client endpoint's row had its attempt here: tells the client's object, which takes it on
   * from there (its backlog retries); answers the next attempt's time, for the log.
   */
  onEndpointAttempt?: (
    endpointId: string,
    eventId: string,
    result: AttemptResult,
    redelivery: boolean,
  ) => Promise<number | null>;
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
    const settled = await Promise.all(due.map((row) => this.#attempt(row)));
    // Counted once per pass, not per URL: one call to the client's object for a whole fan-out.
    const delivered = settled.filter((s) => s === "delivered").length;
    const failed = settled.filter((s) => s === "failed").length;
    if (delivered + failed > 0) this.#opts.onSettled?.(delivered, failed);
  }

  /** One attempt; what it settled, if it settled a delivery this object counts. */
  async #attempt(row: OutboxRow): Promise<"delivered" | "failed" | null> {
    this.#inflight.add(key(row));
    try {
      const event = this.outbox.event(row.event_id);
      if (!event) return null;
      const attempt = this.outbox.begin(row, Date.now() + this.#opts.timeoutMs + LEASE_MARGIN_MS);
      const blocked = checkWebhookUrl(row.url, { allowPrivate: this.#opts.allowPrivate });
      const secrets = blocked ? [] : await this.#opts.secrets();
      let result: AttemptResult;
      let outcome: AttemptOutcome;
      let nextAt: number | null | undefined;
      if (blocked || secrets.length === 0) {
        result = {
          status: 0,
          error: blocked ? `URL not allowed: ${blocked}` : "the client no longer exists",
          durationMs: 0,
          retryAfter: null,
          response: null,
        };
        outcome = { kind: "blocked" };
      } else {
        result = await sendWebhook({
          url: row.url,
          eventId: row.event_id,
          body: event.payload,
          secrets,
          timeoutMs: this.#opts.timeoutMs,
        });
        outcome = nextStep(attempt, result.status, result.retryAfter, this.#opts.scheduleSeconds, Date.now());
      }
      if (row.endpoint_id && this.#opts.onEndpointAttempt) {
        // One attempt here; on failure the endpoint's backlog (in the client's object) goes on.
        const ok = outcome.kind === "delivered";
        nextAt = await this.#opts
          .onEndpointAttempt(row.endpoint_id, row.event_id, result, row.redeliver === 2)
          .catch(() => null);
        if (!ok) outcome = { kind: "exhausted" };
      }
      this.outbox.finish(row, event.type, attempt, result, outcome, Date.now(), nextAt);
      // Every attempt is in the edit's attempt log (/deliveries); Workers Logs gets the failures
      // only: a line per successful webhook costs CPU and log volume and says nothing new.
      if (outcome.kind === "delivered") return row.endpoint_id ? null : "delivered";
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
      return outcome.kind === "retry" || row.endpoint_id ? null : "failed";
    } finally {
      this.#inflight.delete(key(row));
    }
  }
}

const key = (r: OutboxRow) => `${r.event_id} ${r.url}`;
