import { readFile } from "node:fs/promises";
import { Worker, type ConnectionOptions } from "bullmq";
import { Wallet, type JsonRpcApiProvider } from "ethers";
import type { Redis } from "ioredis";
import type { Pool } from "pg";
import type { Logger } from "pino";
import type { Deployment } from "../lib/deployment.ts";
import { parseCertificates } from "../lib/evidence/timestamp.ts";
import type { WorkRegistry } from "../types/typechain/index.ts";
import { RedisLock } from "./chain/redis-lock.ts";
import type { Relayer } from "./chain/relayer.ts";
import { startCommerceWorkers } from "./commerce-workers.ts";
import type { Config } from "./config.ts";
import type { IpfsStore } from "./ipfs/store.ts";
import { buildEvidence } from "./jobs/evidence.ts";
import { flushBatches } from "./jobs/flush-batch.ts";
import { notarize } from "./jobs/notarize.ts";
import { markFailed } from "./repositories/registrations.ts";
import {
  bullPrefix,
  QUEUE_NAMES,
  type EvidenceJob,
  type FlushBatchJob,
  type NotarizeJob,
  type Queues,
} from "./jobs/queues.ts";
import { EvidenceFactsRepository } from "./repositories/evidence-facts.ts";
import { EvidenceRequestsRepository } from "./repositories/evidence-requests.ts";

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
}

export interface Workers {
  close(): Promise<void>;
}

const STUCK_AFTER_MS = 60_000;

/** Starts the job consumers and the recurring schedules (batch flush, stuck-transaction replacement). */
export async function startWorkers(deps: WorkerDeps): Promise<Workers> {
  const { config, connection, logger } = deps;
  const prefix = bullPrefix(config.redis.prefix);
  // Held for a whole flush, which waits for receipts: far longer than one transaction can take.
  const batchLock = new RedisLock(
    deps.redis,
    `${config.redis.prefix}:flush-batch:lock`,
    15 * 60_000,
    15 * 60_000,
  );
  const { tsaUrl, tsaCaFile } = config.evidence;
  const evidenceDeps = {
    requests: new EvidenceRequestsRepository(deps.db),
    facts: new EvidenceFactsRepository(deps.db),
    provider: deps.provider,
    ipfs: deps.ipfs,
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
    new Worker<NotarizeJob>(
      QUEUE_NAMES.notarize,
      async (job) => {
        try {
          return await notarize(
            { db: deps.db, relayer: deps.relayer, registry: deps.registry, logger },
            job.data.contentHash,
          );
        } catch (err) {
          // Out of retries: say so, so the creator can submit again.
          if (job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) {
            await markFailed(deps.db, job.data.contentHash, err instanceof Error ? err.message : String(err));
          }
          throw err;
        }
      },
      { connection, prefix, concurrency: 16 },
    ),
    new Worker<FlushBatchJob>(
      QUEUE_NAMES.flushBatch,
      async () =>
        batchLock.withLock(() =>
          flushBatches({
            db: deps.db,
            relayer: deps.relayer,
            registry: deps.registry,
            ipfs: deps.ipfs,
            logger,
            chainId: deps.chainId,
            maxWorks: config.notarize.batchMaxWorks,
          }),
        ),
      { connection, prefix, concurrency: 1 },
    ),
    new Worker<EvidenceJob>(
      QUEUE_NAMES.evidence,
      async (job) =>
        buildEvidence(evidenceDeps, job.data.requestId, {
          finalAttempt: job.attemptsMade + 1 >= (job.opts.attempts ?? 1),
        }),
      { connection, prefix, concurrency: 4 },
    ),
    new Worker(
      QUEUE_NAMES.maintenance,
      async () => ({ replaced: await deps.relayer.replaceStuck(STUCK_AFTER_MS) }),
      {
        connection,
        prefix,
        concurrency: 1,
      },
    ),
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

  await deps.queues.flushBatch.upsertJobScheduler(
    "flush-batch-timer",
    { every: config.notarize.batchFlushSeconds * 1000 },
    { name: "flush", data: { reason: "timer" } },
  );
  await deps.queues.maintenance.upsertJobScheduler(
    "replace-stuck",
    { every: 30_000 },
    { name: "replace-stuck", data: {} },
  );

  const commerce = await startCommerceWorkers(deps);

  return {
    async close() {
      await Promise.all([...workers.map((w) => w.close()), commerce.close()]);
    },
  };
}
