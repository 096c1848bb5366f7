import type { Migrations } from "../lib/schema";

/** The hub's schema, step by step (see lib/schema.ts); step 1 is the pre-versioning schema. */
export const HUB_MIGRATIONS: Migrations = [
  `CREATE TABLE IF NOT EXISTS generations (
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
   CREATE INDEX IF NOT EXISTS orphans_received ON orphans(received_at);`,
  // Reconciliation asks Oxen about the least recently checked generations first, a bounded
  // number per pass, so that a large backlog is walked in turn rather than its head for ever.
  `ALTER TABLE generations ADD COLUMN checked_at INTEGER NOT NULL DEFAULT 0;
   CREATE INDEX generations_checked ON generations(checked_at);`,
];
