import type { ConnectionOptions } from "bullmq";
import type { Provider } from "ethers";
import type { Redis } from "ioredis";
import type { Pool } from "pg";
import type { Logger } from "pino";
import type { Deployment } from "../lib/deployment.ts";
import { IERC20Metadata__factory, PayoutSettlement__factory } from "../types/typechain/index.ts";
import { ChainClock } from "./chain/chain-clock.ts";
import type { Relayer } from "./chain/relayer.ts";
import type { Config } from "./config.ts";
import { noCrashes, type Checkpoint } from "./crash-points.ts";
import { closeWorkers, jobWorker } from "./jobs/job-worker.ts";
import { OrderBooker } from "./payouts/jobs/book-order.ts";
import { settlePayouts } from "./payouts/settlement.ts";
import { QUEUE_NAMES, type OrderJob, type Queues } from "./queues/queues.ts";
import { Recoveries } from "./recoveries.ts";

export interface PayoutWorkerDeps {
  config: Config;
  db: Pool;
  redis: Redis;
  connection: ConnectionOptions;
  queues: Queues;
  relayer: Relayer;
  provider: Provider;
  deployment: Deployment;
  logger: Logger;
  checkpoint?: Checkpoint;
}

export interface PayoutWorkers {
  close(graceMs?: number): Promise<void>;
}

/** Starts the payout ledger's consumers: the bookings of card payments, and their settlement on chain every SETTLEMENT_EVERY_SECONDS. */
export async function startPayoutWorkers(deps: PayoutWorkerDeps): Promise<PayoutWorkers> {
  const { config, db, redis, connection, queues, relayer, provider, deployment, logger } = deps;
  const recoveries = new Recoveries(redis, config.redis.prefix, logger);
  const worker = { connection, redisPrefix: config.redis.prefix, logger, recoveries };
  const clock = new ChainClock(provider);
  const contract = PayoutSettlement__factory.connect(deployment.contracts.PayoutSettlement.address, provider);
  const token = {
    address: deployment.settlementToken,
    decimals: Number(await IERC20Metadata__factory.connect(deployment.settlementToken, provider).decimals()),
    currency: config.payouts.currency,
  };
  const settlement = {
    db,
    relayer,
    contract,
    token,
    clock,
    holdbackSeconds: config.payouts.holdbackSeconds,
    maxPayees: config.payouts.maxPayees,
    maxPaymentRefs: config.payouts.maxPaymentRefs,
    logger,
    checkpoint: deps.checkpoint ?? noCrashes,
  };

  const booker = new OrderBooker({ db, clock, logger });
  const workers = [
    // Captures arrive in bursts: many bookings at once go in one transaction.
    jobWorker<OrderJob, unknown>(worker, QUEUE_NAMES.bookPayment, 256, async (job) =>
      booker.book(job.data.orderId),
    ),
    jobWorker(worker, QUEUE_NAMES.settlePayouts, 1, async () => settlePayouts(settlement)),
  ];
  await queues.settlePayouts.upsertJobScheduler(
    "settle-payouts",
    { every: config.payouts.settleEverySeconds * 1000 },
    { name: "settle-payouts", data: {} },
  );
  return {
    async close(graceMs) {
      await closeWorkers(workers, graceMs);
    },
  };
}
