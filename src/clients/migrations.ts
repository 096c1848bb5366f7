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
  // Endpoints (account-level subscriptions), the event log, and where each event stands at each
  // endpoint; hourly attempt counts for the 24 h success rate (see src/endpoints/).
  `CREATE TABLE endpoints (
     id TEXT PRIMARY KEY,
     url TEXT NOT NULL,
     events TEXT NOT NULL,
     description TEXT,
     status TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     last_attempt_at INTEGER,
     last_success_at INTEGER,
     failing_since INTEGER
   );
   CREATE TABLE event_log (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL UNIQUE,
     type TEXT NOT NULL,
     edit_id TEXT,
     model TEXT,
     payload TEXT,
     created_at INTEGER NOT NULL
   );
   CREATE INDEX event_log_edit ON event_log(edit_id);
   CREATE INDEX event_log_created ON event_log(created_at);
   CREATE TABLE endpoint_deliveries (
     endpoint_id TEXT NOT NULL,
     seq INTEGER NOT NULL,
     state TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     next_at INTEGER,
     PRIMARY KEY (endpoint_id, seq)
   );
   CREATE INDEX endpoint_deliveries_seq ON endpoint_deliveries(seq);
   CREATE TABLE endpoint_stats (
     endpoint_id TEXT NOT NULL,
     hour INTEGER NOT NULL,
     ok INTEGER NOT NULL DEFAULT 0,
     failed INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (endpoint_id, hour)
   );`,
  // Delivered rows stay for the retention period: the hot lookups (an endpoint's backlog, first
  // attempts out at edit objects, failed events to recover) go through partial indexes that
  // hold only the rows in those states, so their cost does not grow with what was delivered.
  `CREATE INDEX endpoint_deliveries_queued ON endpoint_deliveries(endpoint_id, seq) WHERE state = 'queued';
   CREATE INDEX endpoint_deliveries_direct ON endpoint_deliveries(next_at) WHERE state = 'direct';
   CREATE INDEX endpoint_deliveries_failed ON endpoint_deliveries(endpoint_id, seq) WHERE state = 'failed';
   CREATE INDEX event_log_type ON event_log(type, seq);
   CREATE TABLE forgotten (edit_id TEXT PRIMARY KEY, at INTEGER NOT NULL);`,
];
