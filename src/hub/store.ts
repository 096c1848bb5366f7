import type { GenerationStatus, GenerationUpdate } from "../core/status";
import { migrate } from "../lib/schema";
import { HUB_MIGRATIONS } from "./migrations";

export interface OutstandingRow {
  generation_id: string;
  edit_id: string;
  registered_at: number;
  last_status: GenerationStatus;
  checked_at: number;
}

/**
 * The hub's SQLite: what it must not forget across evictions. `generations` are the outstanding
 * ones (deleted once their edit has acknowledged a terminal update); `orphans` are completions
 * that arrived before their registration, kept until the edit has them.
 */
export class HubStore {
  readonly #sql: SqlStorage;

  constructor(storage: DurableObjectStorage) {
    this.#sql = storage.sql;
    migrate(storage, HUB_MIGRATIONS);
  }

  editFor(generationId: string): string | null {
    const row = this.#sql
      .exec<{ edit_id: string }>("SELECT edit_id FROM generations WHERE generation_id = ?", generationId)
      .toArray()[0];
    return row?.edit_id ?? null;
  }

  /**
   * Registers generations and hands back any completions that came first. The orphans stay
   * until `settle`: if the edit dies before applying them, the next reconciliation hands them on.
   */
  register(editId: string, ids: string[], now: number): GenerationUpdate[] {
    const early: GenerationUpdate[] = [];
    for (const id of ids) {
      this.#sql.exec(
        "INSERT OR IGNORE INTO generations (generation_id, edit_id, registered_at, last_status) VALUES (?, ?, ?, 'queued')",
        id,
        editId,
        now,
      );
      const orphan = this.orphan(id);
      if (orphan) early.push(orphan);
    }
    return early;
  }

  orphan(generationId: string): GenerationUpdate | null {
    const row = this.#sql
      .exec<{ update_json: string }>("SELECT update_json FROM orphans WHERE generation_id = ?", generationId)
      .toArray()[0];
    return row ? (JSON.parse(row.update_json) as GenerationUpdate) : null;
  }

  keepOrphan(update: GenerationUpdate, now: number): void {
    this.#sql.exec(
      "INSERT OR REPLACE INTO orphans (generation_id, update_json, received_at) VALUES (?, ?, ?)",
      update.generation_id,
      JSON.stringify(update),
      now,
    );
  }

  /** Drops orphans nobody registered in time; one whose generation is registered stays. */
  pruneOrphans(olderThan: number): void {
    this.#sql.exec(
      "DELETE FROM orphans WHERE received_at < ? AND generation_id NOT IN (SELECT generation_id FROM generations)",
      olderThan,
    );
  }

  settle(generationId: string): void {
    this.#sql.exec("DELETE FROM generations WHERE generation_id = ?", generationId);
    this.#sql.exec("DELETE FROM orphans WHERE generation_id = ?", generationId);
  }

  noteStatus(generationId: string, status: GenerationStatus): void {
    this.#sql.exec("UPDATE generations SET last_status = ? WHERE generation_id = ?", status, generationId);
  }

  markChecked(generationId: string, at: number): void {
    this.#sql.exec("UPDATE generations SET checked_at = ? WHERE generation_id = ?", at, generationId);
  }

  /** Every outstanding generation (ids and status only: a pass compares them with Oxen's active list). */
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
