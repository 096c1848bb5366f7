/**
 * Versioned SQLite schemas for Durable Objects: one ordered list of steps per class, applied in
 * order from the version stored in the object. Step N (1-based) brings the schema to version N;
 * steps are appended, never edited, so the first `ALTER TABLE` has a home.
 */
export type Migrations = readonly string[];

const VERSION_TABLE = "_schema";

/** The stored version: 0 for an object that has none (never written, or older than versioning). */
export function schemaVersion(sql: SqlStorage): number {
  const table = sql
    .exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", VERSION_TABLE)
    .toArray();
  if (table.length === 0) return 0;
  return sql.exec<{ version: number }>(`SELECT version FROM ${VERSION_TABLE}`).toArray()[0]?.version ?? 0;
}

/**
 * Applies the steps after the stored version, each with its version bump, in one transaction
 * (the caller runs it inside `blockConcurrencyWhile` or another synchronous section).
 * Returns the version reached.
 */
export function migrate(storage: DurableObjectStorage, steps: Migrations): number {
  const { sql } = storage;
  const from = schemaVersion(sql);
  if (from >= steps.length) return from;
  storage.transactionSync(() => {
    sql.exec(`CREATE TABLE IF NOT EXISTS ${VERSION_TABLE} (version INTEGER NOT NULL)`);
    for (let v = from; v < steps.length; v++) sql.exec(steps[v] as string);
    sql.exec(`DELETE FROM ${VERSION_TABLE}`);
    sql.exec(`INSERT INTO ${VERSION_TABLE} (version) VALUES (?)`, steps.length);
  });
  return steps.length;
}

/** The tables a list of steps creates, read from its SQL (for docs/storage.md's check). */
export function tablesOf(steps: Migrations): string[] {
  const names = steps.flatMap((s) =>
    [...s.matchAll(/CREATE TABLE (?:IF NOT EXISTS )?(\w+)/g)].map((m) => m[1]),
  );
  return [...new Set(names as string[])];
}
