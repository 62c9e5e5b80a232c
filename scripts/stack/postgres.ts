import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { chown, mkdir, readdir } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { freePort, waitForPort } from "./free-port.ts";
import { serializeSessions } from "./serialized-sessions.ts";

const run = promisify(execFile);
const DATABASE = "rights_ledger";

export interface StackPostgres {
  url: string;
  kind: "external" | "cluster" | "embedded";
  stop(): Promise<void>;
}

/** The newest PostgreSQL server binaries on this machine (Debian keeps them off PATH). */
function serverBinDir(): string | null {
  const root = "/usr/lib/postgresql";
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(path.join(root, v, "bin", "pg_ctl")))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return path.join(root, versions[0], "bin");
  }
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, "pg_ctl")) && existsSync(path.join(dir, "initdb"))) return dir;
  }
  return null;
}

async function ensureDatabase(adminUrl: string): Promise<string> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [DATABASE]);
    if (!rowCount) await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${DATABASE}`;
  return url.toString();
}

/** PostgreSQL refuses to run as root; a root user runs the cluster as the `postgres` system user. */
async function asServerUser(binary: string, args: string[], dataDir: string): Promise<void> {
  if (process.getuid?.() === 0) {
    await chown(dataDir, await uidOf("postgres"), await gidOf("postgres"));
    await run("runuser", ["-u", "postgres", "--", binary, ...args]);
  } else {
    await run(binary, args);
  }
}

async function uidOf(user: string): Promise<number> {
  return Number((await run("id", ["-u", user])).stdout.trim());
}

async function gidOf(user: string): Promise<number> {
  return Number((await run("id", ["-g", user])).stdout.trim());
}

async function startCluster(bin: string, dataRoot: string): Promise<StackPostgres> {
  const dataDir = path.resolve(dataRoot, "pg");
  await mkdir(path.dirname(dataDir), { recursive: true });
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  if ((await readdir(dataDir)).length === 0) {
    await asServerUser(
      path.join(bin, "initdb"),
      ["-D", dataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8"],
      dataDir,
    );
  }
  const port = await freePort();
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -k ${dataDir} -c fsync=off`;
  await asServerUser(
    path.join(bin, "pg_ctl"),
    ["-D", dataDir, "-o", options, "-l", path.join(dataDir, "server.log"), "-w", "start"],
    dataDir,
  );
  await waitForPort(port);
  const url = await ensureDatabase(`postgres://postgres@127.0.0.1:${port}/postgres`);
  return {
    url,
    kind: "cluster",
    stop: () => asServerUser(path.join(bin, "pg_ctl"), ["-D", dataDir, "-m", "fast", "-w", "stop"], dataDir),
  };
}

async function startEmbedded(dataRoot: string): Promise<StackPostgres> {
  const { PGlite } = await import("@electric-sql/pglite");
  const { pg_trgm } = await import("@electric-sql/pglite/contrib/pg_trgm");
  const { btree_gist } = await import("@electric-sql/pglite/contrib/btree_gist");
  const { PGLiteSocketServer } = await import("@electric-sql/pglite-socket");
  await mkdir(path.resolve(dataRoot), { recursive: true });
  // The work search's trigram indexes need pg_trgm and the sales' exclusion constraint btree_gist, which PGlite loads only when asked.
  const db = await PGlite.create(path.resolve(dataRoot, "pglite"), { extensions: { pg_trgm, btree_gist } });
  const port = await freePort();
  // PGlite runs one session; the socket server queues messages from several pool connections onto it,
  // and the front takes turns so one connection's exchange or transaction never interleaves with another's.
  const server = new PGLiteSocketServer({ db, port, host: "127.0.0.1", maxConnections: 32 });
  await server.start();
  const front = await serializeSessions(port);
  return {
    url: `postgres://postgres@127.0.0.1:${front.port}/postgres`,
    kind: "embedded",
    async stop() {
      await front.close();
      await server.stop();
      await db.close();
    },
  };
}

/**
 * `DATABASE_URL` when set; else a private cluster in `<dataRoot>/pg` from the machine's PostgreSQL
 * binaries; else an embedded PGlite kept in `<dataRoot>/pglite`, served over the PostgreSQL protocol.
 */
export async function startPostgres(
  databaseUrl: string | undefined,
  dataRoot: string,
  prefer: "cluster" | "embedded" = "cluster",
): Promise<StackPostgres> {
  if (databaseUrl) return { url: databaseUrl, kind: "external", stop: async () => {} };
  const bin = prefer === "cluster" ? serverBinDir() : null;
  return bin ? startCluster(bin, dataRoot) : startEmbedded(dataRoot);
}
