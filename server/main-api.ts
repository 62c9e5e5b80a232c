/**
 * `npm run api`: the HTTP API. Configuration comes from environment variables (see README). With
 * API_WORKERS > 1 the primary process migrates the schema once and forks that many API processes,
 * which share the port; a process that dies is replaced. On SIGTERM each process stops taking
 * connections, finishes the requests in flight and exits within STOP_DEADLINE_MS.
 */
import cluster from "node:cluster";
import pg from "pg";
import pino from "pino";
import { migrateServerSchema } from "./schema.ts";
import { createApp } from "./app.ts";
import { loadConfigOrExit, type Config } from "./config.ts";
import { gracefulServer } from "./http/graceful-server.ts";
import { createRuntime } from "./runtime.ts";
import { onStopSignals } from "./stop-signals.ts";

async function serve(config: Config): Promise<void> {
  const runtime = await createRuntime(config);
  if (cluster.isPrimary) await migrateServerSchema(runtime.db);
  await runtime.feed.start();
  const app = createApp({
    config,
    db: runtime.db,
    redis: runtime.redis,
    chain: runtime.chain,
    ipfs: runtime.ipfs,
    queues: runtime.queues,
    feed: runtime.feed,
    logger: runtime.logger,
    checkpoint: runtime.checkpoint,
  });
  const server = app.listen(config.http.port, config.http.host, () => {
    runtime.logger.info({ url: config.http.publicUrl, pid: process.pid }, "API listening");
  });
  const http = gracefulServer(server);
  onStopSignals(runtime.logger, async () => {
    await http.close();
    await runtime.close();
  });
}

async function supervise(config: Config): Promise<void> {
  // The primary serves nothing: it needs the database once, for the migrations, and a logger.
  const db = new pg.Pool({ connectionString: config.database.url, max: 1 });
  await migrateServerSchema(db);
  await db.end();
  const logger = pino({ level: config.logLevel });
  let stopping = false;
  const fork = () => cluster.fork();
  cluster.on("exit", (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    logger.error({ pid: worker.process.pid, code, signal }, "API process died; starting another");
    fork();
  });
  for (let i = 0; i < config.http.workers; i++) fork();
  const stop = () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill("SIGTERM");
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

const config = loadConfigOrExit();
if (cluster.isPrimary && config.http.workers > 1) await supervise(config);
else await serve(config);
