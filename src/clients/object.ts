import { DurableObject } from "cloudflare:workers";
import { errorMessage, log } from "../lib/log";
import { migrate, schemaVersion } from "../lib/schema";
import { CLIENT_MIGRATIONS } from "./migrations";
import { type ClientRecord, getClient, rotated, saveClient } from "./store";

/**
 * One client: the authoritative record, changed only here, one change at a time, so two
 * rotations can never drop a secret an admin was just given. KV holds its projections
 * (`client:`, `apikey:`) for authentication anywhere; they are written in the order the changes
 * were made. Clients created before this object existed are adopted from KV on first use.
 */
export class ClientObject extends DurableObject<Env> {
  #kvWrites: Promise<void> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    if (schemaVersion(ctx.storage.sql) > 0) {
      ctx.blockConcurrencyWhile(async () => {
        migrate(ctx.storage, CLIENT_MIGRATIONS);
      });
    }
  }

  /** Stores a new client (a repeated call with the same record changes nothing). */
  async create(record: ClientRecord): Promise<ClientRecord> {
    const existing = this.#load();
    if (existing) return existing;
    this.#save(record);
    await this.#publish(record);
    return record;
  }

  /** The record; `id` names the client, for one that so far lived only in KV. */
  async get(id: string): Promise<ClientRecord | null> {
    return this.#load() ?? (await this.#adopt(id));
  }

  /** A new current secret; the old one keeps signing for 24 h. null for an unknown client. */
  async rotateSecret(id: string, now = Date.now()): Promise<ClientRecord | null> {
    const current = this.#load() ?? (await this.#adopt(id));
    if (!current) return null;
    // Read and write with no await between: nothing else runs in this object meanwhile.
    const next = rotated(this.#load() ?? current, now);
    this.#save(next);
    await this.#publish(next);
    return next;
  }

  #load(): ClientRecord | null {
    if (schemaVersion(this.ctx.storage.sql) === 0) return null;
    const row = this.ctx.storage.sql.exec<{ doc: string }>("SELECT doc FROM client").toArray()[0];
    return row ? (JSON.parse(row.doc) as ClientRecord) : null;
  }

  #save(record: ClientRecord): void {
    migrate(this.ctx.storage, CLIENT_MIGRATIONS);
    this.ctx.storage.sql.exec(
      "INSERT OR REPLACE INTO client (id, doc) VALUES (?, ?)",
      record.id,
      JSON.stringify(record),
    );
  }

  /** A client that so far lived only in KV (created before this object existed). */
  async #adopt(id: string): Promise<ClientRecord | null> {
    const record = await getClient(this.env.EDITS, id);
    if (!record || this.#load()) return this.#load();
    this.#save(record);
    return record;
  }

  #publish(record: ClientRecord): Promise<void> {
    const write = this.#kvWrites.then(() => saveClient(this.env.EDITS, record));
    this.#kvWrites = write.catch((e) => log("error", "client kv write failed", { error: errorMessage(e) }));
    return write;
  }
}
