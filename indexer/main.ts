/**
 * The indexer process (`npm run indexer`): follows the deployment of the chain at CHAIN_RPC_URL into
 * PostgreSQL, announces changes on Redis and serves Prometheus metrics on INDEXER_METRICS_PORT.
 */
import { WebSocketProvider, type JsonRpcApiProvider } from "ethers";
import { Redis } from "ioredis";
import pg from "pg";
import { pino } from "pino";
import { readDeployment } from "../lib/deployment.ts";
import { ConfigError } from "../lib/config-error.ts";
import { loadConfig, type IndexerConfig } from "./config.ts";
import { createIndexer, type Indexer } from "./create-indexer.ts";
import { FetchJsonRpcProvider } from "../lib/fetch-json-rpc-provider.ts";
import { createMetrics, serveMetrics } from "./metrics.ts";

function configOrExit(): IndexerConfig {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}

const config = configOrExit();
const logger = pino({ name: "indexer", level: config.logLevel });
const db = new pg.Pool({ connectionString: config.databaseUrl, max: 4 });
db.on("error", (error) => logger.warn({ err: error }, "idle database connection failed"));
const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2 });
redis.on("error", (error) => logger.warn({ err: error }, "redis connection error"));
const metrics = createMetrics();
const { server, port } = await serveMetrics(metrics.registry, config.metricsPort);
logger.info({ port }, "metrics on /metrics");

let stopping = false;
let current: Indexer | null = null;
let provider: JsonRpcApiProvider | null = null;

/** An HTTP provider, or a WebSocket one with a promise that settles when its socket closes. */
function connect(): { provider: JsonRpcApiProvider; closed: Promise<void> } {
  if (!config.chainRpcUrl.startsWith("ws")) {
    return { provider: new FetchJsonRpcProvider(config.chainRpcUrl), closed: new Promise(() => undefined) };
  }
  let onClose: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => (onClose = resolve));
  const ws = new WebSocketProvider(() => {
    const socket = new WebSocket(config.chainRpcUrl);
    socket.addEventListener("close", () => onClose());
    return socket;
  });
  return { provider: ws, closed };
}

/** The provider's chain id, waiting for the node to answer. */
async function chainIdOf(chain: JsonRpcApiProvider): Promise<number> {
  for (;;) {
    try {
      return Number(await chain.send("eth_chainId", []));
    } catch (error) {
      logger.warn({ err: error, url: config.chainRpcUrl }, "chain node does not answer; retrying");
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

async function shutdown(code: number): Promise<never> {
  if (code === 0) logger.info("stopping");
  stopping = true;
  await current?.stop();
  await provider?.destroy();
  server.close();
  await Promise.allSettled([db.end(), redis.quit()]);
  process.exit(code);
}
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

// A lost WebSocket ends this indexer; the next one resumes from the committed checkpoint.
while (!stopping) {
  const connection = connect();
  provider = connection.provider;
  try {
    const chainId = await chainIdOf(provider);
    const deployment = await readDeployment(chainId, config.deploymentsDir);
    current = createIndexer({ config, db, redis, provider, deployment, logger, metrics });
    const indexer = current;
    void connection.closed.then(() => {
      logger.error("chain WebSocket closed; reconnecting");
      return indexer.stop();
    });
    await indexer.run();
  } catch (error) {
    logger.fatal({ err: error }, "indexer stopped");
    await shutdown(1);
  }
  await provider.destroy();
  if (!stopping) await new Promise((resolve) => setTimeout(resolve, 1000));
}
