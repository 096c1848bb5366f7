import { DurableObject } from "cloudflare:workers";
import { getClient, liveSecrets } from "../clients/store";
import { type RelayConfig, readConfig } from "../config";
import { ApiError, type ErrorShape, toShape } from "../http/errors";
import { hubStub } from "../hub/name";
import { newId } from "../lib/ids";
import { errorMessage, log } from "../lib/log";
import { iso, mapLimit } from "../lib/time";
import { OxenClient } from "../oxen/client";
import { updateFromRest } from "../oxen/events";
import { Dispatcher } from "../webhooks/dispatcher";
import { type Delivery, toDelivery } from "./deliveries";
import { EventStreams } from "./event-stream";
import { type Snapshot, writeSnapshot } from "./kv";
import type { Edit, EditInput, WebhookSpec } from "./schema";
import {
  aggregateError,
  aggregateStatus,
  applyUpdate,
  type GenerationStatus,
  type GenerationUpdate,
  isTerminal,
  terminalEventType,
} from "./status";
import { EditStore } from "./store";

/**
 * How long the client's secrets, once read, sign without being read again. A rotation keeps the
 * old secret signing for 24 h, so a minute's lag in picking up the new one breaks no receiver.
 */
const SECRETS_FRESH_MS = 60_000;
/** KV allows one write per second per key; faster changes are coalesced. */
const KV_WRITE_INTERVAL_MS = 1_000;
/** While unfinished, the edit re-registers with the hub this often, in case the hub lost it. */
export const REGISTRATION_CHECK_MS = 5 * 60_000;
/** A registration that failed (or never ran) is tried again this soon. */
export const REGISTRATION_RETRY_MS = 5_000;

export interface CreateEditRequest {
  id: string;
  client_id: string;
  /** Hash of the normalised request, to tell a replay from a conflicting reuse of an Idempotency-Key. */
  fingerprint: string;
  model: string;
  input: EditInput;
  webhooks: WebhookSpec[];
  metadata: Record<string, string>;
  created_at: string;
  /** The client's live signing secrets as the route read them; spares a KV read on the first delivery. */
  secrets: string[];
}

export type EditResult = { ok: true; snapshot: Snapshot } | { ok: false; error: ErrorShape };

export interface Redelivery {
  event_id: string;
  type: string;
  urls: string[];
}

const fail = (e: ApiError): EditResult => ({ ok: false, error: toShape(e) });

/**
 * One edit: its authoritative state, its webhook outbox and its one alarm, which multiplexes
 * due deliveries, coalesced KV snapshot writes and a watchdog that re-registers with the hub.
 */
export class EditObject extends DurableObject<Env> {
  readonly #store: EditStore;
  readonly #config: RelayConfig;
  readonly #oxen: OxenClient;
  #dispatcher: Dispatcher | null = null;
  #creating: Promise<EditResult> | null = null;
  #secrets: { values: string[]; at: number } | null = null;
  readonly #terminalWaiters = new Set<() => void>();
  readonly #streams = new EventStreams();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#config = readConfig(env);
    this.#oxen = new OxenClient({ baseUrl: this.#config.oxenBaseUrl, apiKey: this.#config.oxenApiKey });
    // Tables are made only by create(): a read of an unknown id must not leave storage behind.
    this.#store = new EditStore(ctx.storage.sql);
    if (this.#store.exists()) {
      ctx.blockConcurrencyWhile(async () => {
        if (this.#dispatch.outbox.resumeInterrupted(Date.now()) > 0) await this.#schedule();
      });
    }
  }

  /**
   * Enqueues on Oxen once. A repeated or concurrent call with the same fingerprint returns the
   * same edit (that is how an Idempotency-Key race makes one Oxen job); another fingerprint is a 409.
   */
  async create(req: CreateEditRequest): Promise<EditResult> {
    if (this.#creating) await this.#creating;
    const existing = this.#store.load();
    if (existing) {
      if (this.#store.fingerprint() === req.fingerprint) {
        // A retry after the object died mid-create: finish what the first call could not.
        if (!isTerminal(existing.edit.status) && this.#store.getTime("registered_at") === null) {
          await this.#register(existing);
          return { ok: true, snapshot: this.#store.load() ?? existing };
        }
        return { ok: true, snapshot: existing };
      }
      return fail(
        new ApiError(
          409,
          "idempotency_conflict",
          "This Idempotency-Key was already used with a different request.",
        ),
      );
    }
    this.#creating = this.#create(req).finally(() => {
      this.#creating = null;
    });
    return this.#creating;
  }

  async get(): Promise<Snapshot | null> {
    return this.#store.load();
  }

  /** The edit once it is terminal, or as it stands after `timeoutMs`; waits on a signal, not a poll. */
  async waitTerminal(timeoutMs: number): Promise<Snapshot | null> {
    const snap = this.#store.load();
    if (!snap || isTerminal(snap.edit.status) || timeoutMs <= 0) return snap;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#terminalWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.#terminalWaiters.add(done);
    });
    return this.#store.load();
  }

  /** Applies what the hub learnt; idempotent, and stale or repeated updates change nothing. */
  async applyUpdates(updates: GenerationUpdate[]): Promise<void> {
    const snap = this.#store.load();
    if (!snap) return;
    let changed = false;
    const outputs = snap.edit.outputs.map((o) => {
      let current = o;
      for (const u of updates) {
        if (u.generation_id !== o.generation_id) continue;
        const next = applyUpdate(current, u);
        if (next) {
          current = next;
          changed = true;
        }
      }
      return current;
    });
    if (changed) await this.#commit(snap, outputs);
  }

  /**
   * Cancels every unfinished generation on Oxen. Oxen emits nothing for a cancel, so the edit
   * settles here and `edit.cancelled` goes out from here. A generation that finished first keeps
   * its real outcome.
   */
  async cancel(): Promise<EditResult> {
    const snap = this.#store.load();
    if (!snap) return fail(new ApiError(404, "not_found", "No edit with that id."));
    if (isTerminal(snap.edit.status)) return { ok: true, snapshot: snap };
    const pending = snap.edit.outputs.filter((o) => !isTerminal(o.status)).map((o) => o.generation_id);
    const outcomes = await mapLimit(pending, 4, async (id) => {
      const del = await this.#oxen.cancel(id);
      if (!del.ok) return { id, error: del.error };
      const got = await this.#oxen.getGeneration(id);
      const rest = got.ok && got.value ? updateFromRest(id, got.value) : null;
      const update: GenerationUpdate =
        rest && (rest.status === "succeeded" || rest.status === "failed")
          ? rest
          : { generation_id: id, status: "cancelled" };
      return { id, update };
    });
    const updates = outcomes.flatMap((o) => ("update" in o && o.update ? [o.update] : []));
    await this.applyUpdates(updates);
    try {
      await (await hubStub(this.env, this.#config)).forget(updates.map((u) => u.generation_id));
    } catch (e) {
      log("warn", "hub forget failed", { error: errorMessage(e) });
    }
    const failed = outcomes.find((o) => "error" in o && o.error);
    if (failed && "error" in failed && failed.error) return fail(failed.error);
    return { ok: true, snapshot: this.#store.load() ?? snap };
  }

  /** `GET /v1/edits/{id}/events`, served here so that it can stay open until the edit finishes. */
  override async fetch(request: Request): Promise<Response> {
    const snap = this.#store.load();
    if (!snap) return new Response(null, { status: 404 });
    const past = this.#dispatch.outbox.events();
    return this.#streams.response(past, isTerminal(snap.edit.status), request.headers.get("last-event-id"));
  }

  async deliveries(): Promise<Delivery[]> {
    if (!this.#store.exists()) return [];
    return this.#dispatch.outbox.attempts().map(toDelivery);
  }

  /** Sends the terminal event again to every URL it went to, under its original webhook-id. */
  async redeliver(): Promise<Redelivery | null> {
    const snap = this.#store.load();
    const type = snap ? terminalEventType(snap.edit.status) : null;
    if (!snap || !type) return null;
    const event = this.#dispatch.outbox.events().find((e) => e.type === type);
    if (!event) return null;
    const urls = this.#dispatch.outbox
      .rows()
      .filter((r) => r.event_id === event.event_id)
      .map((r) => r.url);
    this.#dispatch.outbox.requeue(event.event_id, Date.now());
    this.ctx.waitUntil(this.#deliverDue());
    await this.#schedule();
    return { event_id: event.event_id, type, urls };
  }

  /** Resets this object as the platform may at any moment (chaos runs only, via /_chaos/abort). */
  async abort(): Promise<void> {
    this.ctx.abort("chaos");
  }

  override async alarm(): Promise<void> {
    if (!this.#store.exists()) return;
    await this.#deliverDue();
    const snap = this.#store.load();
    if (!snap) return;
    if (this.#store.getTime("kv_dirty_since") !== null) await this.#publish(snap);
    const check = this.#store.getTime("registration_check_at");
    if (check !== null && check <= Date.now() && !isTerminal(snap.edit.status)) await this.#register(snap);
    await this.#schedule();
  }

  get #dispatch(): Dispatcher {
    this.#dispatcher ??= new Dispatcher(this.ctx.storage.sql, {
      timeoutMs: this.#config.webhookTimeoutMs,
      scheduleSeconds: this.#config.retryScheduleSeconds,
      allowPrivate: this.#config.allowPrivateWebhooks,
      editId: () => this.#store.load()?.edit.id,
      secrets: async () => {
        if (this.#secrets && Date.now() - this.#secrets.at < SECRETS_FRESH_MS) return this.#secrets.values;
        const clientId = this.#store.load()?.client_id;
        const client = clientId ? await getClient(this.env.EDITS, clientId) : null;
        const values = client ? liveSecrets(client) : [];
        this.#secrets = { values, at: Date.now() };
        return values;
      },
    });
    return this.#dispatcher;
  }

  async #create(req: CreateEditRequest): Promise<EditResult> {
    this.#secrets = { values: req.secrets, at: Date.now() };
    const hub = await hubStub(this.env, this.#config);
    // Subscribed before enqueueing: Oxen drops events nobody listens for. If the stream cannot
    // open in time we go on; the hub's REST reconciliation covers that gap.
    await hub.ensureConnected().catch((e) => log("warn", "hub not reachable", { error: errorMessage(e) }));
    const res = await this.#oxen.enqueue({ model: req.model, ...req.input });
    if (!res.ok) return fail(res.error);

    const outputs = res.value.map((g) => ({
      generation_id: g.generation_id,
      status: (g.status === "processing" ? "processing" : "queued") as GenerationStatus,
      url: null,
      error: null,
    }));
    const edit: Edit = {
      id: req.id,
      object: "edit",
      status: aggregateStatus(outputs),
      model: req.model,
      input: req.input,
      outputs,
      error: null,
      webhooks: req.webhooks,
      metadata: req.metadata,
      created_at: req.created_at,
      completed_at: null,
    };
    const snap: Snapshot = { client_id: req.client_id, edit };
    this.#store.migrate();
    this.#store.save(snap, req.fingerprint);
    // Armed with the save, before anything can fail: if the object dies before the hub knows the
    // generations, this alarm registers them. (No await between the writes: they commit together.)
    const watchdog = Date.now() + REGISTRATION_RETRY_MS;
    this.#store.setTime("registration_check_at", watchdog);
    await this.ctx.storage.setAlarm(watchdog);
    await this.#register(snap);
    const latest = this.#store.load() ?? snap;
    // The caller need not wait for KV: reads of an unfinished edit ask this object.
    this.#publishSoon(latest);
    await this.#schedule();
    return { ok: true, snapshot: latest };
  }

  /** Registers the unfinished generations with the hub and applies anything it already had. */
  async #register(snap: Snapshot): Promise<void> {
    this.#store.setTime("registration_check_at", Date.now() + REGISTRATION_CHECK_MS);
    const ids = snap.edit.outputs.filter((o) => !isTerminal(o.status)).map((o) => o.generation_id);
    if (ids.length === 0) return;
    try {
      const hub = await hubStub(this.env, this.#config);
      const early = await hub.register(snap.edit.id, ids);
      this.#store.setTime("registered_at", Date.now());
      if (early.length > 0) await this.applyUpdates(early);
    } catch (e) {
      // Retried soon by the alarm; until then the generations are only in this object.
      log("warn", "edit could not register with hub", { edit_id: snap.edit.id, error: errorMessage(e) });
      this.#store.setTime("registration_check_at", Date.now() + REGISTRATION_RETRY_MS);
    }
  }

  async #commit(snap: Snapshot, outputs: Edit["outputs"]): Promise<void> {
    const status = aggregateStatus(outputs);
    const now = Date.now();
    const edit: Edit = {
      ...snap.edit,
      outputs,
      status,
      error: aggregateError(outputs),
      completed_at: isTerminal(status) ? (snap.edit.completed_at ?? iso(now)) : null,
    };
    const next: Snapshot = { client_id: snap.client_id, edit };
    const type = terminalEventType(status);
    const becameTerminal = type !== null && !isTerminal(snap.edit.status);
    // One transaction: an edit is never terminal without its event in the outbox.
    const event =
      becameTerminal && type
        ? {
            event_id: newId("msg"),
            type,
            payload: JSON.stringify({ type, timestamp: iso(now), data: edit }),
            created_at: now,
          }
        : null;
    this.ctx.storage.transactionSync(() => {
      this.#store.save(next);
      if (event && type) {
        const urls = [...new Set(edit.webhooks.filter((w) => w.events.includes(type)).map((w) => w.url))];
        this.#dispatch.outbox.addEvent(event, urls);
      }
    });
    if (event) {
      this.#streams.publish(event, true);
      this.ctx.waitUntil(this.#deliverDue());
      for (const wake of [...this.#terminalWaiters]) wake();
    }
    this.#publishSoon(next);
    await this.#schedule();
  }

  #publishSoon(snap: Snapshot): void {
    this.ctx.waitUntil(this.#publish(snap).then(() => this.#schedule()));
  }

  /** Writes the KV snapshot, at most once a second; a write that must wait is left to the alarm. */
  async #publish(snap: Snapshot): Promise<void> {
    const now = Date.now();
    const last = this.#store.getTime("kv_written_at") ?? 0;
    if (now - last < KV_WRITE_INTERVAL_MS) {
      if (this.#store.getTime("kv_dirty_since") === null) this.#store.setTime("kv_dirty_since", now);
      return;
    }
    this.#store.setTime("kv_written_at", now);
    this.#store.setTime("kv_dirty_since", null);
    try {
      await writeSnapshot(this.env.EDITS, snap);
    } catch (e) {
      log("warn", "kv snapshot write failed", { edit_id: snap.edit.id, error: errorMessage(e) });
      this.#store.setTime("kv_dirty_since", now);
    }
  }

  async #deliverDue(): Promise<void> {
    await this.#dispatch.deliverDue();
    await this.#schedule();
  }

  /** The one alarm: the earliest of the next delivery, the KV flush and the hub watchdog. */
  async #schedule(): Promise<void> {
    const times: number[] = [];
    const due = this.#dispatch.outbox.nextDue();
    if (due !== null) times.push(due);
    if (this.#store.getTime("kv_dirty_since") !== null) {
      times.push((this.#store.getTime("kv_written_at") ?? 0) + KV_WRITE_INTERVAL_MS);
    }
    const snap = this.#store.load();
    const check = this.#store.getTime("registration_check_at");
    if (snap && !isTerminal(snap.edit.status) && check !== null) times.push(check);
    if (times.length === 0) {
      await this.ctx.storage.deleteAlarm();
      return;
    }
    const at = Math.min(...times);
    if ((await this.ctx.storage.getAlarm()) !== at) await this.ctx.storage.setAlarm(at);
  }
}
