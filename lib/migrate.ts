import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { Pool } from "pg";
import { inTransaction } from "./transaction.ts";

const FILE = /^(\d{3,})_[a-z0-9_-]+\.sql$/;

export interface AppliedMigration {
  version: number;
  name: string;
}

/**
 * Applies the numbered SQL files of `dir` (`001_name.sql`, …) that `table` does not record yet, each
 * in its own transaction together with its record. A changed file that was already applied is an
 * error: migrations are append-only. Concurrent runners are serialized by an advisory lock.
 */
export async function migrate(pool: Pool, dir: string, table: string): Promise<AppliedMigration[]> {
  if (!/^[a-z_][a-z0-9_]*$/.test(table)) throw new Error(`invalid migrations table name ${table}`);
  const files = (await readdir(dir)).filter((f) => FILE.test(f)).sort();
  const client = await pool.connect();
  const applied: AppliedMigration[] = [];
  try {
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${table} (
         version integer PRIMARY KEY,
         name text NOT NULL,
         checksum text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const lockKey = Number.parseInt(createHash("sha256").update(table).digest("hex").slice(0, 8), 16);
    await client.query("SELECT pg_advisory_lock($1)", [lockKey]);
    try {
      const { rows } = await client.query<{ version: number; checksum: string }>(
        `SELECT version, checksum FROM ${table}`,
      );
      const done = new Map(rows.map((r) => [r.version, r.checksum]));
      for (const file of files) {
        const version = Number(FILE.exec(file)![1]);
        const sql = await readFile(path.join(dir, file), "utf8");
        const checksum = createHash("sha256").update(sql).digest("hex");
        const previous = done.get(version);
        if (previous !== undefined) {
          if (previous !== checksum) throw new Error(`migration ${file} changed after it was applied`);
          continue;
        }
        try {
          await inTransaction(client, async () => {
            await client.query(sql);
            await client.query(`INSERT INTO ${table} (version, name, checksum) VALUES ($1, $2, $3)`, [
              version,
              file,
              checksum,
            ]);
          });
        } catch (err) {
          throw new Error(`migration ${file} failed: ${err instanceof Error ? err.message : String(err)}`, {
            cause: err,
          });
        }
        applied.push({ version, name: file });
      }
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [lockKey]);
    }
  } finally {
    client.release();
  }
  return applied;
}
