import { DurableObject } from "cloudflare:workers";
import { getClient, liveSecrets } from "../clients/store";
import { type RelayConfig, readConfig } from "../config";
import { type ErrorShape, toShape } from "../http/errors";
import { hubStub } from "../hub/name";
import { newId } from "../lib/ids";
import { errorMessage, log } from "../lib/log";
import { iso } from "../lib/time";
import { OxenClient } from "../oxen/client";
import { Outbox, type OutboxRow } from "../webhooks/outbox";
import { nextStep } from "../webhooks/retry";
import { sendWebhook } from "../webhooks/send";
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

/** KV allows one write per second per key; faster changes are coalesced. */
const KV_WRITE_INTERVAL_MS = 1_000;
/** While unfinished, the edit re-registers with the hub this often, in case the hub lost it. */
export const REGISTRATION_CHECK_MS = 5 * 60_000;
/** An attempt's lease beyond its timeout: if the object dies mid-request, the retry waits this. */
const LEASE_MARGIN_MS = 30_000;

export interface CreateEditRequest {
  id: string;
  client_id: string;
  model: string;
  input: EditInput;
  webhooks: WebhookSpec[];
  metadata: Record<string, string>;
  created_at: string;
}

export type CreateEditResult = { ok: true; snapshot: Snapshot } | { ok: false; error: ErrorShape };

/**
 * One edit: its authoritative state, its webhook outbox and its one alarm, which multiplexes
 * due deliveries, coalesced KV snapshot writes and a watchdog that re-registers with the hub.
 */
export class EditObject extends DurableObject<Env> {
  readonly #store: EditStore;
  #outbox: Outbox | null = null;
  readonly #config: RelayConfig;
  readonly #inflight = new Set<string>();
  #creating: Promise<CreateEditResult> | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // Tables are made only by create(): a read of an unknown id must not leave storage behind.
    this.#store = new EditStore(ctx.storage.sql);
    this.#config = readConfig(env);
  }

  /** Enqueues on Oxen once; a repeated or concurrent call returns the same edit. */
  async create(req: CreateEditRequest): Promise<CreateEditResult> {
    const existing = this.#store.load();
    if (existing) return { ok: true, snapshot: existing };
    this.#creating ??= this.#create(req).finally(() => {
      this.#creating = null;
    });
    return this.#creating;
  }

  async get(): Promise<Snapshot | null> {
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
    if (!changed) return;
    await this.#commit(snap, outputs);
  }

  override async alarm(): Promise<void> {
    if (!this.#store.exists()) return;
    await this.#deliverDue();
    const snap = this.#store.load();
    if (!snap) return;
    const now = Date.now();
    if (this.#store.getTime("kv_dirty_since") !== null) await this.#publish(snap);
    const check = this.#store.getTime("registration_check_at");
    if (check !== null && check <= now && !isTerminal(snap.edit.status)) {
      await this.#register(snap);
    }
    await this.#schedule();
  }

  get #box(): Outbox {
    this.#outbox ??= new Outbox(this.ctx.storage.sql);
    return this.#outbox;
  }

  async #create(req: CreateEditRequest): Promise<CreateEditResult> {
    const hub = await hubStub(this.env, this.#config);
    // Subscribed before enqueueing: Oxen drops events nobody listens for. If the stream cannot
    // open in time we go on; the hub's REST reconciliation covers that gap.
    await hub.ensureConnected().catch((e) => log("warn", "hub not reachable", { error: errorMessage(e) }));
    const oxen = new OxenClient({ baseUrl: this.#config.oxenBaseUrl, apiKey: this.#config.oxenApiKey });
    const res = await oxen.enqueue({ model: req.model, ...req.input });
    if (!res.ok) return { ok: false, error: toShape(res.error) };

    const edit: Edit = {
      id: req.id,
      object: "edit",
      status: "queued",
      model: req.model,
      input: req.input,
      outputs: res.value.map((g) => ({
        generation_id: g.generation_id,
        status: (g.status === "processing" ? "processing" : "queued") as GenerationStatus,
        url: null,
        error: null,
      })),
      error: null,
      webhooks: req.webhooks,
      metadata: req.metadata,
      created_at: req.created_at,
      completed_at: null,
    };
    edit.status = aggregateStatus(edit.outputs);
    const snap: Snapshot = { client_id: req.client_id, edit };
    this.#store.migrate();
    this.#store.save(snap);
    await this.#register(snap);
    const latest = this.#store.load() ?? snap;
    await this.#publish(latest);
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
      if (early.length > 0) await this.applyUpdates(early);
    } catch (e) {
      // Retried soon by the alarm; until then the generations are only in this object.
      log("warn", "edit could not register with hub", { edit_id: snap.edit.id, error: errorMessage(e) });
      this.#store.setTime("registration_check_at", Date.now() + 5_000);
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
    this.#store.save(next);
    const type = terminalEventType(status);
    if (type && !isTerminal(snap.edit.status)) {
      const urls = edit.webhooks.filter((w) => w.events.includes(type)).map((w) => w.url);
      const payload = JSON.stringify({ type, timestamp: iso(now), data: edit });
      this.#box.addEvent({ event_id: newId("msg"), type, payload, created_at: now }, [...new Set(urls)]);
      this.ctx.waitUntil(this.#deliverDue());
    }
    await this.#publish(next);
    await this.#schedule();
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

  async #schedule(): Promise<void> {
    const times: number[] = [];
    const due = this.#box.nextDue();
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
    const current = await this.ctx.storage.getAlarm();
    if (current !== at) await this.ctx.storage.setAlarm(at);
  }

  async #deliverDue(): Promise<void> {
    const due = this.#box.due(Date.now()).filter((r) => !this.#inflight.has(`${r.event_id} ${r.url}`));
    if (due.length === 0) return;
    await Promise.all(due.map((row) => this.#attempt(row)));
    await this.#schedule();
  }

  async #attempt(row: OutboxRow): Promise<void> {
    const key = `${row.event_id} ${row.url}`;
    this.#inflight.add(key);
    try {
      const event = this.#box.event(row.event_id);
      const snap = this.#store.load();
      if (!event || !snap) return;
      const attempt = this.#box.begin(row, Date.now() + this.#config.webhookTimeoutMs + LEASE_MARGIN_MS);
      await this.#schedule();
      const client = await getClient(this.env.EDITS, snap.client_id);
      const secrets = client ? liveSecrets(client) : [];
      const result =
        secrets.length === 0
          ? { status: 0, error: "the client no longer exists", durationMs: 0, retryAfter: null }
          : await sendWebhook({
              url: row.url,
              eventId: row.event_id,
              body: event.payload,
              secrets,
              timeoutMs: this.#config.webhookTimeoutMs,
            });
      const now = Date.now();
      const outcome = nextStep(
        attempt,
        result.status,
        result.retryAfter,
        this.#config.retryScheduleSeconds,
        now,
      );
      this.#box.finish(row, event.type, attempt, result, outcome, now);
    } finally {
      this.#inflight.delete(key);
    }
  }
}
