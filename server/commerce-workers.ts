import type { ConnectionOptions } from "bullmq";
import { Wallet, type Provider } from "ethers";
import type { Redis } from "ioredis";
import type { Pool } from "pg";
import type { Logger } from "pino";
import type { Deployment } from "../lib/deployment.ts";
import {
  CodeCommitments__factory,
  ILicenseToken__factory,
  LicenseToken__factory,
  SplitFactory__factory,
} from "../types/typechain/index.ts";
import { CodeCipher } from "./codes/code-cipher.ts";
import { commitCodes } from "./jobs/commit-codes.ts";
import { ChangeFeed } from "./chain/change-feed.ts";
import { FiatMinter, MAX_MINT_BATCH } from "./chain/fiat-minter.ts";
import { Relayer } from "./chain/relayer.ts";
import type { Config } from "./config.ts";
import { noCrashes, type Checkpoint } from "./crash-points.ts";
import { DeferredError } from "./errors.ts";
import { captureOrder } from "./orders/jobs/capture-payment.ts";
import { expireOrders } from "./orders/jobs/expire-orders.ts";
import { fulfillOrder } from "./orders/jobs/fulfill-order.ts";
import { mailReceipt } from "./orders/jobs/mail-receipt.ts";
import { publishOffer } from "./jobs/publish-offer.ts";
import { setReferrer } from "./jobs/set-referrer.ts";
import { createSplit } from "./jobs/create-split.ts";
import { closeWorkers, jobWorker, jobWorkers } from "./jobs/job-worker.ts";
import { Outbox } from "./queues/outbox.ts";
import {
  QUEUE_NAMES,
  type CommitCodesJob,
  type CreateSplitJob,
  type OrderJob,
  type PublishOfferJob,
  type Queues,
  type RefundPaymentJob,
  type SetReferrerJob,
} from "./queues/queues.ts";
import { revokeLicense } from "./orders/jobs/revoke-license.ts";
import { createPaymentProvider } from "./payments/create-provider.ts";
import type { PaymentProvider } from "./payments/provider.ts";
import { OrderBatches } from "./orders/batches.ts";
import { Recoveries } from "./recoveries.ts";
import { OrderEvents } from "./orders/events.ts";
import { refundPayment } from "./refunds/jobs/refund-payment.ts";

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
  /** Crash points the fulfilment passes (tests only). */
  checkpoint?: Checkpoint;
}

export interface CommerceWorkers {
  /** Stops taking jobs; those still running after `graceMs` are handed back to their queues. */
  close(graceMs?: number): Promise<void>;
}

/** How long a capture job waits on the change feed for a mint to settle before it puts itself back, delayed. */
const CAPTURE_WAIT_MS = 10_000;
/** How long a fulfilment job waits for its fresh mint to settle before handing the capture to a capture job. */
const INLINE_CAPTURE_WAIT_MS = 2_000;
const CAPTURE_RECHECK_MS = 2_000;

/** Starts the consumers of split creation, offer publication, referrer approvals, fulfilment (mint, then capture), late captures, approved refunds, revocation and order expiry. */
export async function startCommerceWorkers(deps: CommerceWorkerDeps): Promise<CommerceWorkers> {
  const { config, db, redis, connection, queues, relayer, provider, deployment, logger } = deps;
  const checkpoint = deps.checkpoint ?? noCrashes;
  const recoveries = new Recoveries(redis, config.redis.prefix, logger);
  const outbox = new Outbox({ db, queues, logger, recoveries, checkpoint });
  const worker = { connection, redisPrefix: config.redis.prefix, logger, recoveries };
  const payments = deps.payments ?? createPaymentProvider(config, db);
  const events = new OrderEvents(redis, config.redis.prefix, logger);
  const licenses = LicenseToken__factory.connect(deployment.contracts.LicenseToken.address, provider);
  const factory = SplitFactory__factory.connect(deployment.contracts.SplitFactory.address, provider);
  const feed = new ChangeFeed(redis, config.redis.prefix, logger);
  await feed.start();
  const key = config.payments.revokerPrivateKey;
  const relayerRevokes = deployment.roles.revoker.toLowerCase() === relayer.address;
  const ownRevoker =
    deps.revoker === undefined && key
      ? new Relayer({
          wallet: new Wallet(key, provider),
          provider,
          db,
          redis,
          redisPrefix: config.redis.prefix,
          logger,
          interfaces: [ILicenseToken__factory.createInterface()],
          checkpoint,
        })
      : null;
  const revoker =
    deps.revoker !== undefined ? deps.revoker : (ownRevoker ?? (relayerRevokes ? relayer : null));
  await ownRevoker?.recover();
  const minter = new FiatMinter(relayer, licenses);
  const commitments = CodeCommitments__factory.connect(
    deployment.contracts.CodeCommitments.address,
    provider,
  );
  const cipher = new CodeCipher(config.codes.key);
  const capture = {
    db,
    orders: new OrderBatches(db, deployment.chainId, outbox),
    outbox,
    payments,
    events,
    queues,
    logger,
    checkpoint,
    feed,
    finality: config.checkout.captureFinality,
    waitMs: CAPTURE_WAIT_MS,
  };

  const workers = [
    jobWorker<PublishOfferJob, unknown>(worker, QUEUE_NAMES.publishOffer, 8, async (job) =>
      publishOffer({ db, relayer, licenses, logger }, job.data.publicationId),
    ),
    jobWorker<SetReferrerJob, unknown>(worker, QUEUE_NAMES.setReferrer, 8, async (job) =>
      setReferrer({ db, relayer, licenses, logger }, job.data.requestId),
    ),
    jobWorker<CreateSplitJob, unknown>(worker, QUEUE_NAMES.createSplit, 8, async (job) =>
      createSplit({ db, relayer, factory, logger }, job.data.split),
    ),
    // Two mint batches' worth: one batch on its way while the next fills. More orders at once
    // would only share the CPU more thinly and all finish later. Over several workers, so the
    // orders of a burst start as they are fetched rather than once the burst is over.
    ...jobWorkers<OrderJob, unknown>(worker, QUEUE_NAMES.fulfillOrder, 2 * MAX_MINT_BATCH, async (job) =>
      fulfillOrder(
        {
          ...capture,
          waitMs: INLINE_CAPTURE_WAIT_MS,
          relayer,
          minter,
          licenses,
          claims: { ttlSeconds: config.checkout.claimTtlSeconds, key: config.checkout.claimKey },
        },
        job.data.orderId,
      ),
    ),
    jobWorker<OrderJob, unknown>(worker, QUEUE_NAMES.capturePayment, 256, async (job) => {
      const result = await captureOrder(capture, job.data.orderId);
      // Not settled yet: check again shortly without spending one of the job's attempts.
      if (result === "waiting") throw new DeferredError("mint not settled yet", CAPTURE_RECHECK_MS);
      return result;
    }),
    jobWorker<OrderJob, unknown>(worker, QUEUE_NAMES.orderReceipt, 16, async (job) =>
      mailReceipt({ db, outbox }, job.data.orderId),
    ),
    jobWorker<OrderJob, unknown>(worker, QUEUE_NAMES.revokeLicense, 64, async (job) =>
      revokeLicense({ db, revoker, licenses, events, logger }, job.data.orderId),
    ),
    jobWorker<RefundPaymentJob, unknown>(worker, QUEUE_NAMES.refundPayment, 16, async (job) =>
      refundPayment({ db, payments, logger }, job.data.requestId),
    ),
    jobWorker<CommitCodesJob, unknown>(worker, QUEUE_NAMES.commitCodes, 4, async (job) =>
      commitCodes({ db, relayer, commitments, cipher, logger }, job.data.batchId),
    ),
    jobWorker(worker, QUEUE_NAMES.expireOrders, 1, async () =>
      expireOrders({ db, payments, events, logger }),
    ),
  ];
  await queues.expireOrders.upsertJobScheduler(
    "expire-orders",
    { every: config.checkout.sweepSeconds * 1000 },
    { name: "expire-orders", data: {} },
  );

  return {
    async close(graceMs) {
      await closeWorkers(workers, graceMs);
      await ownRevoker?.close();
      await feed.close();
    },
  };
}
