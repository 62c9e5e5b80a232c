/** Fixtures for the indexer tests: a Hardhat chain, a database, Redis, and table dumps to compare. */
import type { HardhatEthersProvider } from "@nomicfoundation/hardhat-ethers/types";
import { network } from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";
import pg from "pg";
import { pino, type Logger } from "pino";
import { CONTRACT_NAMES, type ContractName, type Deployment } from "../../lib/deployment.ts";
import { contractInterfaces, type ContractKind } from "../../indexer/abi.ts";
import type { ChainProvider } from "../../indexer/chain.ts";
import type { IndexerConfig } from "../../indexer/config.ts";
import { createIndexer, type Indexer } from "../../indexer/create-indexer.ts";
import { CURRENT_TABLES, HISTORY_TABLES } from "../../indexer/db/derived.ts";
import { createTestDatabase, type TestDatabase } from "./database.ts";
import { LOG_EMITTER_CODE, emitterCalldata } from "./log-emitter.ts";
import { createTestRedis, type TestRedis } from "./redis.ts";

export type Request = (method: string, params?: unknown[]) => Promise<unknown>;

/** A Hardhat network of its own, with a raw JSON-RPC `request`. */
export async function createChain(): Promise<{
  conn: NetworkConnection;
  provider: HardhatEthersProvider;
  request: Request;
}> {
  const conn = await network.create();
  const request: Request = (method, params = []) => conn.provider.request({ method, params });
  return { conn, provider: conn.ethers.provider, request };
}

/** Settings for tests: finality by depth (so reorgs of up to 10 blocks can be rolled back), fast polling. */
/** The 32-byte word holding `n`, as hex: a distinct content hash per number. */
export const HASH = (n: number) => `0x${n.toString(16).padStart(64, "0")}`;
/** The 20-byte address holding `n`, as lower-case hex. */
export const ADDRESS = (n: number) => `0x${n.toString(16).padStart(40, "0")}`;

export function testConfig(overrides: Partial<IndexerConfig> = {}): IndexerConfig {
  return {
    databaseUrl: "postgres://unused",
    redisUrl: "redis://unused",
    redisPrefix: "test",
    chainRpcUrl: "http://unused",
    deploymentsDir: "deployments",
    startBlock: undefined,
    finality: "depth",
    confirmations: 12,
    safeConfirmations: 4,
    pollIntervalMs: 20,
    blockRange: 2000,
    maxBlockRange: 50_000,
    targetLogsPerRange: 5000,
    metricsPort: 0,
    logLevel: "silent",
    ...overrides,
  };
}

/** A logger that keeps what it is given, to check what the indexer reported. */
export function memoryLogger(): {
  logger: Logger;
  lines: { level: number; msg: string; [key: string]: unknown }[];
} {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino(
    { level: "debug" },
    {
      write(line: string) {
        lines.push(JSON.parse(line) as { level: number; msg: string });
      },
    },
  );
  return { logger, lines };
}

/** One test file's database and Redis namespace, and indexers over them. */
export interface IndexerEnv {
  database: TestDatabase;
  redis: TestRedis;
  /** An indexer on this file's database (or another pool), with the test settings. */
  indexer(options: {
    provider: ChainProvider;
    deployment: Deployment;
    config?: Partial<IndexerConfig>;
    db?: pg.Pool;
    logger?: Logger;
  }): Indexer;
  close(): Promise<void>;
}

export async function createIndexerEnv(label: string): Promise<IndexerEnv> {
  const database = await createTestDatabase(label);
  const redis = await createTestRedis(label);
  const indexers: Indexer[] = [];
  return {
    database,
    redis,
    indexer({ provider, deployment, config, db, logger }) {
      const indexer = createIndexer({
        config: testConfig({ redisPrefix: redis.prefix, ...config }),
        db: db ?? database.pool,
        redis: redis.redis,
        provider,
        deployment,
        logger: logger ?? pino({ level: "silent" }),
      });
      indexers.push(indexer);
      return indexer;
    },
    async close() {
      await Promise.all(indexers.map((indexer) => indexer.stop()));
      await Promise.all([database.drop(), redis.cleanup()]);
    },
  };
}

/** Every row of the raw and derived tables, in a stable order: what "the same index" means. */
export async function dumpTables(db: pg.Pool): Promise<Record<string, unknown[]>> {
  const dump: Record<string, unknown[]> = {};
  for (const table of [...CURRENT_TABLES, ...HISTORY_TABLES]) {
    const { rows } = await db.query(`SELECT * FROM ${table.name} t ORDER BY t::text`);
    dump[table.name] = rows;
  }
  return dump;
}

/** The stored state row of the indexed chain. */
export async function indexerState(db: pg.Pool) {
  const { rows } = await db.query<{
    block_number: string;
    block_hash: string | null;
    finalized_block: string;
  }>("SELECT block_number, block_hash, finalized_block FROM indexer_state");
  return rows[0];
}

const EMITTER_ADDRESSES: Record<ContractName, string> = {
  WorkRegistry: "0x0000000000000000000000000000000000000a01",
  SplitFactory: "0x0000000000000000000000000000000000000a02",
  LicenseToken: "0x0000000000000000000000000000000000000a03",
  GameItems: "0x0000000000000000000000000000000000000a04",
  ItemEscrow: "0x0000000000000000000000000000000000000a05",
  PayoutSettlement: "0x0000000000000000000000000000000000000a06",
};

/**
 * Log emitters installed at the contract addresses of a deployment, to produce any event
 * (well-formed or not) from any followed or unfollowed address.
 */
export async function installEmitters(request: Request) {
  for (const address of Object.values(EMITTER_ADDRESSES)) {
    await request("hardhat_setCode", [address, LOG_EMITTER_CODE]);
  }
  const [from] = (await request("eth_accounts")) as string[];
  const blockNumber = Number(await request("eth_blockNumber"));
  const interfaces = contractInterfaces();
  const deployment: Deployment = {
    chainId: Number(await request("eth_chainId")),
    deployedAt: new Date(0).toISOString(),
    contracts: Object.fromEntries(
      CONTRACT_NAMES.map((name) => [
        name,
        { address: EMITTER_ADDRESSES[name], blockNumber, txHash: `0x${"0".repeat(64)}` },
      ]),
    ) as Deployment["contracts"],
    settlementToken: "0x0000000000000000000000000000000000000a07",
    roles: {
      admin: from!,
      relayer: from!,
      arbiter: from!,
      treasury: from!,
      studio: from!,
      revoker: from!,
      settlementTreasury: from!,
    },
    settings: {
      platformFeeBps: 250,
      escrowCommissionBps: 250,
      confirmationWindowSeconds: 3600,
      disputeWindowSeconds: 86_400,
      adminDelaySeconds: 0,
    },
  };

  /** Sends one transaction that logs `topics` and `data` from `address`; returns its block number. */
  async function emitRaw(address: string, topics: string[], data: string): Promise<number> {
    const hash = await request("eth_sendTransaction", [
      { from, to: address, data: emitterCalldata(topics, data), gas: "0x200000" },
    ]);
    const receipt = (await request("eth_getTransactionReceipt", [hash])) as { blockNumber: string } | null;
    if (!receipt) throw new Error("no receipt: is automine off?");
    return Number(receipt.blockNumber);
  }

  return {
    deployment,
    emitRaw,
    /** Emits `name` with `args` as contract `kind` at `address` (by default the deployment's). */
    async emit(kind: ContractKind, name: string, args: unknown[], address?: string): Promise<number> {
      const { topics, data } = interfaces[kind].encodeEventLog(name, args);
      const target = address ?? EMITTER_ADDRESSES[kind as ContractName];
      return emitRaw(target, topics, data);
    },
    /** Makes `address` an emitter too (a split clone). */
    async installAt(address: string): Promise<void> {
      await request("hardhat_setCode", [address, LOG_EMITTER_CODE]);
    },
  };
}

export type Emitters = Awaited<ReturnType<typeof installEmitters>>;

/** A provider whose calls go through `intercept`, to simulate a lagging, failing or lying node. */
export function interceptProvider(
  provider: ChainProvider,
  intercept: (method: string, params: unknown[], next: () => Promise<unknown>) => Promise<unknown>,
): ChainProvider {
  return { send: (method, params) => intercept(method, params, () => provider.send(method, params)) };
}

/** Waits until `check` holds, polling every 20 ms. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The value of a counter or gauge (summed over labels, or for one label set). */
export async function metricValue(
  indexer: Indexer,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = await indexer.metrics.registry.getSingleMetric(name)?.get();
  return (metric?.values ?? [])
    .filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))
    .reduce((sum, v) => sum + v.value, 0);
}
