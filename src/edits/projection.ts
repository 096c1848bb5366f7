import { isTerminal } from "../core/status";
import { errorMessage, log } from "../lib/log";
import { writeListEntry, writeSnapshot } from "./kv";
import type { EditStore } from "./store";
import { KV_WRITE_INTERVAL_MS } from "./timers";

/**
 * Keeps the KV read model in step with the object. A change is dirty until a write of it (or of
 * a later version) has succeeded; a failed or deferred write stays dirty for the alarm. Writes
 * are serialised and always send the latest document, so a slow write can never land last
 * with an older one. KV takes one write per second per key: ordinary changes wait for that
 * slot, but a terminal one goes at once, so the list shows it before its webhook arrives.
 */
export class KvProjection {
  readonly #store: EditStore;
  readonly #kv: KVNamespace;
  #chain: Promise<void> = Promise.resolve();
  #stopped = false;

  readonly #terminalTtlS: number;

  /** `terminalTtlS`: how long KV keeps a terminal snapshot unaided (retention, and a day). */
  constructor(store: EditStore, kv: KVNamespace, terminalTtlS: number) {
    this.#store = store;
    this.#kv = kv;
    this.#terminalTtlS = terminalTtlS;
  }

  dirty(): boolean {
    return (this.#store.get("doc_version") ?? 0) > (this.#store.get("kv_version") ?? 0);
  }

  publish(opts: { urgent?: boolean } = {}): Promise<void> {
    this.#chain = this.#chain.then(() => (this.#stopped ? undefined : this.#write(opts.urgent ?? false)));
    return this.#chain;
  }

  /** The edit is being erased: no write from now on (the object is then reset). */
  stop(): void {
    this.#stopped = true;
  }

  async #write(urgent: boolean): Promise<void> {
    const snap = this.#store.load();
    if (!snap || !this.dirty()) return;
    const now = Date.now();
    if (!urgent && now - (this.#store.get("kv_written_at") ?? 0) < KV_WRITE_INTERVAL_MS) return;
    const version = this.#store.get("doc_version") ?? 0;
    const terminal = isTerminal(snap.edit.status);
    // In flight, KV holds only the list entry, written once: reads of an unfinished edit ask its
    // object anyway, so each intermediate state would be two writes nobody reads (KV writes are
    // the dearest operation here). Terminal: the snapshot and the entry's final status.
    if (!terminal && (this.#store.get("kv_version") ?? 0) > 0) {
      this.#store.set("kv_version", version);
      return;
    }
    this.#store.set("kv_written_at", now);
    try {
      await (terminal ? writeSnapshot(this.#kv, snap, this.#terminalTtlS) : writeListEntry(this.#kv, snap));
      if ((this.#store.get("kv_version") ?? 0) < version) this.#store.set("kv_version", version);
    } catch (e) {
      log("warn", "kv snapshot write failed", { edit_id: snap.edit.id, error: errorMessage(e) });
    }
  }
}
