import type { Migrations } from "../lib/schema";

/** The client object's schema, step by step (see lib/schema.ts). */
export const CLIENT_MIGRATIONS: Migrations = [
  `CREATE TABLE client (
     id TEXT PRIMARY KEY,
     doc TEXT NOT NULL
   );`,
];
