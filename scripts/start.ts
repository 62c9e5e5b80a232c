/**
 * `npm start`: the whole Rights Ledger stack on this machine, one line per part, stopped cleanly with
 * Ctrl-C. Each part uses its variable when set (CHAIN_RPC_URL, DATABASE_URL, REDIS_URL, IPFS_API_URL)
 * and otherwise starts an embedded or private one under ./.data.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { HDNodeWallet, Mnemonic, getAddress } from "ethers";
import pino from "pino";
import { loadConfig as loadIndexerConfig } from "../indexer/config.ts";
import { createIndexer } from "../indexer/create-indexer.ts";
import { ChainIdentityError } from "../indexer/sync.ts";
import { createApp } from "../server/app.ts";
import { loadConfig } from "../server/config.ts";
import { gracefulServer } from "../server/http/graceful-server.ts";
import { createRuntime } from "../server/runtime.ts";
import { migrateServerSchema } from "../server/schema.ts";
import { startWorkers } from "../server/workers.ts";
import { ensureWebBuild, WEB_DIST } from "./build-web.ts";
import { startDevChain } from "./dev-chain.ts";
import { startMailCatcher } from "./stack/mail-catcher.ts";
import { startPostgres } from "./stack/postgres.ts";
import { RedisMissingError, startRedis } from "./stack/redis.ts";

const DATA = path.resolve(process.env.DATA_DIR ?? ".data");
/** Hardhat's well-known development mnemonic, account 1: the relayer of the local chain's deployment. */
const DEV_RELAYER_KEY = HDNodeWallet.fromMnemonic(
  Mnemonic.fromPhrase("test test test test test test test test test test test junk"),
  "m/44'/60'/0'/0/1",
).privateKey;

function line(part: string, detail: string): void {
  console.log(`${part.padEnd(10)} ${detail}`);
}

/** A session secret kept in ./.data so sessions survive restarts of the dev stack. */
async function devSessionSecret(): Promise<string> {
  const file = path.join(DATA, "session-secret");
  try {
    return (await readFile(file, "utf8")).trim();
  } catch {
    const secret = randomBytes(32).toString("hex");
    await mkdir(DATA, { recursive: true });
    await writeFile(file, secret, { mode: 0o600 });
    return secret;
  }
}

/** How long one part may take to stop before the next one is stopped anyway. */
const STOP_PART_MS = 15_000;
const stops: { part: string; stop: () => Promise<void> }[] = [];
let stopping = false;
async function stopAll(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    // A part that fails or hangs while stopping is named, and Ctrl-C still ends the stack.
    for (const { part, stop } of stops.reverse()) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`not stopped after ${STOP_PART_MS / 1000} s`)),
          STOP_PART_MS,
        );
      });
      await Promise.race([stop(), late])
        .catch((err: unknown) =>
          console.error(`stopping ${part}: ${err instanceof Error ? err.message : String(err)}`),
        )
        .finally(() => clearTimeout(timer));
    }
  }
  process.exit(code);
}
process.on("SIGINT", () => void stopAll(0));
process.on("SIGTERM", () => void stopAll(0));

try {
  const logger = pino({ level: process.env.LOG_LEVEL ?? "warn" });
  const chain = await startDevChain({
    rpcUrl: process.env.CHAIN_RPC_URL || undefined,
    deploymentsDir: process.env.DEPLOYMENTS_DIR,
  });
  stops.push({ part: "chain", stop: () => chain.close() });
  line("chain", `${chain.url}  (chain id ${chain.chainId}, contracts in deployments/${chain.chainId}.json)`);

  const postgres = await startPostgres(
    process.env.DATABASE_URL || undefined,
    DATA,
    process.env.DEV_POSTGRES === "embedded" ? "embedded" : "cluster",
  );
  stops.push({ part: "postgres", stop: () => postgres.stop() });
  line("postgres", `${postgres.url.replace(/\/\/[^@]*@/, "//")}  (${postgres.kind})`);

  let redisPart;
  try {
    redisPart = await startRedis(process.env.REDIS_URL || undefined);
  } catch (err) {
    if (err instanceof RedisMissingError) {
      console.error(err.message);
      await stopAll(1);
    }
    throw err;
  }
  stops.push({ part: "redis", stop: () => redisPart.stop() });
  line("redis", `${redisPart.url}  (${redisPart.kind})`);

  // Mail goes to SMTP_URL when set, else to a catcher in this process, shown at /dev/mail.
  const catcher = process.env.SMTP_URL ? null : await startMailCatcher();
  if (catcher) stops.push({ part: "mail", stop: () => catcher.stop() });

  const env = {
    ...process.env,
    SMTP_URL: catcher?.url ?? process.env.SMTP_URL,
    NODE_ENV: process.env.NODE_ENV ?? "development",
    DATABASE_URL: postgres.url,
    DATABASE_POOL_SIZE: process.env.DATABASE_POOL_SIZE ?? (postgres.kind === "embedded" ? "4" : "10"),
    REDIS_URL: redisPart.url,
    CHAIN_RPC_URL: chain.url,
    RELAYER_PRIVATE_KEY: process.env.RELAYER_PRIVATE_KEY ?? DEV_RELAYER_KEY,
    SESSION_SECRET: process.env.SESSION_SECRET ?? (await devSessionSecret()),
    IPFS_DIR: process.env.IPFS_DIR ?? path.join(DATA, "ipfs"),
    EVIDENCE_DIR: process.env.EVIDENCE_DIR ?? path.join(DATA, "evidence"),
    DISPUTE_EVIDENCE_DIR: process.env.DISPUTE_EVIDENCE_DIR ?? path.join(DATA, "disputes"),
    // The local deployment's arbiter signs in to the arbiter console, which needs an admin session.
    ADMIN_ADDRESSES: process.env.ADMIN_ADDRESSES ?? chain.deployment.roles.arbiter,
    PAYMENTS_PROVIDER: process.env.PAYMENTS_PROVIDER ?? "dev",
    WEB_DIR: process.env.WEB_DIR ?? WEB_DIST,
    // Card revenue past its holdback (by the chain's clock, which the demo moves) is paid within seconds.
    SETTLEMENT_EVERY_SECONDS: process.env.SETTLEMENT_EVERY_SECONDS ?? "5",
  };
  const config = loadConfig(env);
  const indexerConfig = loadIndexerConfig({
    ...env,
    INDEXER_METRICS_PORT: process.env.INDEXER_METRICS_PORT ?? "0",
  });

  const runtime = await createRuntime(config, logger);
  stops.push({ part: "api", stop: () => runtime.close() });
  const { db, redis, provider, relayer, registry, ipfs, queues, feed } = runtime;

  const indexer = createIndexer({
    config: indexerConfig,
    db,
    redis,
    provider,
    deployment: runtime.deployment,
    logger: logger.child({ part: "indexer" }),
  });
  try {
    await indexer.ready();
  } catch (err) {
    // The in-process chain starts empty on every run: a mirror of the last run's chain describes works,
    // licenses and orders that no longer exist. Ours to clear only when npm start made both.
    if (!(err instanceof ChainIdentityError) || process.env.CHAIN_RPC_URL || postgres.kind === "external")
      throw err;
    await db.query("DROP SCHEMA public CASCADE; CREATE SCHEMA public");
    line(
      "reset",
      "the local chain started empty: the last run's mirror, orders and uploads in .data were cleared",
    );
    await indexer.ready();
  }
  await migrateServerSchema(db);
  const following = indexer.run();
  following.catch((err: unknown) => {
    console.error(`indexer stopped: ${err instanceof Error ? err.message : String(err)}`);
    void stopAll(1);
  });
  stops.push({ part: "indexer", stop: () => indexer.stop() });
  line(
    "indexer",
    `following ${Object.keys(runtime.deployment.contracts).length} contracts from block ${indexer.indexedBlock()}`,
  );
  line(
    "mail",
    catcher
      ? `${catcher.url}  (caught, shown at ${config.http.publicUrl}/dev/mail)`
      : `${config.mail.smtp!.host}:${config.mail.smtp!.port}  (SMTP_URL)`,
  );
  line("ipfs", config.ipfs.apiUrl ? `${config.ipfs.apiUrl}  (Kubo)` : `${config.ipfs.dir}  (embedded)`);

  const workers = await startWorkers({
    config,
    db,
    redis,
    connection: redis,
    queues,
    relayer,
    registry,
    provider,
    ipfs,
    chainId: runtime.chainId,
    deployment: runtime.deployment,
    logger: logger.child({ part: "worker" }),
  });
  stops.push({ part: "workers", stop: () => workers.close() });
  line("workers", `relayer ${getAddress(relayer.address)}, notarize mode ${config.notarize.mode}`);

  await feed.start();
  const app = createApp({
    config,
    db,
    redis,
    chain: runtime.chain,
    ipfs,
    queues,
    feed,
    logger: logger.child({ part: "api" }),
    caughtMail: catcher ?? undefined,
  });
  if (config.web.dir === WEB_DIST) {
    await ensureWebBuild();
    line("web", `${config.http.publicUrl}  (built into ${path.relative(process.cwd(), WEB_DIST)})`);
  }
  const server = app.listen(config.http.port, config.http.host);
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  // Requests in flight get two seconds, then the workers hand back what they hold: Ctrl-C stops within seconds.
  const http = gracefulServer(server);
  stops.push({ part: "http", stop: () => http.close(2_000) });
  line("api", `${config.http.publicUrl}  (docs at ${config.http.publicUrl}/docs)`);
  console.log("\nready — press Ctrl-C to stop");
} catch (err) {
  console.error(`start failed: ${err instanceof Error ? err.message : String(err)}`);
  await stopAll(1);
}
