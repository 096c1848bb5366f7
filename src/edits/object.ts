import { DurableObject } from "cloudflare:workers";
import { type RelayConfig, readConfig } from "../core/config";
import { type GenerationUpdate, isTerminal, type Output } from "../core/status";
import { hubStub } from "../hub/name";
import { AlarmSlot } from "../lib/alarm";
import { newId } from "../lib/ids";
import { Waiters } from "../lib/waiters";
import { OxenClient } from "../oxen/client";
import type { Dispatcher } from "../webhooks/dispatcher";
import type { AttemptRow } from "../webhooks/outbox";
import { cancelEdit, cancelQuietly } from "./cancellation";
import { copyOptions, OutputCopies, sortUpdates } from "./copies";
import { createOnce } from "./create";
import type { CreateEditRequest, EditResult, Redelivery } from "./creation";
import type { Delivery } from "./deliveries";
import { deliveryPage, newDispatcher, requeueLast } from "./delivery";
import { eraseEdit } from "./erasure";
import { closeStreamLease, EventStreams, serveEvents } from "./event-stream";
import type { Snapshot } from "./kv";
import { KvProjection } from "./projection";
import { forgetAtHub, registerWithHub } from "./registration";
import { SecretsCache } from "./secrets";
import { EditStore } from "./store";
import { nextAlarm } from "./timers";
import { mergeUpdates, subscribers, timedOut, transition } from "./transition";
import { reportUsage, timersOf } from "./usage";

/**
 * One edit: its authoritative state, its webhook outbox and its one alarm, which multiplexes
 * due deliveries, KV snapshot writes, the hub watchdog and the give-up deadline. The parts live
 * beside it (store, projection, registration, cancellation, recovery, transition, timers).
 */
export class EditObject extends DurableObject<Env> {
  readonly #store: EditStore;
  readonly #config: RelayConfig;
  readonly #oxen: OxenClient;
  #kv: KvProjection;
  #dispatcher: Dispatcher | null = null;
  readonly #copies: OutputCopies;
  #serial: Promise<unknown> = Promise.resolve();
  readonly #secrets: SecretsCache;
  readonly #terminalWaiters = new Waiters();
  readonly #streams = new EventStreams();
  readonly #alarm: AlarmSlot;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#config = readConfig(env);
    this.#oxen = new OxenClient({ baseUrl: this.#config.oxenBaseUrl, apiKey: this.#config.oxenApiKey });
    // Tables are made only by create(): a read of an unknown id must not leave storage behind.
    this.#store = new EditStore(ctx.storage);
    this.#kv = this.#projection();
    this.#secrets = new SecretsCache(env.CLIENT);
    this.#alarm = new AlarmSlot(ctx.storage);
    this.#copies = new OutputCopies(ctx.storage.sql);
    if (this.#store.exists()) {
      ctx.blockConcurrencyWhile(async () => {
        this.#store.migrate();
        if (this.#dispatch.outbox.resumeInterrupted(Date.now()) > 0) await this.#schedule();
      });
    }
  }

  /**
   * Enqueues on Oxen at most once, whatever the interleaving: calls run one at a time, the intent
   * is stored before Oxen is asked, and a call that finds an intent with no edit (the answer was
   * lost) looks for the job among Oxen's active ones before it would enqueue again.
   */
  create(req: CreateEditRequest): Promise<EditResult> {
    const run = this.#serial.then(() =>
      createOnce(
        {
          ctx: this.ctx,
          env: this.env,
          config: this.#config,
          store: this.#store,
          oxen: this.#oxen,
          warmSecrets: (clientId) => this.#secrets.warm(clientId),
          register: (snap) => this.#register(snap),
          applyUpdates: (updates) => this.applyUpdates(updates),
          publish: () => this.ctx.waitUntil(this.#kv.publish().then(() => this.#schedule())),
          schedule: () => this.#schedule(),
        },
        req,
      ),
    );
    this.#serial = run.catch(() => {});
    return run;
  }

  async get(): Promise<Snapshot | null> {
    return this.#store.load();
  }

  /** The edit once it is terminal, or as it stands after `timeoutMs`; waits on a signal, not a poll. */
  async waitTerminal(timeoutMs: number): Promise<Snapshot | null> {
    const snap = this.#store.load();
    if (!snap || isTerminal(snap.edit.status) || timeoutMs <= 0) return snap;
    await this.#terminalWaiters.wait(timeoutMs);
    return this.#store.load();
  }

  /**
   * Applies what the hub learnt; idempotent, and stale or repeated updates change nothing. A
   * success is held back until its output is copied into R2 (`#runCopies`), so that the
   * terminal event carries the relay's URL.
   */
  async applyUpdates(incoming: GenerationUpdate[]): Promise<void> {
    const snap = this.#store.load();
    if (!snap) return;
    const { now, later } = sortUpdates(
      snap.edit.outputs,
      incoming,
      () => this.#store.cancelled(),
      this.#config.persistOutputs,
    );
    for (const u of later) this.#copies.add(u.generation_id, u.url as string, Date.now());
    if (later.length > 0) this.ctx.waitUntil(this.#runCopies());
    const outputs = mergeUpdates(snap.edit.outputs, now);
    if (outputs) await this.#commit(snap, outputs);
    else if (later.length > 0) await this.#schedule();
  }

  /** Erases a terminal edit now: its files, its KV entries, its storage (pending deliveries too). */
  async erase(): Promise<{ ok: true } | { ok: false; reason: "not_found" | "not_terminal" }> {
    const snap = this.#store.load();
    if (!snap) return { ok: false, reason: "not_found" };
    if (!isTerminal(snap.edit.status)) return { ok: false, reason: "not_terminal" };
    await this.#erase(snap);
    return { ok: true };
  }

  /** Cancels every unfinished generation on Oxen (see edits/cancellation.ts `cancelEdit`). */
  async cancel(): Promise<EditResult> {
    return cancelEdit({
      store: this.#store,
      oxen: this.#oxen,
      forget: (ids) => forgetAtHub(this.env, this.#config, ids),
      register: (snap) => this.#register(snap),
      applyUpdates: (updates) => this.applyUpdates(updates),
      settleCopies: () => this.#runCopies(),
    });
  }

  /** `GET /v1/edits/{id}/events`, served here so that it can stay open until the edit finishes. */
  override async fetch(request: Request): Promise<Response> {
    const snap = this.#store.load();
    const past = () => (snap ? this.#dispatch.outbox.events() : []);
    return serveEvents(request, snap, this.#streams, past, (lease) => {
      if (snap) this.ctx.waitUntil(closeStreamLease(this.env, snap.client_id, lease));
    });
  }

  /** A page of the attempt log after `after` (an attempt's sequence number, the page cursor). */
  async deliveries(limit: number, after = 0): Promise<{ data: Delivery[]; next_cursor: string | null }> {
    return this.#store.exists()
      ? deliveryPage(this.#dispatch.outbox, limit, after)
      : { data: [], next_cursor: null };
  }

  /** Sends the terminal event again to every URL it went to, under its original webhook-id. */
  async redeliver(): Promise<Redelivery | null> {
    const snap = this.#store.load();
    const queued = snap && isTerminal(snap.edit.status) ? requeueLast(this.#dispatch.outbox) : null;
    if (queued) this.ctx.waitUntil(this.#deliverDue());
    await this.#schedule();
    return queued;
  }

  /** An attempt the client's object made for one of its endpoints, for this edit's `/deliveries`. */
  async recordAttempt(attempt: AttemptRow): Promise<void> {
    if (this.#store.load()) this.#dispatch.outbox.attemptLog.add(attempt);
  }

  /** Forgets what this instance read from storage, for storage changed from outside it (tests). */
  dropCaches(): void {
    this.#store.invalidate();
    this.#alarm.forget();
  }

  /** Resets this object as the platform may at any moment (chaos runs only, via /_chaos/abort). */
  async abort(): Promise<void> {
    this.ctx.abort("chaos");
  }

  override async alarm(): Promise<void> {
    this.#alarm.forget();
    if (!this.#store.exists()) return;
    await this.#deliverDue();
    const snap = this.#store.load();
    if (!snap) return;
    const terminal = isTerminal(snap.edit.status);
    if (terminal && this.#store.due("erase_at", Date.now())) return this.#erase(snap);
    await this.#runCopies();
    await this.#kv.publish();
    if (terminal && (await this.#report(snap))) await this.#dispatch.deliverDue();
    else if (this.#store.due("deadline_at", Date.now())) await this.#giveUp(snap);
    else if (this.#store.due("registration_check_at", Date.now())) await this.#register(snap);
    await this.#schedule();
  }

  /** KV keeps a terminal snapshot for its retention and a day, as a backstop to erasure. */
  #projection(): KvProjection {
    return new KvProjection(this.#store, this.env.EDITS, this.#config.retentionSeconds + 86_400);
  }

  /** Usage and the event to the client's object (usage.ts); true when endpoint rows were added. */
  #report(snap: Snapshot): Promise<boolean> {
    return reportUsage(this.#store, snap, this.env.CLIENT, this.#dispatch.outbox);
  }

  get #dispatch(): Dispatcher {
    this.#dispatcher ??= newDispatcher(this.ctx, this.env, this.#config, this.#store, this.#secrets);
    return this.#dispatcher;
  }

  async #register(snap: Snapshot): Promise<void> {
    await registerWithHub(
      this.#store,
      snap,
      () => hubStub(this.env, this.#config),
      (early) => this.applyUpdates(early),
    );
  }

  /** MAX_EDIT_SECONDS passed: the edit fails with `timeout`, and Oxen is asked to stop charging. */
  async #giveUp(snap: Snapshot): Promise<void> {
    const pending = snap.edit.outputs.filter((o) => !isTerminal(o.status)).map((o) => o.generation_id);
    await this.#commit(snap, timedOut(snap.edit.outputs, this.#config.maxEditSeconds), "timeout");
    this.ctx.waitUntil(
      cancelQuietly(this.#oxen, pending).then(() => forgetAtHub(this.env, this.#config, pending)),
    );
  }

  async #commit(snap: Snapshot, outputs: Output[], errorType?: string): Promise<void> {
    const { next, event } = transition(snap, outputs, Date.now(), newId("msg"), { errorType });
    // One transaction: an edit is never terminal without its event in the outbox.
    this.#store.transaction(() => {
      this.#store.save(next);
      if (event) {
        this.#dispatch.outbox.addEvent(event, subscribers(next.edit, event.type));
        this.#store.set("erase_at", Date.now() + this.#config.retentionSeconds * 1000);
      }
    });
    if (event) {
      this.#streams.publish(event, true);
      this.#terminalWaiters.wakeAll();
      // KV first (at once, not coalesced), so a list read after the webhook shows the outcome.
      const kv = this.#kv.publish({ urgent: true });
      this.ctx.waitUntil(kv.then(() => this.#deliverDue()));
      // The client's endpoints too only after KV has the outcome.
      this.ctx.waitUntil(
        Promise.all([kv, this.#report(next)]).then(([, added]) =>
          added ? this.#deliverDue() : this.#schedule(),
        ),
      );
    } else this.ctx.waitUntil(this.#kv.publish().then(() => this.#schedule()));
    await this.#schedule();
  }

  /** Runs due copies; runs are chained, so awaiting one waits for any already under way. */
  #runCopies(): Promise<void> {
    return this.#copies.settleDue(
      () => copyOptions(this.env, this.#config, this.#store),
      (settled) => (settled.length > 0 ? this.applyUpdates(settled) : this.#schedule()),
    );
  }

  async #erase(snap: Snapshot): Promise<void> {
    await eraseEdit(this.ctx, this.env, snap, {
      // Its usage first (an erase soon after the end may come before the report).
      report: () => this.#report(snap),
      projection: this.#kv,
    });
    this.#streams.endAll();
    this.#store.reset();
    this.#alarm.forget();
    // A new projection for a new edit under this id (an Idempotency-Key used again); the old one stays stopped.
    this.#kv = this.#projection();
    this.#dispatcher = null;
  }

  async #deliverDue(): Promise<void> {
    if (!this.#store.exists()) return;
    // An erasure that ran meanwhile took the tables: nothing is left to deliver.
    await this.#dispatch.deliverDue().catch((e) => {
      if (this.#store.exists()) throw e;
    });
    await this.#schedule();
  }

  /** The one alarm: the earliest of the next delivery, the KV flush, the hub watchdog and the deadline. */
  async #schedule(): Promise<void> {
    const due = this.#store.exists() ? [this.#dispatch.outbox.nextDue(), this.#copies.nextDue()] : [];
    await this.#alarm.set(nextAlarm(timersOf(this.#store, { due, kvDirty: this.#kv.dirty() })));
  }
}

export type { CreateEditRequest, EditFailure, EditResult, Redelivery } from "./creation";
