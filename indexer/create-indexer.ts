import { WebSocketProvider } from "ethers";
import type { Redis } from "ioredis";
import type { Pool } from "pg";
import type { Logger } from "pino";
import type { Deployment } from "../lib/deployment.ts";
import { createChainClient, type ChainProvider } from "./chain.ts";
import type { IndexerConfig } from "./config.ts";
import { createHeadTracker } from "./finality.ts";
import { createMetrics, type IndexerMetrics } from "./metrics.ts";
import { createChangePublisher } from "./notify.ts";
import { migrateIndexerSchema } from "./schema.ts";
import { ChainIdentityError, createSync, DeepReorgError, type Sync } from "./sync.ts";

export interface IndexerDeps {
  config: IndexerConfig;
  db: Pool;
  redis: Redis;
  /** Any ethers provider (JsonRpcProvider, WebSocketProvider, BrowserProvider, Hardhat's). */
  provider: ChainProvider;
  deployment: Deployment;
  logger: Logger;
  /** Metrics to record into, so they outlive one indexer (a process that reconnects); new ones by default. */
  metrics?: IndexerMetrics;
}

export interface Indexer {
  readonly metrics: IndexerMetrics;
  /** Migrates the schema and loads the checkpoint; the other methods call it first. */
  ready(): Promise<void>;
  /** Backfills, then follows the chain until `stop()`; rejects only on a fatal error (a reorg below finality). */
  run(): Promise<void>;
  /** Indexes until the provider's current head and returns; errors are thrown, not retried. */
  syncToHead(): Promise<void>;
  /** The last block whose rows are committed. */
  indexedBlock(): number;
  /** Stops following and waits for the step in progress to finish. */
  stop(): Promise<void>;
}

/** Longest wait between retries of a failing step. */
const MAX_BACKOFF_MS = 30_000;
/** Fallback poll while subscribed to new heads over WebSocket. */
const SUBSCRIBED_POLL_MS = 1000;

/** Errors that retrying cannot fix. */
function isFatal(error: unknown): boolean {
  return error instanceof DeepReorgError || error instanceof ChainIdentityError;
}

/** Builds the indexer from its dependencies; nothing connects until `ready()`, `run()` or `syncToHead()`. */
export function createIndexer(deps: IndexerDeps): Indexer {
  const { config, db, redis, provider, deployment, logger } = deps;
  const metrics = deps.metrics ?? createMetrics();
  const chain = createChainClient(provider);
  let sync: Sync | null = null;
  let readying: Promise<void> | null = null;
  let stopped = false;
  let running: Promise<void> | null = null;
  let wake: (() => void) | null = null;
  let listening = false;

  const onPoolError = (error: Error) => logger.warn({ err: error }, "idle database connection failed");

  async function prepare(): Promise<void> {
    const chainId = await chain.chainId();
    if (chainId !== deployment.chainId) {
      throw new Error(
        `the provider is on chain ${chainId} but the deployment is for chain ${deployment.chainId}`,
      );
    }
    const applied = await migrateIndexerSchema(db);
    if (applied.length > 0) logger.info({ migrations: applied.map((m) => m.name) }, "schema migrated");
    const { rows } = await db.query<{ head_block: string; safe_block: string; finalized_block: string }>(
      "SELECT head_block, safe_block, finalized_block FROM indexer_state WHERE chain_id = $1",
      [chainId],
    );
    const stored = rows[0];
    const heads = createHeadTracker({
      chain,
      config,
      logger,
      initial: {
        head: Number(stored?.head_block ?? 0),
        safe: Number(stored?.safe_block ?? 0),
        finalized: Number(stored?.finalized_block ?? 0),
      },
    });
    const created = createSync({
      config,
      db,
      chain,
      deployment,
      heads,
      metrics,
      publisher: createChangePublisher(redis, config.redisPrefix, logger),
      logger,
    });
    await created.init();
    sync = created;
  }

  function ready(): Promise<void> {
    if (!listening) {
      // pg emits errors of idle pooled connections (a restarted server) on the pool; they must not crash.
      db.on("error", onPoolError);
      listening = true;
    }
    if (!readying) {
      readying = prepare().catch((error: unknown) => {
        readying = null;
        throw error;
      });
    }
    return readying;
  }

  function pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = null;
        resolve();
      }
      wake = done;
    });
  }

  async function loop(): Promise<void> {
    const subscribed = provider instanceof WebSocketProvider;
    const onBlock = () => wake?.();
    if (subscribed) await provider.on("block", onBlock);
    let failures = 0;
    try {
      while (!stopped) {
        try {
          if (!sync) await ready();
          const result = await sync!.step();
          failures = 0;
          if (result === "idle") await pause(subscribed ? SUBSCRIBED_POLL_MS : config.pollIntervalMs);
        } catch (error) {
          if (isFatal(error)) {
            logger.fatal({ err: error }, "indexing stopped");
            throw error;
          }
          failures += 1;
          metrics.errors.inc({ kind: error instanceof Error ? error.name : "unknown" });
          // Start the next attempt from the database's checkpoint, not from memory: a commit whose
          // answer was lost may have landed, and memory would then disagree with it for ever.
          sync = null;
          readying = null;
          const backoff = Math.min(MAX_BACKOFF_MS, 250 * 2 ** Math.min(failures - 1, 10));
          const delay = Math.round(backoff * (0.8 + Math.random() * 0.4));
          logger.error({ err: error, failures, retryInMs: delay }, "indexing step failed; retrying");
          if (!stopped) await pause(delay);
        }
      }
    } finally {
      if (subscribed) await provider.off("block", onBlock);
    }
  }

  return {
    metrics,
    ready,

    run() {
      stopped = false;
      running ??= loop().finally(() => {
        running = null;
      });
      return running;
    },

    async syncToHead() {
      await ready();
      while ((await sync!.step()) !== "idle");
    },

    indexedBlock() {
      return sync?.checkpoint().number ?? -1;
    },

    async stop() {
      stopped = true;
      wake?.();
      await running?.catch(() => undefined);
      db.off("error", onPoolError);
      listening = false;
    },
  };
}
