import { Wallet, WebSocketProvider, type JsonRpcApiProvider } from "ethers";
import { Redis } from "ioredis";
import pg from "pg";
import pino, { type Logger } from "pino";
import { readDeployment, type Deployment } from "../lib/deployment.ts";
import { FetchJsonRpcProvider } from "../lib/fetch-json-rpc-provider.ts";
import { WorkRegistry__factory, type WorkRegistry } from "../types/typechain/index.ts";
import { connectChain, type Chain } from "./chain/chain.ts";
import { ChangeFeed } from "./chain/change-feed.ts";
import { Relayer } from "./chain/relayer.ts";
import { checkChain, type Config } from "./config.ts";
import { crashAt, type Checkpoint } from "./crash-points.ts";
import { createIpfsStore } from "./ipfs/create-store.ts";
import type { IpfsStore } from "./ipfs/store.ts";
import { createQueues, type Queues } from "./queues/queues.ts";

/** Everything the API and the workers share, connected from the configuration. */
export interface Runtime {
  config: Config;
  logger: Logger;
  db: pg.Pool;
  redis: Redis;
  provider: JsonRpcApiProvider;
  chainId: number;
  deployment: Deployment;
  /** The provider, chain id and deployment, with the settlement contract and its token. */
  chain: Chain;
  registry: WorkRegistry;
  relayer: Relayer;
  ipfs: IpfsStore;
  queues: Queues;
  feed: ChangeFeed;
  /** The crash points CRASH_POINTS armed (tests only); does nothing otherwise. */
  checkpoint: Checkpoint;
  close(): Promise<void>;
}

/**
 * A provider for `url`; answers are never cached, since nonces and heads must be read fresh. Calls
 * made in the same tick (a relayer group's broadcasts) share one HTTP request, but no call waits
 * for others to join it.
 */
export function createProvider(url: string): JsonRpcApiProvider {
  return url.startsWith("ws")
    ? new WebSocketProvider(url)
    : new FetchJsonRpcProvider(url, { pollingInterval: 250, cacheTimeout: -1 });
}

/** Connects to PostgreSQL, Redis, the chain and IPFS as configured. */
export async function createRuntime(
  config: Config,
  logger = pino({ level: config.logLevel }),
): Promise<Runtime> {
  const db = new pg.Pool({ connectionString: config.database.url, max: config.database.poolSize });
  db.on("error", (err) => logger.error({ err }, "idle PostgreSQL connection failed"));
  const redis = new Redis(config.redis.url, { maxRetriesPerRequest: null });
  const provider = createProvider(config.chain.rpcUrl);
  const chainId = Number((await provider.getNetwork()).chainId);
  const deployment = await readDeployment(chainId, config.chain.deploymentsDir);
  checkChain(config, { chainId, revoker: deployment.roles.revoker });
  const checkpoint = crashAt(config.crashPoints);
  const wallet = new Wallet(config.chain.relayerPrivateKey, provider);
  const registry = WorkRegistry__factory.connect(deployment.contracts.WorkRegistry.address, wallet);
  const relayer = new Relayer({
    wallet,
    provider,
    db,
    redis,
    redisPrefix: config.redis.prefix,
    logger,
    checkpoint,
  });
  const ipfs = await createIpfsStore({ apiUrl: config.ipfs.apiUrl, dir: config.ipfs.dir });
  const queues = createQueues(redis, config.redis.prefix);
  const feed = new ChangeFeed(redis, config.redis.prefix, logger);
  return {
    config,
    logger,
    db,
    redis,
    provider,
    chainId,
    deployment,
    chain: connectChain(provider, chainId, deployment),
    registry,
    relayer,
    ipfs,
    queues,
    feed,
    checkpoint,
    async close() {
      await feed.close();
      await queues.close();
      await ipfs.close();
      redis.disconnect();
      await db.end();
      provider.destroy();
    },
  };
}
