import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Pool } from "pg";
import { migrate, type AppliedMigration } from "../lib/migrate.ts";

/** Where the indexer's migrations live, and the table that records them. */
export const INDEXER_MIGRATIONS = {
  dir: path.join(path.dirname(fileURLToPath(import.meta.url)), "migrations"),
  table: "indexer_migrations",
} as const;

/** Brings the indexer's schema (raw events and the derived tables the API reads) up to date. */
export function migrateIndexerSchema(db: Pool): Promise<AppliedMigration[]> {
  return migrate(db, INDEXER_MIGRATIONS.dir, INDEXER_MIGRATIONS.table);
}
