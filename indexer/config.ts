import { z } from "zod";
import { ConfigError } from "../lib/config-error.ts";

const integer = (min: number) =>
  z.coerce
    .number({ error: "must be an integer" })
    .int({ error: "must be an integer" })
    .min(min, { error: `must be at least ${min}` });

const envSchema = z.object({
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, error: "must be a postgres:// URL" }),
  REDIS_URL: z
    .url({ protocol: /^rediss?$/, error: "must be a redis:// URL" })
    .default("redis://127.0.0.1:6379"),
  REDIS_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9:_-]*[a-zA-Z0-9_-]$/, {
      error: "letters, digits, ':', '_' and '-', not ending in ':'",
    })
    .default("rl"),
  CHAIN_RPC_URL: z
    .url({ protocol: /^(https?|wss?)$/, error: "must be an http(s):// or ws(s):// URL" })
    .default("http://127.0.0.1:8545"),
  DEPLOYMENTS_DIR: z.string().min(1).default("deployments"),
  INDEXER_START_BLOCK: integer(0).optional(),
  INDEXER_FINALITY: z.enum(["tags", "depth"], { error: 'must be "tags" or "depth"' }).default("tags"),
  INDEXER_CONFIRMATIONS: integer(1).default(64),
  INDEXER_SAFE_CONFIRMATIONS: integer(0).optional(),
  INDEXER_POLL_INTERVAL_MS: integer(10).default(100),
  INDEXER_BLOCK_RANGE: integer(1).default(2000),
  INDEXER_MAX_BLOCK_RANGE: integer(1).default(50_000),
  INDEXER_TARGET_LOGS_PER_RANGE: integer(100).default(5000),
  INDEXER_METRICS_PORT: integer(0).max(65_535, { error: "must be a port number" }).default(9464),
  LOG_LEVEL: z
    .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], { error: "must be a pino level" })
    .default("info"),
});

/** The indexer's settings, read once at start-up. */
export interface IndexerConfig {
  databaseUrl: string;
  redisUrl: string;
  /** Prefix of every Redis key and channel of this deployment. */
  redisPrefix: string;
  chainRpcUrl: string;
  deploymentsDir: string;
  /** First block to index; by default the block of the earliest deployed contract. */
  startBlock: number | undefined;
  /** `tags`: the chain's `safe`/`finalized` blocks (depth when the chain has none); `depth`: confirmations only. */
  finality: "tags" | "depth";
  /** Blocks behind the head after which a block is final (fallback finality depth, and the deepest reorg handled). */
  confirmations: number;
  /** Blocks behind the head after which a block is safe, when finality is by depth. */
  safeConfirmations: number;
  pollIntervalMs: number;
  /** First eth_getLogs range; it then adapts to the provider between 1 and `maxBlockRange`. */
  blockRange: number;
  maxBlockRange: number;
  /** Ranges shrink when they return more logs than this and grow when they return far fewer. */
  targetLogsPerRange: number;
  metricsPort: number;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
}

/** Reads and validates the indexer's environment variables. */
export function loadConfig(env: Record<string, string | undefined> = process.env): IndexerConfig {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ""),
  );
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? "environment");
    const value = present[name];
    throw new ConfigError(
      value === undefined
        ? `invalid configuration: ${name} is missing (${issue.message})`
        : `invalid configuration: ${name} ${issue.message} (got "${value}")`,
    );
  }
  const e = parsed.data;
  const safeConfirmations = e.INDEXER_SAFE_CONFIRMATIONS ?? Math.ceil(e.INDEXER_CONFIRMATIONS / 2);
  if (safeConfirmations > e.INDEXER_CONFIRMATIONS) {
    throw new ConfigError(
      `invalid configuration: INDEXER_SAFE_CONFIRMATIONS (${safeConfirmations}) exceeds INDEXER_CONFIRMATIONS (${e.INDEXER_CONFIRMATIONS})`,
    );
  }
  if (e.INDEXER_BLOCK_RANGE > e.INDEXER_MAX_BLOCK_RANGE) {
    throw new ConfigError(
      `invalid configuration: INDEXER_BLOCK_RANGE (${e.INDEXER_BLOCK_RANGE}) exceeds INDEXER_MAX_BLOCK_RANGE (${e.INDEXER_MAX_BLOCK_RANGE})`,
    );
  }
  return {
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    redisPrefix: e.REDIS_PREFIX,
    chainRpcUrl: e.CHAIN_RPC_URL,
    deploymentsDir: e.DEPLOYMENTS_DIR,
    startBlock: e.INDEXER_START_BLOCK,
    finality: e.INDEXER_FINALITY,
    confirmations: e.INDEXER_CONFIRMATIONS,
    safeConfirmations,
    pollIntervalMs: e.INDEXER_POLL_INTERVAL_MS,
    blockRange: e.INDEXER_BLOCK_RANGE,
    maxBlockRange: e.INDEXER_MAX_BLOCK_RANGE,
    targetLogsPerRange: e.INDEXER_TARGET_LOGS_PER_RANGE,
    metricsPort: e.INDEXER_METRICS_PORT,
    logLevel: e.LOG_LEVEL,
  };
}
