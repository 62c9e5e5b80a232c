import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { network } from "hardhat";
import { HDNodeWallet, JsonRpcProvider, Mnemonic, Wallet, type JsonRpcSigner } from "ethers";
import type { Express } from "express";
import pino from "pino";
import type { Deployment } from "../../lib/deployment.ts";
import { FetchJsonRpcProvider } from "../../lib/fetch-json-rpc-provider.ts";
import { loadConfig as loadIndexerConfig } from "../../indexer/config.ts";
import { createIndexer, type Indexer } from "../../indexer/create-indexer.ts";
import { deployContracts, DEV_SETTLEMENT_TREASURY_INDEX } from "../../scripts/deploy-contracts.ts";
import { createApp } from "../../server/app.ts";
import { connectChain, type Chain } from "../../server/chain/chain.ts";
import { ChangeFeed } from "../../server/chain/change-feed.ts";
import type { CrashPoint } from "../../server/crash-points.ts";
import { SessionTokens } from "../../server/auth/session.ts";
import { Relayer } from "../../server/chain/relayer.ts";
import { loadConfig, type Config } from "../../server/config.ts";
import { ContentKeys } from "../../server/content/content-keys.ts";
import { Originals } from "../../server/content/originals.ts";
import { EmbeddedIpfsStore } from "../../server/ipfs/embedded-store.ts";
import { createQueues, type Queues } from "../../server/queues/queues.ts";
import { migrateServerSchema } from "../../server/schema.ts";
import { startWorkers, type Workers } from "../../server/workers.ts";
import { WorkRegistry__factory, type WorkRegistry } from "../../types/typechain/index.ts";
import { createEmbeddedDatabase, createTestDatabase, type TestDatabase } from "./database.ts";
import { createTestRedis, type TestRedis } from "./redis.ts";

/** Hardhat's well-known development mnemonic: its accounts are funded on every Hardhat chain. */
export const DEV_MNEMONIC = "test test test test test test test test test test test junk";

export function devWallet(index: number, provider?: JsonRpcProvider): HDNodeWallet {
  const wallet = HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(DEV_MNEMONIC), `m/44'/60'/0'/0/${index}`);
  return provider ? wallet.connect(provider) : wallet;
}

/** The session secret of every test stack. */
export const TEST_SESSION_SECRET = "test-session-secret-test-session-secret";

/** A session token of `address` valid on any test stack, as signing in with Ethereum gives one. */
export async function sessionToken(address: string): Promise<string> {
  return (await new SessionTokens(TEST_SESSION_SECRET, 3600).issue(address, false)).token;
}

/** Limits no load test reaches: every request of a burst from one address is served. */
export const UNLIMITED_RATES = {
  RATE_LIMIT_PER_MINUTE: "100000000",
  CHECKOUT_VELOCITY_PER_MINUTE: "100000000",
  CHECKOUT_LIMIT_PER_IP_PER_OFFER: "100000000",
  CHECKOUT_HOLDS_PER_IP_PER_OFFER: "100000000",
  CHECKOUT_HOLDS_PER_IP: "100000000",
  RELAYER_GAS_PER_WALLET_PER_DAY: "1000000000000",
  RELAYER_GAS_PER_DAY: "1000000000000",
};

export interface TestStack {
  app: Express;
  config: Config;
  provider: JsonRpcProvider;
  rpcUrl: string;
  deployment: Deployment;
  chainId: number;
  /** The chain as the API sees it, with the settlement contract and its token. */
  chain: Chain;
  db: TestDatabase;
  cache: TestRedis;
  queues: Queues;
  relayer: Relayer;
  registry: WorkRegistry;
  ipfs: EmbeddedIpfsStore;
  /** Originals in `ipfs`, sealed under the stack's content keys when private. */
  originals: Originals;
  indexer: Indexer;
  feed: ChangeFeed;
  /** Signers 0–4 hold the platform roles, 19 the settlement treasury; 5 and up are creators, buyers and players. */
  signer(index: number): Promise<JsonRpcSigner>;
  /** The stack's latest warning and error log lines, for a failed test to show. */
  warnings(): string[];
  /** Resolves when `check` returns a truthy value, polling every 50 ms; rejects after `timeoutMs`. */
  waitFor<T>(check: () => Promise<T | null | undefined | false>, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
}

/**
 * Another API process over the stack's database, Redis, chain and queues, which dies (throws, as
 * the process would stop) when it reaches crash point `at`.
 */
export function appDyingAt(stack: TestStack, at: CrashPoint): Express {
  return createApp({
    config: stack.config,
    db: stack.db.pool,
    redis: stack.cache.redis,
    chain: stack.chain,
    ipfs: stack.ipfs,
    queues: stack.queues,
    feed: stack.feed,
    logger: pino({ level: "silent" }),
    checkpoint: (point) => {
      if (point === at) throw new Error(`process killed at ${point}`);
    },
  });
}

export interface TestStackOptions {
  env?: Record<string, string>;
  /** Start BullMQ workers in this process (default true). */
  workers?: boolean;
  /** Follow the chain with an indexer in this process (default true); false leaves it to an indexer process. */
  indexer?: boolean;
  /** `embedded`: an embedded PGlite served over the PostgreSQL protocol, as `npm start` falls back to. */
  database?: "postgres" | "embedded";
}

/**
 * The whole product in one process on real services: a Hardhat chain served over JSON-RPC, the
 * contracts deployed, a fresh PostgreSQL database, a Redis key prefix, an embedded IPFS store in a
 * temporary directory, the indexer following the chain, the workers and the API app.
 */
export async function startTestStack(label: string, options: TestStackOptions = {}): Promise<TestStack> {
  const server = await network.createServer("default", "127.0.0.1", 0);
  const { address, port } = await server.listen();
  const rpcUrl = `http://${address}:${port}`;
  // The transport the server and the indexer use in production.
  const provider = new FetchJsonRpcProvider(rpcUrl, { pollingInterval: 50, cacheTimeout: -1 });
  const chainId = Number((await provider.getNetwork()).chainId);
  const accounts = await Promise.all([0, 1, 2, 3, 4].map((i) => provider.getSigner(i)));
  const deployment = await deployContracts(
    accounts[0]!,
    {
      admin: accounts[0]!.address,
      relayer: accounts[1]!.address,
      arbiter: accounts[2]!.address,
      treasury: accounts[3]!.address,
      studio: accounts[4]!.address,
      revoker: accounts[1]!.address,
    },
    { devTreasury: await provider.getSigner(DEV_SETTLEMENT_TREASURY_INDEX) },
  );

  const db =
    options.database === "embedded" ? await createEmbeddedDatabase(label) : await createTestDatabase(label);
  const cache = await createTestRedis(label);
  const ipfsDir = await mkdtemp(path.join(tmpdir(), `rl-ipfs-${label}-`));
  // Warnings and errors are kept (the last 200) for a failed test to show; TEST_LOG_LEVEL prints instead.
  const kept: string[] = [];
  const logger = process.env.TEST_LOG_LEVEL
    ? pino({ level: process.env.TEST_LOG_LEVEL })
    : pino(
        { level: "warn" },
        {
          write(line: string) {
            kept.push(line);
            if (kept.length > 200) kept.shift();
          },
        },
      );
  const relayerKey = devWallet(1).privateKey;
  const config = loadConfig({
    NODE_ENV: "test",
    DATABASE_URL: db.url,
    REDIS_URL: "redis://127.0.0.1:6379",
    REDIS_PREFIX: cache.prefix,
    CHAIN_RPC_URL: rpcUrl,
    RELAYER_PRIVATE_KEY: relayerKey,
    SESSION_SECRET: TEST_SESSION_SECRET,
    IPFS_DIR: ipfsDir,
    UPLOAD_STAGING_DIR: `${ipfsDir}-staging`,
    EVIDENCE_DIR: `${ipfsDir}-evidence`,
    DISPUTE_EVIDENCE_DIR: `${ipfsDir}-disputes`,
    SIWE_DOMAIN: "rights-ledger.test",
    RATE_LIMIT_PER_MINUTE: "1000000",
    ...options.env,
  });

  const indexerConfig = loadIndexerConfig({
    DATABASE_URL: db.url,
    REDIS_PREFIX: cache.prefix,
    CHAIN_RPC_URL: rpcUrl,
    INDEXER_FINALITY: "depth",
    INDEXER_CONFIRMATIONS: "2",
    INDEXER_SAFE_CONFIRMATIONS: "1",
    INDEXER_POLL_INTERVAL_MS: "20",
    INDEXER_METRICS_PORT: "0",
    LOG_LEVEL: "silent",
  });
  const indexer = createIndexer({
    config: indexerConfig,
    db: db.pool,
    redis: cache.redis,
    provider,
    deployment,
    logger,
  });
  await indexer.ready();
  await migrateServerSchema(db.pool);

  const ipfs = await EmbeddedIpfsStore.open(ipfsDir);
  const queues = createQueues(cache.redis, cache.prefix);
  const feed = new ChangeFeed(cache.redis, cache.prefix, logger);
  await feed.start();
  const wallet = new Wallet(relayerKey, provider);
  const registry = WorkRegistry__factory.connect(deployment.contracts.WorkRegistry.address, wallet);
  const relayer = new Relayer({
    wallet,
    provider,
    db: db.pool,
    redis: cache.redis,
    redisPrefix: cache.prefix,
    logger,
  });
  let workers: Workers | null = null;
  if (options.workers !== false) {
    workers = await startWorkers({
      config,
      db: db.pool,
      redis: cache.redis,
      connection: cache.redis,
      queues,
      relayer,
      registry,
      provider,
      ipfs,
      chainId,
      deployment,
      logger,
    });
  }
  if (options.indexer !== false) {
    indexer.run().catch((err: unknown) => logger.error({ err }, "indexer stopped"));
  }
  const chain = connectChain(provider, chainId, deployment);
  const app = createApp({
    config,
    db: db.pool,
    redis: cache.redis,
    chain,
    ipfs,
    queues,
    feed,
    logger,
  });

  return {
    app,
    config,
    provider,
    rpcUrl,
    deployment,
    chainId,
    chain,
    db,
    cache,
    queues,
    relayer,
    registry,
    ipfs,
    originals: new Originals(ipfs, new ContentKeys(config.content.keys)),
    indexer,
    feed,
    signer: (index) => provider.getSigner(index),
    warnings: () => [...kept],
    async waitFor(check, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = await check();
        if (value) return value as never;
        if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      await workers?.close();
      await indexer.stop();
      await queues.close();
      await feed.close();
      await ipfs.close();
      await rm(ipfsDir, { recursive: true, force: true });
      await rm(`${ipfsDir}-staging`, { recursive: true, force: true });
      await rm(`${ipfsDir}-evidence`, { recursive: true, force: true });
      await rm(`${ipfsDir}-disputes`, { recursive: true, force: true });
      await cache.cleanup();
      await db.drop();
      provider.destroy();
      await server.close();
    },
  };
}
