import { DurableObject } from "cloudflare:workers";
import { readConfig } from "../core/config";
import { type GenerationUpdate, isTerminal } from "../core/status";
import { errorMessage, log } from "../lib/log";
import { sleep } from "../lib/time";
import { Waiters } from "../lib/waiters";
import { OxenClient } from "../oxen/client";
import { readCompletions } from "../oxen/stream";
import { afterStreamEnd } from "./backoff";
import { reconcilePass } from "./reconcile";
import { HubStore } from "./store";
import { isSilent, STREAM_CHECK_MS } from "./watchdog";

/** Heartbeat of the one alarm: restarts a dead stream, reconciles, prunes. */
export const HEARTBEAT_MS = 30_000;
/** A completion for an id nobody registered is kept this long (a fast job beats its registration). */
export const ORPHAN_TTL_MS = 15 * 60_000;
/** With nothing outstanding the stream stays open this long, so the next edit finds it ready. */
export const IDLE_CLOSE_MS = 5 * 60_000;

export interface HubStatus {
  connected: boolean;
  last_event_at: string | null;
  outstanding: number;
}

/**
 * Holds the account's one Oxen event stream and routes each completion to its edit's object.
 * The stream is only a hint: everything it must not lose is in SQLite, and REST is asked after
 * every (re)connect and on each heartbeat. An open outbound fetch is not assumed to keep the
 * object alive (the alarm brings the stream back after an eviction), nor an open stream assumed
 * to be alive: Oxen writes a keep-alive every 15 s, so a stream silent for longer is dropped.
 */
export class Hub extends DurableObject<Env> {
  #store!: HubStore;
  readonly #oxen: OxenClient;
  #stream: AbortController | null = null;
  #session: { ac: AbortController; openedAt: number | null; lastByteAt: number } | null = null;
  #connected = false;
  readonly #waiters = new Waiters();
  #lastEventAt: number | null = null;
  #lastActivity = Date.now();
  #reconciling: Promise<void> | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const config = readConfig(env);
    this.#oxen = new OxenClient({ baseUrl: config.oxenBaseUrl, apiKey: config.oxenApiKey });
    ctx.blockConcurrencyWhile(async () => {
      this.#store = new HubStore(ctx.storage);
    });
  }

  /** Starts the stream if needed and waits (bounded) until it is open. */
  async ensureConnected(timeoutMs = 3_000): Promise<boolean> {
    this.#lastActivity = Date.now();
    this.#startStream();
    await this.#armHeartbeat();
    if (this.#connected) return true;
    await this.#waiters.wait(timeoutMs);
    return this.#connected;
  }

  /**
   * Records an edit's generations; returns completions that arrived before this call. The hub
   * keeps them until the edit, having applied them, calls `forget`.
   */
  async register(editId: string, generationIds: string[]): Promise<GenerationUpdate[]> {
    this.#lastActivity = Date.now();
    const early = this.#store.register(editId, generationIds, Date.now());
    this.#startStream();
    await this.#armHeartbeat();
    return early;
  }

  /** Stops watching generations whose outcome the edit has (early completions, a cancel, a timeout). */
  async forget(generationIds: string[]): Promise<void> {
    for (const id of generationIds) this.#store.settle(id);
  }

  async status(): Promise<HubStatus> {
    return {
      connected: this.#connected,
      last_event_at: this.#lastEventAt ? new Date(this.#lastEventAt).toISOString() : null,
      outstanding: this.#store.counts().outstanding,
    };
  }

  /** Runs one reconciliation pass now (also used by tests and the heartbeat). */
  async reconcile(): Promise<void> {
    if (!this.#reconciling) {
      this.#reconciling = reconcilePass(this.#store, this.#oxen, (editId, update) =>
        this.#forward(editId, update),
      ).finally(() => {
        this.#reconciling = null;
      });
    }
    return this.#reconciling;
  }

  /**
   * Drops the current stream session if it never opened or has gone silent (a half-open
   * connection writes nothing, not even keep-alives); the stream loop reconnects and reconciles.
   * Runs every few seconds; `now` is a parameter so tests can look into the future.
   */
  async checkStream(now = Date.now()): Promise<boolean> {
    const s = this.#session;
    if (!s || !isSilent(s, now)) return false;
    log("warn", s.openedAt === null ? "hub stream did not open in time" : "hub stream went silent", {
      silent_ms: now - s.lastByteAt,
    });
    this.#setConnected(false);
    s.ac.abort(new Error("stream silent"));
    return true;
  }

  /** Resets this object as the platform may at any moment (chaos runs only, via /_chaos/abort). */
  async abort(): Promise<void> {
    this.ctx.abort("chaos");
  }

  override async alarm(): Promise<void> {
    const now = Date.now();
    this.#store.pruneOrphans(now - ORPHAN_TTL_MS);
    const { outstanding, orphans } = this.#store.counts();
    await this.checkStream(now);
    if (outstanding > 0) {
      this.#lastActivity = now;
      this.#startStream();
      await this.reconcile();
    } else if (this.#stream && now - this.#lastActivity > IDLE_CLOSE_MS) {
      this.#stream.abort();
      this.#stream = null;
    }
    if (outstanding > 0 || orphans > 0 || this.#stream) {
      await this.ctx.storage.setAlarm(Date.now() + HEARTBEAT_MS);
    }
  }

  async #armHeartbeat(): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null) await this.ctx.storage.setAlarm(Date.now() + HEARTBEAT_MS);
  }

  #startStream(): void {
    if (this.#stream) return;
    const ac = new AbortController();
    this.#stream = ac;
    const watchdog = setInterval(() => void this.checkStream(), STREAM_CHECK_MS);
    this.ctx.waitUntil(
      this.#runStream(ac).finally(() => {
        clearInterval(watchdog);
        if (this.#stream === ac) this.#stream = null;
      }),
    );
  }

  #setConnected(value: boolean): void {
    this.#connected = value;
    if (value) this.#waiters.wakeAll();
  }

  async #runStream(ac: AbortController): Promise<void> {
    let failures = 0;
    while (!ac.signal.aborted) {
      const session = { ac: new AbortController(), openedAt: null as number | null, lastByteAt: Date.now() };
      const stop = () => session.ac.abort();
      ac.signal.addEventListener("abort", stop);
      this.#session = session;
      let events = 0;
      try {
        const res = await this.#oxen.openEvents(session.ac.signal);
        if (!res.ok || !res.body) {
          await res.body?.cancel();
          throw new Error(`event stream answered HTTP ${res.status}`);
        }
        session.openedAt = session.lastByteAt = Date.now();
        this.#setConnected(true);
        log("info", "hub stream connected");
        // Whatever finished while nobody listened is only learnt over REST.
        void this.reconcile();
        await readCompletions(
          res.body,
          (update) => {
            events++;
            void this.#onCompletion(update);
          },
          () => {
            session.lastByteAt = Date.now();
          },
        );
        log("warn", "hub stream ended by Oxen");
      } catch (e) {
        if (!ac.signal.aborted) log("warn", "hub stream failed", { error: errorMessage(e), failures });
      } finally {
        ac.signal.removeEventListener("abort", stop);
        if (this.#session === session) this.#session = null;
      }
      this.#setConnected(false);
      if (ac.signal.aborted) break;
      const openedAt = session.openedAt;
      const next = afterStreamEnd(failures, openedAt === null ? null : { ms: Date.now() - openedAt, events });
      failures = next.failures;
      if (next.delayMs > 0) await sleep(next.delayMs);
    }
  }

  async #onCompletion(update: GenerationUpdate): Promise<void> {
    this.#lastEventAt = Date.now();
    const editId = this.#store.editFor(update.generation_id);
    if (!editId) {
      this.#store.keepOrphan(update, Date.now());
      return;
    }
    await this.#forward(editId, update);
  }

  /** Hands an update to its edit; a terminal one is forgotten only once the edit has it. */
  async #forward(editId: string, update: GenerationUpdate): Promise<void> {
    try {
      await this.env.EDIT.getByName(editId).applyUpdates([update]);
      if (isTerminal(update.status)) this.#store.settle(update.generation_id);
      else this.#store.noteStatus(update.generation_id, update.status);
    } catch (e) {
      // Left outstanding: the next reconciliation delivers it again.
      log("warn", "hub could not reach edit", { edit_id: editId, error: errorMessage(e) });
    }
  }
}
