import { errorMessage, log } from "../lib/log";
import { migrate, schemaVersion } from "../lib/schema";
import { CLIENT_MIGRATIONS } from "./migrations";
import { openRecord, sealRecord } from "./sealing";
import { type ClientRecord, getClient, type StoredClient, saveClient } from "./store";

/**
 * The client object's record: loaded before the object serves (its secrets unsealed in memory),
 * changed one commit at a time, written sealed to SQLite and to KV (the projections that
 * authenticate anywhere), in the order of the changes.
 */
export class RecordKeeper {
  readonly #ctx: DurableObjectState;
  readonly #env: Env;
  #record: ClientRecord | null = null;
  #writes: Promise<void> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    this.#ctx = ctx;
    this.#env = env;
    if (schemaVersion(ctx.storage.sql) > 0) {
      ctx.blockConcurrencyWhile(async () => {
        migrate(ctx.storage, CLIENT_MIGRATIONS);
        const row = ctx.storage.sql.exec<{ doc: string }>("SELECT doc FROM client").toArray()[0];
        if (row) this.#record = await openRecord(env.ENCRYPTION_KEY, JSON.parse(row.doc) as StoredClient);
      });
    }
  }

  get current(): ClientRecord | null {
    return this.#record;
  }

  async get(id: string): Promise<ClientRecord | null> {
    if (this.#record) return this.#record;
    // A client that so far lived only in KV (created before this object existed).
    const stored = await getClient(this.#env.EDITS, id);
    if (!stored || this.#record) return this.#record;
    return this.commit(await openRecord(this.#env.ENCRYPTION_KEY, stored));
  }

  /**
   * Makes `next` the record at once (so the next call sees it), then writes it, sealed, to
   * SQLite and KV. Writes run one after another and each writes the latest record: a slow one
   * can never land last with an older record.
   */
  async commit(next: ClientRecord, oldKeyHash?: string): Promise<ClientRecord> {
    this.#record = next;
    const write = this.#writes.then(async () => {
      const latest = this.#record ?? next;
      const stored = await sealRecord(this.#env.ENCRYPTION_KEY, latest);
      migrate(this.#ctx.storage, CLIENT_MIGRATIONS);
      this.#ctx.storage.sql.exec(
        "INSERT OR REPLACE INTO client (id, doc) VALUES (?, ?)",
        latest.id,
        JSON.stringify(stored),
      );
      await saveClient(this.#env.EDITS, stored, oldKeyHash);
    });
    this.#writes = write.catch((e) => log("error", "client write failed", { error: errorMessage(e) }));
    await write;
    return next;
  }
}
