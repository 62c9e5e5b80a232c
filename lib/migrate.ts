import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { Pool } from "pg";

/** A migration file that was applied by this call. */
export interface AppliedMigration {
  version: string;
  name: string;
}

const FILE_PATTERN = /^(\d+)_([\w-]+)\.sql$/;
const TABLE_PATTERN = /^[a-z_][a-z0-9_]*$/;

interface MigrationFile {
  version: string;
  name: string;
  sql: string;
  checksum: string;
}

async function readMigrations(dir: string): Promise<MigrationFile[]> {
  const names = (await readdir(dir)).filter((name) => FILE_PATTERN.test(name)).sort();
  const files: MigrationFile[] = [];
  for (const file of names) {
    const [, version, name] = FILE_PATTERN.exec(file)!;
    const sql = await readFile(path.join(dir, file), "utf8");
    files.push({
      version: version!,
      name: name!,
      sql,
      checksum: createHash("sha256").update(sql).digest("hex"),
    });
  }
  const versions = new Set(files.map((f) => f.version));
  if (versions.size !== files.length) throw new Error(`${dir} holds two migrations with the same number`);
  return files;
}

/**
 * Applies the numbered SQL files of `dir` (`001_name.sql`, `002_…`) that `table` does not list yet,
 * each in its own transaction together with its record. Fails when an applied file was edited since.
 */
export async function migrate(pool: Pool, dir: string, table: string): Promise<AppliedMigration[]> {
  if (!TABLE_PATTERN.test(table)) throw new Error(`invalid migrations table name "${table}"`);
  const files = await readMigrations(dir);
  await pool.query(
    `CREATE TABLE IF NOT EXISTS ${table} (
       version text PRIMARY KEY,
       name text NOT NULL,
       checksum text NOT NULL,
       applied_at timestamptz NOT NULL DEFAULT now()
     )`,
  );
  const applied: AppliedMigration[] = [];
  for (const file of files) {
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      // Serialises concurrent migrators (several API processes starting at once) on this table.
      await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [table]);
      const { rows } = await client.query<{ checksum: string }>(
        `SELECT checksum FROM ${table} WHERE version = $1`,
        [file.version],
      );
      if (rows[0]) {
        await client.query("COMMIT");
        if (rows[0].checksum !== file.checksum) {
          throw new Error(`migration ${file.version}_${file.name}.sql was changed after it was applied`);
        }
        continue;
      }
      await client.query(file.sql);
      await client.query(`INSERT INTO ${table} (version, name, checksum) VALUES ($1, $2, $3)`, [
        file.version,
        file.name,
        file.checksum,
      ]);
      await client.query("COMMIT");
      applied.push({ version: file.version, name: file.name });
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
  return applied;
}
