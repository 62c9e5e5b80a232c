import type { ConnectionOptions } from "bullmq";
import type { Provider } from "ethers";
import type { Redis } from "ioredis";
import type { Pool } from "pg";
import type { Logger } from "pino";
import type { Deployment } from "../lib/deployment.ts";
import { LicenseToken__factory } from "../types/typechain/index.ts";
import { ChainClock } from "./chain/chain-clock.ts";
import type { Config } from "./config.ts";
import { closeWorkers, jobWorker } from "./jobs/job-worker.ts";
import { bookOrder } from "./payouts/jobs/book-order.ts";
import { QUEUE_NAMES, type OrderJob } from "./queues/queues.ts";
import { Recoveries } from "./recoveries.ts";

export interface PayoutWorkerDeps {
  config: Config;
  db: Pool;
  redis: Redis;
  connection: ConnectionOptions;
  provider: Provider;
  deployment: Deployment;
  logger: Logger;
}

export interface PayoutWorkers {
  close(graceMs?: number): Promise<void>;
}

/** Starts the payout ledger's consumers: the bookings of card payments. */
export async function startPayoutWorkers(deps: PayoutWorkerDeps): Promise<PayoutWorkers> {
  const { config, db, redis, connection, provider, deployment, logger } = deps;
  const recoveries = new Recoveries(redis, config.redis.prefix, logger);
  const worker = { connection, redisPrefix: config.redis.prefix, logger, recoveries };
  const licenses = LicenseToken__factory.connect(deployment.contracts.LicenseToken.address, provider);
  const clock = new ChainClock(provider);

  const workers = [
    jobWorker<OrderJob, unknown>(worker, QUEUE_NAMES.bookPayment, 16, async (job) =>
      bookOrder({ db, clock, licenses, logger }, job.data.orderId),
    ),
  ];
  return {
    async close(graceMs) {
      await closeWorkers(workers, graceMs);
    },
  };
}
