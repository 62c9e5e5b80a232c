import { readFile } from "node:fs/promises";
import type { ConnectionOptions } from "bullmq";
import { Wallet, type JsonRpcApiProvider } from "ethers";
import type { Redis } from "ioredis";
import type { Pool } from "pg";
import type { Logger } from "pino";
import type { Deployment } from "../lib/deployment.ts";
import { parseCertificates } from "../lib/evidence/timestamp.ts";
import type { WorkRegistry } from "../types/typechain/index.ts";
import { ChainClock } from "./chain/chain-clock.ts";
import { BatchClaimer, MAX_CLAIM_BATCH } from "./chain/batch-claimer.ts";
import { RedisLock } from "./chain/redis-lock.ts";
import type { Relayer } from "./chain/relayer.ts";
import { startCommerceWorkers } from "./commerce-workers.ts";
import { startPayoutWorkers } from "./payout-workers.ts";
import { startMailWorkers } from "./mail/mail-workers.ts";
import type { Config } from "./config.ts";
import { noCrashes, type Checkpoint } from "./crash-points.ts";
import { DeferredError } from "./errors.ts";
import type { IpfsStore } from "./ipfs/store.ts";
import { ContentKeys } from "./content/content-keys.ts";
import { Originals } from "./content/originals.ts";
import { collectBundles } from "./jobs/collect-bundles.ts";
import { collectUploads } from "./jobs/collect-uploads.ts";
import { claimLeaf } from "./jobs/claim-leaf.ts";
import { buildEvidence } from "./jobs/evidence.ts";
import { flushBatches } from "./jobs/flush-batch.ts";
import { closeWorkers, jobWorker } from "./jobs/job-worker.ts";
import { notarize } from "./jobs/notarize.ts";
import { Outbox } from "./queues/outbox.ts";
import { markFailed } from "./repositories/registrations.ts";
import { Recoveries } from "./recoveries.ts";
import {
  QUEUE_NAMES,
  type ClaimLeafJob,
  type EvidenceJob,
  type FlushBatchJob,
  type NotarizeJob,
  type Queues,
} from "./queues/queues.ts";
import { EvidenceFactsRepository } from "./repositories/evidence-facts.ts";
import { EvidenceRequestsRepository } from "./repositories/evidence-requests.ts";
import { EvidenceBundleStore } from "./evidence/bundle-store.ts";

export interface WorkerDeps {
  config: Config;
  db: Pool;
  redis: Redis;
  connection: ConnectionOptions;
  queues: Queues;
  relayer: Relayer;
  registry: WorkRegistry;
  provider: JsonRpcApiProvider;
  ipfs: IpfsStore;
  chainId: number;
  deployment: Deployment;
  logger: Logger;
  /** Crash points the workers pass (tests only). */
  checkpoint?: Checkpoint;
}

export interface Workers {
  /**
   * Stops taking jobs and relaying the outbox; jobs still running after `graceMs` are handed back
   * to their queues, and the relayer finishes the turn it is in and sends nothing more.
   */
  close(graceMs?: number): Promise<void>;
}

const STUCK_AFTER_MS = 60_000;

/**
 * Starts the job consumers, the outbox relay and the recurring schedules (batch flush,
 * stuck-transaction replacement), after broadcasting what a relayer turn that died recorded.
 */
export async function startWorkers(deps: WorkerDeps): Promise<Workers> {
  const { config, connection, logger } = deps;
  const checkpoint = deps.checkpoint ?? noCrashes;
  const recoveries = new Recoveries(deps.redis, config.redis.prefix, logger);
  const worker = { connection, redisPrefix: config.redis.prefix, logger, recoveries };
  await deps.relayer.recover();
  const outbox = new Outbox({ db: deps.db, queues: deps.queues, logger, recoveries, checkpoint });
  const relay = outbox.start();
  const claimer = new BatchClaimer(deps.relayer, deps.registry);
  // Held for a whole flush, which waits for receipts: a renewed lease, waited for as long as a flush takes.
  const batchLock = new RedisLock(deps.redis, `${config.redis.prefix}:flush-batch:lock`, {
    leaseMs: 10_000,
    waitMs: 15 * 60_000,
  });
  const { tsaUrl, tsaCaFile } = config.evidence;
  const evidenceDeps = {
    requests: new EvidenceRequestsRepository(deps.db),
    facts: new EvidenceFactsRepository(deps.db),
    bundles: new EvidenceBundleStore(config.evidence.dir),
    quotaBytes: config.evidence.quotaBytes,
    provider: deps.provider,
    originals: new Originals(deps.ipfs, new ContentKeys(config.content.keys)),
    chainId: deps.chainId,
    registryAddress: await deps.registry.getAddress(),
    signer: new Wallet(config.evidence.signerKey),
    tsa: tsaUrl
      ? { url: tsaUrl, trustedCerts: tsaCaFile ? parseCertificates(await readFile(tsaCaFile)) : undefined }
      : undefined,
    minConfirmations: config.evidence.minConfirmations,
    logger,
  };

  const workers = [
    jobWorker<NotarizeJob, unknown>(worker, QUEUE_NAMES.notarize, 16, async (job) => {
      try {
        return await notarize(
          { db: deps.db, relayer: deps.relayer, registry: deps.registry, logger },
          job.data.contentHash,
        );
      } catch (err) {
        // Out of retries: say so, so the creator can submit again. A deferral spends no attempt.
        if (!(err instanceof DeferredError) && job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) {
          await markFailed(deps.db, job.data.contentHash, err instanceof Error ? err.message : String(err));
        }
        throw err;
      }
    }),
    jobWorker<FlushBatchJob, unknown>(worker, QUEUE_NAMES.flushBatch, 1, async () =>
      batchLock.withLock(() =>
        flushBatches({
          db: deps.db,
          relayer: deps.relayer,
          registry: deps.registry,
          ipfs: deps.ipfs,
          outbox,
          logger,
          chainId: deps.chainId,
          maxWorks: config.notarize.batchMaxWorks,
        }),
      ),
    ),
    // As many at once as one claim transaction holds, so an anchored batch's leaves are claimed in groups.
    jobWorker<ClaimLeafJob, unknown>(worker, QUEUE_NAMES.claimLeaf, MAX_CLAIM_BATCH, async (job) =>
      claimLeaf(
        { db: deps.db, relayer: deps.relayer, claimer, registry: deps.registry, logger },
        job.data.batchId,
        job.data.leafIndex,
      ),
    ),
    jobWorker<EvidenceJob, unknown>(worker, QUEUE_NAMES.evidence, 4, async (job) =>
      buildEvidence(evidenceDeps, job.data.requestId, {
        finalAttempt: job.attemptsMade + 1 >= (job.opts.attempts ?? 1),
      }),
    ),
    jobWorker(worker, QUEUE_NAMES.maintenance, 1, async () => ({
      replaced: await deps.relayer.replaceStuck(STUCK_AFTER_MS),
    })),
    jobWorker(worker, QUEUE_NAMES.collectUploads, 1, async () => ({
      ...(await collectUploads({
        db: deps.db,
        ipfs: deps.ipfs,
        logger,
        collectAfterSeconds: config.uploads.collectAfterSeconds,
      })),
      bundleFiles: await collectBundles({
        db: deps.db,
        bundles: evidenceDeps.bundles,
        logger,
        collectAfterSeconds: config.uploads.collectAfterSeconds,
      }),
    })),
  ];

  await deps.queues.flushBatch.upsertJobScheduler(
    "flush-batch-timer",
    { every: config.notarize.batchFlushSeconds * 1000 },
    { name: "flush", data: { reason: "timer" } },
  );
  await deps.queues.collectUploads.upsertJobScheduler(
    "collect-uploads",
    { every: config.uploads.collectEverySeconds * 1000 },
    { name: "collect", data: {} },
  );
  await deps.queues.maintenance.upsertJobScheduler(
    "replace-stuck",
    { every: 30_000 },
    { name: "replace-stuck", data: {} },
  );

  const commerce = await startCommerceWorkers({ ...deps, checkpoint });
  const payouts = await startPayoutWorkers({ ...deps, checkpoint });
  const mail = await startMailWorkers({ ...deps, clock: new ChainClock(deps.provider), checkpoint });

  return {
    async close(graceMs) {
      await relay.stop();
      await Promise.all([
        closeWorkers(workers, graceMs),
        commerce.close(graceMs),
        payouts.close(graceMs),
        mail.close(graceMs),
      ]);
      await deps.relayer.close();
    },
  };
}
