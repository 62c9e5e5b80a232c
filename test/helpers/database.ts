import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { startPostgres } from "../../scripts/stack/postgres.ts";

const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface TestDatabase {
  url: string;
  name: string;
  pool: pg.Pool;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

/** Creates an empty database with a unique name for one test file, on the local PostgreSQL server. */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const name = `test_${label.replace(/[^a-z0-9]/gi, "_").toLowerCase()}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 10 });
  return {
    url: url.toString(),
    name,
    pool,
    async drop() {
      // pool.end() resolves before its clients' sockets close; the forced DROP below then terminates
      // those backends, and the pool re-emits that expected error.
      pool.on("error", () => {});
      await pool.end();
      const client = new pg.Client({ connectionString: ADMIN_URL });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** An embedded PGlite in a temporary directory, served over the PostgreSQL protocol as `npm start` serves it. */
export async function createEmbeddedDatabase(label: string): Promise<TestDatabase> {
  const dir = await mkdtemp(path.join(tmpdir(), `rl-pglite-${label}-`));
  const server = await startPostgres(undefined, dir, "embedded");
  const pool = new pg.Pool({ connectionString: server.url, max: 4 });
  return {
    url: server.url,
    name: "postgres",
    pool,
    async drop() {
      pool.on("error", () => {});
      await pool.end();
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
