import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Pool } from "pg";
import { migrate, type AppliedMigration } from "../lib/migrate.ts";

/** Where the server's own migrations live (uploads, registrations, relayer, orders, keys), and their table. */
export const SERVER_MIGRATIONS = {
  dir: path.join(path.dirname(fileURLToPath(import.meta.url)), "migrations"),
  table: "server_migrations",
} as const;

/** Brings the server's own tables up to date; the indexer's tables are the indexer's to migrate. */
export function migrateServerSchema(db: Pool): Promise<AppliedMigration[]> {
  return migrate(db, SERVER_MIGRATIONS.dir, SERVER_MIGRATIONS.table);
}
