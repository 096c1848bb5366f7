import type { GenerationStatus, GenerationUpdate } from "../edits/status";

/**
 * The hub's SQLite: what it must not forget across evictions. `generations` are the outstanding
 * ones (deleted once their edit has acknowledged a terminal update); `orphans` are completions
 * that arrived before their registration.
 */
export function migrateHub(sql: SqlStorage): void {
  sql.exec(`
    CREATE TABLE IF NOT EXISTS generations (
      generation_id TEXT PRIMARY KEY,
      edit_id TEXT NOT NULL,
      registered_at INTEGER NOT NULL,
      last_status TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS orphans (
      generation_id TEXT PRIMARY KEY,
      update_json TEXT NOT NULL,
      received_at INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS orphans_received ON orphans(received_at);
  `);
}

export interface OutstandingRow {
  generation_id: string;
  edit_id: string;
  registered_at: number;
  last_status: GenerationStatus;
}

export class HubStore {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    migrateHub(sql);
  }

  editFor(generationId: string): string | null {
    const row = this.#sql
      .exec<{ edit_id: string }>("SELECT edit_id FROM generations WHERE generation_id = ?", generationId)
      .toArray()[0];
    return row?.edit_id ?? null;
  }

  /** Registers generations and hands back (and drops) any completions that came first. */
  register(editId: string, ids: string[], now: number): GenerationUpdate[] {
    const early: GenerationUpdate[] = [];
    for (const id of ids) {
      this.#sql.exec(
        "INSERT OR IGNORE INTO generations (generation_id, edit_id, registered_at, last_status) VALUES (?, ?, ?, 'queued')",
        id,
        editId,
        now,
      );
      const orphan = this.#sql
        .exec<{ update_json: string }>("SELECT update_json FROM orphans WHERE generation_id = ?", id)
        .toArray()[0];
      if (orphan) {
        early.push(JSON.parse(orphan.update_json) as GenerationUpdate);
        this.#sql.exec("DELETE FROM orphans WHERE generation_id = ?", id);
      }
    }
    return early;
  }

  keepOrphan(update: GenerationUpdate, now: number): void {
    this.#sql.exec(
      "INSERT OR REPLACE INTO orphans (generation_id, update_json, received_at) VALUES (?, ?, ?)",
      update.generation_id,
      JSON.stringify(update),
      now,
    );
  }

  pruneOrphans(olderThan: number): void {
    this.#sql.exec("DELETE FROM orphans WHERE received_at < ?", olderThan);
  }

  settle(generationId: string): void {
    this.#sql.exec("DELETE FROM generations WHERE generation_id = ?", generationId);
  }

  noteStatus(generationId: string, status: GenerationStatus): void {
    this.#sql.exec("UPDATE generations SET last_status = ? WHERE generation_id = ?", status, generationId);
  }

  outstanding(): OutstandingRow[] {
    return this.#sql
      .exec<OutstandingRow & Record<string, SqlStorageValue>>("SELECT * FROM generations")
      .toArray();
  }

  counts(): { outstanding: number; orphans: number } {
    const row = this.#sql
      .exec<{ o: number; p: number }>(
        "SELECT (SELECT COUNT(*) FROM generations) AS o, (SELECT COUNT(*) FROM orphans) AS p",
      )
      .one();
    return { outstanding: row.o, orphans: row.p };
  }
}
