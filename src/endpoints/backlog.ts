import { type AttemptRow, endpointRowUrl } from "../webhooks/outbox";
import { nextStep } from "../webhooks/retry";
import { attemptWebhook } from "../webhooks/send";
import type { EventLog, LoggedEvent } from "./event-log";
import { BACKLOG_BATCH, DIRECT_LEASE_MS, type EndpointRow } from "./policy";
import type { EndpointStore } from "./store";

/** Backlogs drained at once by one pass. */
const DRAINS_AT_ONCE = 5;
/** An attempt's lease beyond its timeout. */
const LEASE_MARGIN_MS = 30_000;

export interface EndpointsConfig {
  timeoutMs: number;
  scheduleSeconds: readonly number[];
  disableAfterSeconds: number;
  retentionSeconds: number;
  allowPrivate: boolean;
}

export interface EndpointsDeps {
  config: EndpointsConfig;
  /** The client's live signing secrets. */
  secrets: () => Promise<string[]>;
  /** An attempt the backlog made for an edit's event, for that edit's `/deliveries` (best effort). */
  logAttempt: (editId: string, attempt: AttemptRow) => void;
  /** Usage: a delivery to an endpoint settled. */
  countWebhook: (model: string | null, delivered: boolean) => void;
}

/**
 * The endpoints' backlogs, sent from the client object: per endpoint strictly oldest first, one
 * event at a time, the webhook retry schedule on the oldest; a few endpoints at once.
 */
export class Backlog {
  readonly #store: EndpointStore;
  readonly #log: EventLog;
  readonly #deps: EndpointsDeps;
  readonly #health: (endpointId: string, ok: boolean, now: number) => void;
  readonly #draining = new Set<string>();

  constructor(
    store: EndpointStore,
    log: EventLog,
    deps: EndpointsDeps,
    health: (endpointId: string, ok: boolean, now: number) => void,
  ) {
    this.#store = store;
    this.#log = log;
    this.#deps = deps;
    this.#health = health;
  }

  /** Whether an endpoint's backlog is being sent now (its head is leased; the drain re-arms). */
  draining(endpointId: string): boolean {
    return this.#draining.has(endpointId);
  }

  /** Sends what the backlogs have due: each active endpoint's oldest events, in order. */
  async deliverDue(now: number): Promise<void> {
    this.#store.reclaimDirect(now - DIRECT_LEASE_MS);
    const due = this.#store
      .heads()
      .filter((h) => h.next_at <= now && !this.#draining.has(h.endpoint_id))
      .map((h) => h.endpoint_id);
    // A few at a time: an object has about six connections waiting at once, and a send queued
    // behind slow receivers would spend its timeout waiting and count against a healthy endpoint.
    for (let i = 0; i < due.length; i += DRAINS_AT_ONCE) {
      await Promise.all(due.slice(i, i + DRAINS_AT_ONCE).map((id) => this.#drain(id)));
    }
  }

  async #drain(endpointId: string): Promise<void> {
    this.#draining.add(endpointId);
    try {
      for (let i = 0; i < BACKLOG_BATCH; i++) {
        const ep = this.#store.endpoint(endpointId);
        const head = this.#store.head(endpointId);
        if (ep?.status !== "active" || !head || (head.next_at ?? 0) > Date.now()) return;
        const event = this.#log.event(head.seq);
        if (!event?.payload) {
          this.#store.setDelivery(endpointId, head.seq, "failed", head.attempts, null);
          continue;
        }
        // Leased for the attempt, as the outbox does: an eviction mid-send retries after it.
        this.#store.setDelivery(
          endpointId,
          head.seq,
          "queued",
          head.attempts,
          Date.now() + this.#deps.config.timeoutMs + LEASE_MARGIN_MS,
        );
        if (!(await this.#send(ep, head.attempts + 1, event))) return;
      }
    } finally {
      this.#draining.delete(endpointId);
    }
  }

  /** One attempt of a backlog's head; true when delivered (the next may follow at once). */
  async #send(ep: EndpointRow, attempt: number, event: LoggedEvent): Promise<boolean> {
    const { result } = await attemptWebhook({
      url: ep.url,
      eventId: event.id,
      body: event.payload as string,
      secrets: this.#deps.secrets,
      allowPrivate: this.#deps.config.allowPrivate,
      timeoutMs: this.#deps.config.timeoutMs,
    });
    const now = Date.now();
    const ok = result.status >= 200 && result.status < 300;
    let nextAt: number | null = null;
    // 410: this event is refused for good; the next one may follow.
    let goOn = ok;
    const current = this.#store.delivery(ep.id, event.seq);
    if (!current) return false; // deleted or forgotten meanwhile
    if (current.state === "delivered") return true; // a late report of its first attempt said so
    if (ok) {
      this.#store.setDelivery(ep.id, event.seq, "delivered", attempt, null);
      this.#deps.countWebhook(event.model, true);
    } else {
      const outcome = nextStep(
        attempt,
        result.status,
        result.retryAfter,
        this.#deps.config.scheduleSeconds,
        now,
      );
      if (outcome.kind === "retry") {
        nextAt = outcome.at;
        this.#store.setDelivery(ep.id, event.seq, "queued", attempt, nextAt);
      } else if (outcome.kind === "gone") {
        this.#store.setDelivery(ep.id, event.seq, "failed", attempt, null);
        this.#deps.countWebhook(event.model, false);
        goOn = true;
      } else {
        // Its retries are spent. Those behind it that are as old as a whole schedule fail with it
        // (each event gets about the window a webhook would); the next one goes on at once.
        this.#store.setDelivery(ep.id, event.seq, "failed", attempt, null);
        const windowMs = this.#deps.config.scheduleSeconds.reduce((a, b) => a + b, 0) * 1000;
        const n = this.#store.failQueuedOlderThan(ep.id, now - windowMs);
        for (let i = 0; i <= n; i++) this.#deps.countWebhook(event.model, false);
        goOn = true;
      }
    }
    this.#health(ep.id, ok, now);
    if (event.edit_id) {
      this.#deps.logAttempt(event.edit_id, {
        event_id: event.id,
        type: event.type,
        url: endpointRowUrl(ep.url, ep.id),
        attempt,
        status_code: result.status === 0 ? null : result.status,
        error: result.error,
        duration_ms: result.durationMs,
        at: now,
        next_attempt_at: nextAt,
        response: result.response,
      });
    }
    return goOn;
  }
}
