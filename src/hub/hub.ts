import { DurableObject } from "cloudflare:workers";
import { readConfig } from "../config";
import { type GenerationUpdate, isTerminal } from "../edits/status";
import { errorMessage, log } from "../lib/log";
import { mapLimit, sleep } from "../lib/time";
import { OxenClient } from "../oxen/client";
import { updateFromRest } from "../oxen/events";
import { readCompletions } from "../oxen/stream";
import { afterStreamEnd } from "./backoff";
import { HubStore } from "./store";

/** Heartbeat of the one alarm: restarts a dead stream, reconciles, prunes. */
export const HEARTBEAT_MS = 30_000;
/** A completion for an id nobody registered is kept this long (a fast job beats its registration). */
export const ORPHAN_TTL_MS = 15 * 60_000;
/** With nothing outstanding the stream stays open this long, so the next edit finds it ready. */
export const IDLE_CLOSE_MS = 5 * 60_000;
/** Oxen may answer 404 for a generation it has only just accepted; only older ones count as gone. */
export const GONE_GRACE_MS = 30_000;
/** A Durable Object has about six outbound connections waiting for headers at once. */
const REST_CONCURRENCY = 6;

export interface HubStatus {
  connected: boolean;
  last_event_at: string | null;
  outstanding: number;
}

/**
 * Holds the account's one Oxen event stream and routes each completion to its edit's object.
 * The stream is only a hint: everything it must not lose is in SQLite, and REST is asked after
 * every (re)connect and on each heartbeat. An open outbound fetch is not assumed to keep the
 * object alive; the alarm brings the stream back after an eviction.
 */
export class Hub extends DurableObject<Env> {
  readonly #store: HubStore;
  readonly #oxen: OxenClient;
  #stream: AbortController | null = null;
  #connected = false;
  #waiters = new Set<() => void>();
  #lastEventAt: number | null = null;
  #lastActivity = Date.now();
  #reconciling: Promise<void> | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const config = readConfig(env);
    this.#store = new HubStore(ctx.storage.sql);
    this.#oxen = new OxenClient({ baseUrl: config.oxenBaseUrl, apiKey: config.oxenApiKey });
  }

  /** Starts the stream if needed and waits (bounded) until it is open. */
  async ensureConnected(timeoutMs = 3_000): Promise<boolean> {
    this.#lastActivity = Date.now();
    this.#startStream();
    await this.#armHeartbeat();
    if (this.#connected) return true;
    return new Promise<boolean>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve(this.#connected);
      };
      const timer = setTimeout(done, timeoutMs);
      this.#waiters.add(done);
    });
  }

  /** Records an edit's generations; returns completions that arrived before this call. */
  async register(editId: string, generationIds: string[]): Promise<GenerationUpdate[]> {
    this.#lastActivity = Date.now();
    const early = this.#store.register(editId, generationIds, Date.now());
    for (const u of early) if (isTerminal(u.status)) this.#store.settle(u.generation_id);
    this.#startStream();
    await this.#armHeartbeat();
    return early;
  }

  /** Stops watching generations whose outcome the edit settled itself (a cancel). */
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

  /** Runs one reconciliation pass now (also used by tests and the watchdog). */
  async reconcile(): Promise<void> {
    if (!this.#reconciling) {
      this.#reconciling = this.#reconcileOnce().finally(() => {
        this.#reconciling = null;
      });
    }
    return this.#reconciling;
  }

  /** Resets this object as the platform may at any moment (chaos runs only, via /_chaos/abort). */
  async abort(): Promise<void> {
    this.ctx.abort("chaos");
  }

  override async alarm(): Promise<void> {
    const now = Date.now();
    this.#store.pruneOrphans(now - ORPHAN_TTL_MS);
    const { outstanding, orphans } = this.#store.counts();
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
    this.ctx.waitUntil(
      this.#runStream(ac).finally(() => {
        if (this.#stream === ac) this.#stream = null;
      }),
    );
  }

  #setConnected(value: boolean): void {
    this.#connected = value;
    if (value) for (const w of [...this.#waiters]) w();
  }

  async #runStream(ac: AbortController): Promise<void> {
    let failures = 0;
    while (!ac.signal.aborted) {
      let openedAt: number | null = null;
      let events = 0;
      try {
        const res = await this.#oxen.openEvents(ac.signal);
        if (!res.ok || !res.body) {
          await res.body?.cancel();
          throw new Error(`event stream answered HTTP ${res.status}`);
        }
        openedAt = Date.now();
        this.#setConnected(true);
        log("info", "hub stream connected");
        // Whatever finished while nobody listened is only learnt over REST.
        void this.reconcile();
        await readCompletions(res.body, (update) => {
          events++;
          void this.#onCompletion(update);
        });
        log("warn", "hub stream ended by Oxen");
      } catch (e) {
        if (!ac.signal.aborted) log("warn", "hub stream failed", { error: errorMessage(e), failures });
      }
      this.#setConnected(false);
      if (ac.signal.aborted) break;
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

  async #reconcileOnce(): Promise<void> {
    const rows = this.#store.outstanding();
    if (rows.length === 0) return;
    const now = Date.now();
    await mapLimit(rows, REST_CONCURRENCY, async (row) => {
      const res = await this.#oxen.getGeneration(row.generation_id);
      if (!res.ok) return;
      if (res.value === null && now - row.registered_at < GONE_GRACE_MS) return;
      const update = updateFromRest(row.generation_id, res.value);
      if (isTerminal(update.status) || update.status !== row.last_status) {
        // The stream may have settled it while this request was out.
        if (this.#store.editFor(row.generation_id)) await this.#forward(row.edit_id, update);
      }
    });
  }
}
