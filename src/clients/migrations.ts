import type { Migrations } from "../lib/schema";

/** The client object's schema, step by step (see lib/schema.ts). */
export const CLIENT_MIGRATIONS: Migrations = [
  `CREATE TABLE client (
     id TEXT PRIMARY KEY,
     doc TEXT NOT NULL
   );`,
  // Quotas and resend limits are kept here, durably (rate limiters are per location and forget).
  `CREATE TABLE active (
     edit_id TEXT PRIMARY KEY,
     generations INTEGER NOT NULL,
     reserved_at INTEGER NOT NULL,
     released_at INTEGER
   );
   CREATE TABLE usage (
     date TEXT NOT NULL,
     model TEXT NOT NULL,
     edits_created INTEGER NOT NULL DEFAULT 0,
     generations INTEGER NOT NULL DEFAULT 0,
     generations_succeeded INTEGER NOT NULL DEFAULT 0,
     generations_failed INTEGER NOT NULL DEFAULT 0,
     generations_cancelled INTEGER NOT NULL DEFAULT 0,
     webhooks_delivered INTEGER NOT NULL DEFAULT 0,
     webhooks_failed INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (date, model)
   );
   CREATE TABLE redeliveries (
     edit_id TEXT NOT NULL,
     at INTEGER NOT NULL
   );
   CREATE INDEX redeliveries_at ON redeliveries(at);
   CREATE TABLE streams (
     stream_id TEXT PRIMARY KEY,
     expires_at INTEGER NOT NULL
   );`,
];
