import { newId } from "../lib/ids";
import { nextStep } from "../webhooks/retry";
import type { AttemptResult } from "../webhooks/send";
import { Backlog, type EndpointsDeps } from "./backlog";
import { EventLog } from "./event-log";
import {
  afterEndpointAttempt,
  DIRECT_LEASE_MS,
  type EndpointEventType,
  type EndpointRow,
  type EndpointView,
  endpointView,
  MAX_ENDPOINTS,
  normaliseEvents,
  subscribes,
} from "./policy";
import { EndpointStore } from "./store";

export type { EndpointsConfig, EndpointsDeps } from "./backlog";

export interface EndpointInput {
  url: string;
  events?: readonly string[];
  description?: string | null;
}

export interface EndpointPatch extends Partial<EndpointInput> {
  status?: "active" | "paused";
}

/** An event as an edit object hands it over: the webhook body it sent, under its webhook-id. */
export interface EventRecord {
  id: string;
  type: string;
  payload: string;
  created_at: number;
  edit_id: string | null;
  model: string | null;
}

/** Where an edit object sends an event's first attempt itself (spread over edits, not funnelled here). */
export interface DirectTarget {
  endpoint_id: string;
  url: string;
}

/**
 * A client's endpoints (the client object holds this). Healthy endpoints get each event's first
 * attempt from the edit's own object, so a burst is spread over as many objects as edits; an
 * endpoint that fails, is paused or disabled gets a backlog here, sent strictly in order, one
 * event at a time, with the webhook retry schedule on its oldest event. Nothing is dropped:
 * events wait in the backlog (held while not active) until delivered or, their retries spent,
 * `failed`, which recovery and a disable put back in line.
 */
export class Endpoints {
  readonly store: EndpointStore;
  readonly log: EventLog;
  readonly #deps: EndpointsDeps;
  readonly #backlog: Backlog;
  /** Something was queued outside a backlog's own flow (a disable's notice): the alarm must be re-armed. */
  #rearm = false;

  constructor(sql: SqlStorage, deps: EndpointsDeps) {
    this.store = new EndpointStore(sql);
    this.log = new EventLog(sql);
    this.#backlog = new Backlog(this.store, this.log, deps, (id, ok, now) => this.#health(id, ok, now));
    this.#deps = deps;
  }

  view(row: EndpointRow, now: number): EndpointView {
    return endpointView(row, this.store.stats(row.id, now), this.store.pending(row.id));
  }

  create(input: EndpointInput, now: number): EndpointView | "limit" {
    if (this.store.count() >= MAX_ENDPOINTS) return "limit";
    const row: EndpointRow = {
      id: newId("ep"),
      url: input.url,
      events: JSON.stringify(normaliseEvents(input.events)),
      description: input.description ?? null,
      status: "active",
      created_at: now,
      updated_at: now,
      last_attempt_at: null,
      last_success_at: null,
      failing_since: null,
    };
    this.store.insertEndpoint(row);
    return this.view(row, now);
  }

  list(now: number): EndpointView[] {
    return this.store.endpoints().map((r) => this.view(r, now));
  }

  get(id: string, now: number): EndpointView | null {
    const row = this.store.endpoint(id);
    return row ? this.view(row, now) : null;
  }

  /** A change; back to `active` starts a clean slate (no failing streak) and flushes what was held. */
  update(id: string, patch: EndpointPatch, now: number): EndpointView | null {
    const row = this.store.endpoint(id);
    if (!row) return null;
    const reactivated = patch.status === "active" && row.status !== "active";
    this.store.updateEndpoint(
      id,
      {
        ...(patch.url !== undefined ? { url: patch.url } : {}),
        ...(patch.events !== undefined ? { events: JSON.stringify(normaliseEvents(patch.events)) } : {}),
        ...(patch.description !== undefined ? { description: patch.description } : {}),
        ...(patch.status !== undefined ? { status: patch.status } : {}),
        ...(reactivated ? { failing_since: null } : {}),
      },
      now,
    );
    if (reactivated) this.store.wakeQueued(id, now);
    return this.get(id, now);
  }

  remove(id: string): boolean {
    if (!this.store.endpoint(id)) return false;
    this.store.deleteEndpoint(id);
    return true;
  }

  /**
   * Logs an event once and decides, per subscribed endpoint, who sends it: the edit's object
   * (active, nothing queued before it) or this backlog (failing, paused, disabled: in order).
   * A repeated call (the edit's answer was lost) changes nothing and names the same targets.
   */
  append(e: EventRecord, now: number): { direct: DirectTarget[]; queued: boolean } {
    if (e.edit_id && this.log.isForgotten(e.edit_id)) return { direct: [], queued: false };
    const fresh = this.log.append({ ...e });
    const seq = fresh ?? this.log.seqOf(e.id);
    if (seq === null) return { direct: [], queued: false };
    let queued = false;
    if (fresh !== null) {
      for (const ep of this.store.endpoints()) {
        if (!subscribes(ep, e.type)) continue;
        const direct = ep.status === "active" && !this.store.hasBacklog(ep.id);
        queued ||= !direct;
        this.store.addDelivery(ep.id, seq, direct ? "direct" : "queued", now);
      }
    }
    const direct = this.store
      .deliveriesOf(seq)
      .filter((d) => d.state === "direct")
      .flatMap((d) => {
        const ep = this.store.endpoint(d.endpoint_id);
        return ep ? [{ endpoint_id: ep.id, url: ep.url }] : [];
      });
    return { direct, queued };
  }

  /**
   * What an edit object's attempt for an endpoint came to. Delivered, or the event joins the
   * endpoint's backlog with the retry schedule going on from there. A redelivery is one attempt:
   * it changes health, and marks the event delivered if it was, nothing else. Returns the next
   * attempt's time, for the edit's log.
   */
  report(
    endpointId: string,
    eventId: string,
    result: AttemptResult,
    redelivery: boolean,
    now: number,
  ): number | null {
    const row = this.store.deliveryOf(endpointId, eventId);
    if (!row) return null;
    const { seq, model } = row;
    const ok = result.status >= 200 && result.status < 300;
    this.#health(endpointId, ok, now);
    if (ok) {
      if (row.state !== "delivered") this.#deps.countWebhook(model, true);
      this.store.setDelivery(endpointId, seq, "delivered", row.attempts + 1, null);
      return null;
    }
    if (redelivery || row.state !== "direct") return row.state === "queued" ? row.next_at : null;
    const outcome = nextStep(1, result.status, result.retryAfter, this.#deps.config.scheduleSeconds, now);
    if (outcome.kind === "retry") {
      this.store.setDelivery(endpointId, seq, "queued", 1, outcome.at);
      return outcome.at;
    }
    this.store.setDelivery(endpointId, seq, "failed", 1, null);
    this.#deps.countWebhook(model, false);
    return null;
  }

  /** Sends what the backlogs have due: each active endpoint's oldest events, in order (backlog.ts). */
  deliverDue(now: number): Promise<void> {
    return this.#backlog.deliverDue(now);
  }

  #health(endpointId: string, ok: boolean, now: number): void {
    const ep = this.store.endpoint(endpointId);
    if (!ep) return;
    const next = afterEndpointAttempt(ep.failing_since, ok, now, this.#deps.config.disableAfterSeconds);
    this.store.recordAttempt(endpointId, ok, now, next.failingSince);
    if (next.disable && ep.status === "active") this.#disable(ep, now);
  }

  /**
   * Failing for the whole window: the endpoint stops being called and holds everything not
   * delivered (failed events too), and the client's other endpoints hear of it.
   */
  #disable(ep: EndpointRow, now: number): void {
    this.#rearm = true;
    this.store.setStatus(ep.id, "disabled", now);
    this.store.requeueFailed(ep.id, 0, now);
    const full = this.get(ep.id, now) as EndpointView;
    // Its URL as an origin only: the notice goes to other receivers, and URLs may hold tokens.
    const view = { ...full, url: new URL(full.url).origin };
    const type: EndpointEventType = "endpoint.disabled";
    const id = newId("msg");
    const seq = this.log.append({
      id,
      type,
      edit_id: null,
      model: null,
      payload: JSON.stringify({ type, timestamp: new Date(now).toISOString(), data: view }),
      created_at: now,
    });
    if (seq === null) return;
    for (const other of this.store.endpoints()) {
      if (other.id !== ep.id && other.status === "active" && subscribes(other, type)) {
        this.store.addDelivery(other.id, seq, "queued", now);
      }
    }
  }

  /** Every event since `sinceMs` this endpoint has not acknowledged goes out again, in order. */
  recover(id: string, sinceMs: number, now: number): number | null {
    if (!this.store.endpoint(id)) return null;
    this.store.requeueFailed(id, sinceMs, now);
    this.store.wakeQueued(id, now);
    return this.store.unacknowledgedSince(id, sinceMs);
  }

  /** A page of the log, oldest first. `after`: an event id (the cursor); unknown ids are "not found". */
  events(
    after: string | undefined,
    type: string | undefined,
    limit: number,
  ): {
    data: { id: string; type: string; timestamp: string; data: unknown }[];
    next_cursor: string | null;
  } | null {
    const afterSeq = after ? this.log.seqOf(after) : 0;
    if (afterSeq === null) return null;
    const rows = this.log.page(afterSeq, type, limit + 1);
    const page = rows.slice(0, limit).map((r) => {
      const body = JSON.parse(r.payload as string) as { type: string; timestamp: string; data: unknown };
      return { id: r.id, type: body.type, timestamp: body.timestamp, data: body.data };
    });
    return { data: page, next_cursor: rows.length > limit ? (page.at(-1)?.id ?? null) : null };
  }

  /** Whether the alarm must be recomputed since the last call (see `#rearm`). */
  takeRearm(): boolean {
    const r = this.#rearm;
    this.#rearm = false;
    return r;
  }

  forgetEdit(editId: string, now: number): void {
    this.log.forgetEdit(editId, now);
  }

  /** Retention: events (and their delivery rows) older than RETENTION_SECONDS go. */
  sweep(now: number): void {
    this.log.expire(now - this.#deps.config.retentionSeconds * 1000);
    this.store.expireStats(now);
  }

  /** The earliest of: a due backlog head, an unreported first attempt to reclaim, the next expiry. */
  nextDue(): number | null {
    const times = [
      // An endpoint being drained has its head leased; the drain re-arms when it ends.
      ...this.store
        .heads()
        .filter((h) => !this.#backlog.draining(h.endpoint_id))
        .map((h) => h.next_at),
      ((d) => (d === null ? null : d + DIRECT_LEASE_MS + 1))(this.store.oldestDirect()),
      ((t) => (t === null ? null : t + this.#deps.config.retentionSeconds * 1000 + 1))(
        this.log.oldestEvent(),
      ),
    ].filter((t): t is number => t !== null);
    return times.length > 0 ? Math.min(...times) : null;
  }
}
