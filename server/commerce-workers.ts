import { DelayedError, Worker, type ConnectionOptions } from "bullmq";
import { Wallet, type Provider } from "ethers";
import type { Redis } from "ioredis";
import type { Pool } from "pg";
import type { Logger } from "pino";
import type { Deployment } from "../lib/deployment.ts";
import { ILicenseToken__factory, LicenseToken__factory } from "../types/typechain/index.ts";
import { ChangeFeed } from "./chain/change-feed.ts";
import { FiatMinter, MAX_MINT_BATCH } from "./chain/fiat-minter.ts";
import { Relayer } from "./chain/relayer.ts";
import type { Config } from "./config.ts";
import { captureOrder } from "./jobs/capture-payment.ts";
import { expireOrders } from "./jobs/expire-orders.ts";
import { fulfillOrder } from "./jobs/fulfill-order.ts";
import { publishOffer } from "./jobs/publish-offer.ts";
import { bullPrefix, QUEUE_NAMES, type OrderJob, type PublishOfferJob, type Queues } from "./jobs/queues.ts";
import { revokeLicense } from "./jobs/revoke-license.ts";
import { createPaymentProvider } from "./payments/create-provider.ts";
import type { PaymentProvider } from "./payments/provider.ts";
import { OrderBatches } from "./repositories/orders.ts";
import { OrderEvents } from "./services/order-events.ts";

export interface CommerceWorkerDeps {
  config: Config;
  db: Pool;
  redis: Redis;
  connection: ConnectionOptions;
  queues: Queues;
  relayer: Relayer;
  provider: Provider;
  deployment: Deployment;
  logger: Logger;
  /** Defaults to the configured provider. */
  payments?: PaymentProvider;
  /**
   * Sender of revocations; defaults to one for REVOKER_PRIVATE_KEY, else the relayer when it is the
   * deployment's revoker, else none (the revoker's wallet signs by hand).
   */
  revoker?: Relayer | null;
  /** Runs right after a mint is broadcast, before the order records it. */
  afterMintSent?: (orderId: string, txHash: string) => Promise<void> | void;
}

export interface CommerceWorkers {
  /** Stops taking jobs and waits for running ones (all of them end at once with `force`). */
  close(force?: boolean): Promise<void>;
}

/** How long a capture job waits on the change feed for a mint to settle before it puts itself back, delayed. */
const CAPTURE_WAIT_MS = 10_000;
/** How long a fulfilment job waits for its fresh mint to settle before handing the capture to a capture job. */
const INLINE_CAPTURE_WAIT_MS = 2_000;
const CAPTURE_RECHECK_MS = 2_000;

/** Starts the consumers of offer publication, fulfilment (mint, then capture), late captures, revocation and order expiry. */
export async function startCommerceWorkers(deps: CommerceWorkerDeps): Promise<CommerceWorkers> {
  const { config, db, redis, connection, queues, relayer, provider, deployment, logger } = deps;
  const prefix = bullPrefix(config.redis.prefix);
  const payments = deps.payments ?? createPaymentProvider(config, db);
  const events = new OrderEvents(redis, config.redis.prefix, logger);
  const licenses = LicenseToken__factory.connect(deployment.contracts.LicenseToken.address, provider);
  const feed = new ChangeFeed(redis, config.redis.prefix, logger);
  await feed.start();
  const key = config.payments.revokerPrivateKey;
  const relayerRevokes = deployment.roles.revoker.toLowerCase() === relayer.address;
  const revoker =
    deps.revoker !== undefined
      ? deps.revoker
      : key
        ? new Relayer({
            wallet: new Wallet(key, provider),
            provider,
            db,
            redis,
            redisPrefix: config.redis.prefix,
            logger,
            interfaces: [ILicenseToken__factory.createInterface()],
          })
        : relayerRevokes
          ? relayer
          : null;
  const minter = new FiatMinter(relayer, licenses);
  const capture = {
    db,
    orders: new OrderBatches(db, deployment.chainId),
    payments,
    events,
    queues,
    logger,
    feed,
    finality: config.checkout.captureFinality,
    waitMs: CAPTURE_WAIT_MS,
  };

  const workers = [
    new Worker<PublishOfferJob>(
      QUEUE_NAMES.publishOffer,
      async (job) => publishOffer({ db, relayer, licenses, logger }, job.data.publicationId),
      { connection, prefix, concurrency: 8 },
    ),
    new Worker<OrderJob>(
      QUEUE_NAMES.fulfillOrder,
      async (job) =>
        fulfillOrder(
          {
            ...capture,
            waitMs: INLINE_CAPTURE_WAIT_MS,
            relayer,
            minter,
            licenses,
            afterSend: deps.afterMintSent,
          },
          job.data.orderId,
        ),
      // Two mint batches' worth: one batch on its way while the next fills. More orders at once
      // would only share the CPU more thinly and all finish later.
      { connection, prefix, concurrency: 2 * MAX_MINT_BATCH },
    ),
    new Worker<OrderJob>(
      QUEUE_NAMES.capturePayment,
      async (job, token) => {
        const result = await captureOrder(capture, job.data.orderId);
        if (result === "waiting") {
          // Not settled yet: check again shortly without spending one of the job's attempts.
          await job.moveToDelayed(Date.now() + CAPTURE_RECHECK_MS, token);
          throw new DelayedError();
        }
        return result;
      },
      { connection, prefix, concurrency: 256 },
    ),
    new Worker<OrderJob>(
      QUEUE_NAMES.revokeLicense,
      async (job) => revokeLicense({ db, revoker, licenses, events, logger }, job.data.orderId),
      { connection, prefix, concurrency: 64 },
    ),
    new Worker(QUEUE_NAMES.expireOrders, async () => expireOrders({ db, payments, events, logger }), {
      connection,
      prefix,
      concurrency: 1,
    }),
  ];
  for (const worker of workers) {
    worker.on("failed", (job, err) => {
      logger.warn(
        { queue: worker.name, jobId: job?.id, attempts: job?.attemptsMade, err: err.message },
        "job failed",
      );
    });
    worker.on("error", (err) => logger.error({ queue: worker.name, err }, "worker error"));
  }
  await queues.expireOrders.upsertJobScheduler(
    "expire-orders",
    { every: config.checkout.sweepSeconds * 1000 },
    { name: "expire-orders", data: {} },
  );

  return {
    async close(force = false) {
      await Promise.all(workers.map((w) => w.close(force)));
      await feed.close();
    },
  };
}
