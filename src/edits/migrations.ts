import type { Migrations } from "../lib/schema";

/**
 * The edit object's schema, step by step (see lib/schema.ts). Step 1 is the schema objects had
 * before versioning, written with IF NOT EXISTS so that it applies over them unchanged.
 */
export const EDIT_MIGRATIONS: Migrations = [
  `CREATE TABLE IF NOT EXISTS edit (
     id TEXT PRIMARY KEY,
     client_id TEXT NOT NULL,
     fingerprint TEXT NOT NULL,
     doc TEXT NOT NULL
   );
   CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER);
   CREATE TABLE IF NOT EXISTS events (
     event_id TEXT PRIMARY KEY,
     type TEXT NOT NULL,
     payload TEXT NOT NULL,
     created_at INTEGER NOT NULL
   );
   CREATE TABLE IF NOT EXISTS outbox (
     event_id TEXT NOT NULL,
     url TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     next_at INTEGER,
     state TEXT NOT NULL,
     PRIMARY KEY (event_id, url)
   );
   CREATE TABLE IF NOT EXISTS attempts (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     event_id TEXT NOT NULL,
     type TEXT NOT NULL,
     url TEXT NOT NULL,
     attempt INTEGER NOT NULL,
     status_code INTEGER,
     error TEXT,
     duration_ms INTEGER NOT NULL,
     at INTEGER NOT NULL,
     next_attempt_at INTEGER
   );`,
  // A redelivery asked for while an attempt is in flight runs once that attempt ends; the intent
  // of a create is recorded before Oxen is asked, so a retry can tell "never sent" from "unknown".
  `ALTER TABLE outbox ADD COLUMN redeliver INTEGER NOT NULL DEFAULT 0;
   CREATE TABLE intent (
     fingerprint TEXT NOT NULL,
     started_at INTEGER NOT NULL
   );`,
  // Outputs are copied into R2 before the terminal event: a copy waiting or retrying is a row
  // here. The origin the edit was created on is where its file and stream URLs point. A cancel
  // Oxen accepted is remembered, so a later 404 for that job reads as cancelled, not unknown.
  `CREATE TABLE copies (
     generation_id TEXT PRIMARY KEY,
     oxen_url TEXT NOT NULL,
     first_at INTEGER NOT NULL,
     next_at INTEGER NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0
   );
   ALTER TABLE edit ADD COLUMN origin TEXT;
   CREATE TABLE cancels (generation_id TEXT PRIMARY KEY);`,
  // A client's endpoints get each event's first attempt from here (`endpoint_id`: which endpoint,
  // told the outcome); every attempt keeps the first 4 KB of the receiver's answer.
  `ALTER TABLE outbox ADD COLUMN endpoint_id TEXT;
   ALTER TABLE attempts ADD COLUMN response TEXT;`,
];
