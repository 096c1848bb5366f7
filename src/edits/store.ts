import { assertFitsRow } from "../lib/limits";
import { migrate, schemaVersion } from "../lib/schema";
import type { Snapshot } from "./kv";
import { EDIT_MIGRATIONS } from "./migrations";

/**
 * The scheduling notes an edit object keeps beside its document, all times in ms.
 * `doc_version` counts saves; `kv_version` is the last of them KV is known to hold.
 */
export const META_KEYS = [
  "doc_version",
  "kv_version",
  "kv_written_at",
  "registered_at",
  "registration_check_at",
  "deadline_at",
  "usage_reported_at",
  "usage_retry_at",
  "erase_at",
] as const;
export type MetaKey = (typeof META_KEYS)[number];

/**
 * An edit object's own SQLite: the authoritative edit (one row), the intent of a create that has
 * not finished, and a few scheduling notes. The document is stored whole; it is small (the
 * routes refuse an edit whose document would not fit a row) and always read and written whole.
 */
export class EditStore {
  readonly #storage: DurableObjectStorage;
  #ready = false;
  #cached: Snapshot | null = null;
  /** The meta rows and the origin, read once: this object is their only writer. */
  #meta: Map<string, number | null> | null = null;
  #origin: string | null | undefined;

  constructor(storage: DurableObjectStorage) {
    this.#storage = storage;
  }

  get #sql(): SqlStorage {
    return this.#storage.sql;
  }

  /** Whether this object holds anything; asked before anything creates tables in it. */
  exists(): boolean {
    // Once made, the tables stay: only a "no" needs asking again.
    this.#ready ||=
      schemaVersion(this.#sql) > 0 ||
      this.#sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'edit'").toArray().length >
        0;
    return this.#ready;
  }

  /** Brings the schema to the latest version; only the first write of an edit, or an upgrade, does work. */
  migrate(): void {
    migrate(this.#storage, EDIT_MIGRATIONS);
    this.#ready = true;
  }

  load(): Snapshot | null {
    if (this.#cached) return this.#cached;
    if (!this.exists()) return null;
    const row = this.#sql
      .exec<{ client_id: string; doc: string }>("SELECT client_id, doc FROM edit")
      .toArray()[0];
    // The object is the only writer, so the parsed document stays valid until the next save.
    this.#cached = row ? { client_id: row.client_id, edit: JSON.parse(row.doc) } : null;
    return this.#cached;
  }

  /** Inserts the edit (with its request fingerprint) or updates its document; bumps `doc_version`. */
  save(snap: Snapshot, fingerprint?: string): void {
    const doc = JSON.stringify(snap.edit);
    assertFitsRow("edit document", doc);
    if (fingerprint !== undefined) {
      this.#sql.exec(
        "INSERT INTO edit (id, client_id, fingerprint, doc) VALUES (?, ?, ?, ?)",
        snap.edit.id,
        snap.client_id,
        fingerprint,
        doc,
      );
    } else {
      this.#sql.exec("UPDATE edit SET doc = ? WHERE id = ?", doc, snap.edit.id);
    }
    this.set("doc_version", (this.get("doc_version") ?? 0) + 1);
    this.#cached = snap;
  }

  /** The origin (scheme, host, port) the edit was created on: its file and stream URLs point there. */
  origin(): string | null {
    if (this.#origin !== undefined) return this.#origin;
    if (!this.exists()) return null;
    this.#origin =
      this.#sql.exec<{ origin: string | null }>("SELECT origin FROM edit").toArray()[0]?.origin ?? null;
    return this.#origin;
  }

  setOrigin(origin: string): void {
    this.#sql.exec("UPDATE edit SET origin = ?", origin);
    this.#origin = undefined;
  }

  /** Generations whose cancel Oxen accepted (a DELETE answered 2xx). */
  noteCancelled(ids: string[]): void {
    for (const id of ids) this.#sql.exec("INSERT OR IGNORE INTO cancels (generation_id) VALUES (?)", id);
  }

  cancelled(): Set<string> {
    if (!this.exists()) return new Set();
    return new Set(
      this.#sql
        .exec<{ generation_id: string }>("SELECT generation_id FROM cancels")
        .toArray()
        .map((r) => r.generation_id),
    );
  }

  /** Runs `fn` as one transaction; a rollback leaves nothing cached as if it had been written. */
  transaction(fn: () => void): void {
    try {
      this.#storage.transactionSync(fn);
    } catch (e) {
      this.reset();
      throw e;
    }
  }

  /** After `deleteAll`: nothing is known any more. */
  reset(): void {
    this.#ready = false;
    this.invalidate();
  }

  /** Drops what is cached, after a transaction that wrote it was rolled back. */
  invalidate(): void {
    this.#cached = null;
    this.#meta = null;
    this.#origin = undefined;
  }

  fingerprint(): string | null {
    if (!this.exists()) return null;
    return (
      this.#sql.exec<{ fingerprint: string }>("SELECT fingerprint FROM edit").toArray()[0]?.fingerprint ??
      null
    );
  }

  /** The create that was sent to Oxen and whose answer was not recorded, if any. */
  intent(): { fingerprint: string; started_at: number } | null {
    if (!this.exists()) return null;
    return (
      this.#sql
        .exec<{ fingerprint: string; started_at: number }>("SELECT fingerprint, started_at FROM intent")
        .toArray()[0] ?? null
    );
  }

  setIntent(fingerprint: string, at: number): void {
    this.migrate();
    this.#sql.exec("DELETE FROM intent");
    this.#sql.exec("INSERT INTO intent (fingerprint, started_at) VALUES (?, ?)", fingerprint, at);
  }

  clearIntent(): void {
    if (this.exists()) this.#sql.exec("DELETE FROM intent");
  }

  get(key: MetaKey): number | null {
    if (!this.#meta) {
      if (!this.exists()) return null;
      this.#meta = new Map(
        this.#sql
          .exec<{ key: string; value: number | null }>("SELECT key, value FROM meta")
          .toArray()
          .map((r) => [r.key, r.value]),
      );
    }
    return this.#meta.get(key) ?? null;
  }

  /** Whether the time under `key` is set and has come. */
  due(key: MetaKey, now: number): boolean {
    return (this.get(key) ?? Number.POSITIVE_INFINITY) <= now;
  }

  set(key: MetaKey, value: number | null): void {
    // Unchanged: no write (rows written are billed). An upsert writes one row; a REPLACE, two.
    if (this.#meta?.has(key) && this.#meta.get(key) === value) return;
    this.#sql.exec(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      key,
      value,
    );
    this.#meta?.set(key, value);
  }
}
