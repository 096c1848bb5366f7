import type { Snapshot } from "./kv";

/**
 * An edit object's own SQLite: the authoritative edit (one row) and a few scheduling notes.
 * The document is stored whole; it is small and always read and written whole.
 */
export class EditStore {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  #exists = false;

  /** Whether this object holds an edit; asked before anything creates tables in it. */
  exists(): boolean {
    // Once made, the table stays: only a "no" needs asking again.
    this.#exists ||=
      this.#sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'edit'").toArray().length >
      0;
    return this.#exists;
  }

  migrate(): void {
    this.#sql.exec(`
      CREATE TABLE IF NOT EXISTS edit (
        id TEXT PRIMARY KEY,
        client_id TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        doc TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER);
    `);
  }

  load(): Snapshot | null {
    if (!this.exists()) return null;
    const row = this.#sql
      .exec<{ client_id: string; doc: string }>("SELECT client_id, doc FROM edit")
      .toArray()[0];
    return row ? { client_id: row.client_id, edit: JSON.parse(row.doc) } : null;
  }

  /** Inserts the edit (with its request fingerprint) or updates its document. */
  save(snap: Snapshot, fingerprint?: string): void {
    if (fingerprint !== undefined) {
      this.#sql.exec(
        "INSERT INTO edit (id, client_id, fingerprint, doc) VALUES (?, ?, ?, ?)",
        snap.edit.id,
        snap.client_id,
        fingerprint,
        JSON.stringify(snap.edit),
      );
    } else {
      this.#sql.exec("UPDATE edit SET doc = ? WHERE id = ?", JSON.stringify(snap.edit), snap.edit.id);
    }
  }

  fingerprint(): string | null {
    if (!this.exists()) return null;
    return (
      this.#sql.exec<{ fingerprint: string }>("SELECT fingerprint FROM edit").toArray()[0]?.fingerprint ??
      null
    );
  }

  /** A named time (ms) or null. */
  getTime(key: string): number | null {
    const row = this.#sql
      .exec<{ value: number | null }>("SELECT value FROM meta WHERE key = ?", key)
      .toArray()[0];
    return row?.value ?? null;
  }

  setTime(key: string, value: number | null): void {
    this.#sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", key, value);
  }
}
