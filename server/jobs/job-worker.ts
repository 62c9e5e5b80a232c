import {
  DelayedError,
  UnrecoverableError,
  WaitingError,
  Worker,
  type ConnectionOptions,
  type Job,
  type Processor,
} from "bullmq";
import type { Logger } from "pino";
import { DeferredError, PermanentError } from "../errors.ts";
import { RECOVERY_KINDS, type Recoveries } from "../recoveries.ts";
import { workerOptions, type QueueName } from "../queues/queues.ts";

export interface JobWorkerDeps {
  connection: ConnectionOptions;
  redisPrefix: string;
  logger: Logger;
  recoveries: Recoveries;
}

/** How long a stopping worker lets its running jobs finish before it hands the rest back. */
export const SHUTDOWN_GRACE_MS = 4_000;

/** The worker is stopping and gives the job back. */
class HandedBack extends Error {}

/**
 * The processor of `run`, with the platform's job semantics in one place:
 * - a DeferredError (a passing fault of the platform's own, such as the relayer resynchronizing)
 *   puts the job back, delayed, without spending one of its attempts;
 * - when the worker stops, a job still running after the grace period goes back to its queue at
 *   once for another worker; the work already done is safe to repeat, as every job's is;
 * - a PermanentError fails the job at once (BullMQ's UnrecoverableError);
 * - any other error is a failed attempt, retried with backoff.
 */
function processor<T, R>(
  deps: JobWorkerDeps,
  queue: QueueName,
  run: (job: Job<T, R>) => Promise<R>,
): Processor<T, R> {
  return async (job, token, signal) => {
    const running = run(job);
    // Left behind when the job is handed back: its outcome no longer matters here.
    running.catch(() => undefined);
    const handedBack = new Promise<never>((_, reject) => {
      if (signal?.aborted) reject(new HandedBack());
      signal?.addEventListener("abort", () => reject(new HandedBack()), { once: true });
    });
    handedBack.catch(() => undefined);
    try {
      return await Promise.race([running, handedBack]);
    } catch (err) {
      if (err instanceof HandedBack) {
        await job.moveToWait(token);
        deps.recoveries.record(
          RECOVERY_KINDS.handedBackJob,
          1,
          { queue, jobId: job.id },
          "worker stopping: handed a running job back to its queue",
        );
        throw new WaitingError();
      }
      if (err instanceof DeferredError) {
        await job.moveToDelayed(Date.now() + err.retryInMs, token);
        throw new DelayedError();
      }
      if (err instanceof PermanentError) throw new UnrecoverableError(err.message);
      throw err;
    }
  };
}

/**
 * A worker consuming `queue` with `run` at `concurrency`, with the recovery timing of
 * `workerOptions`; failed attempts, errors and jobs recovered from a dead worker are logged, and
 * recoveries counted.
 */
export function jobWorker<T, R>(
  deps: JobWorkerDeps,
  queue: QueueName,
  concurrency: number,
  run: (job: Job<T, R>) => Promise<R>,
): Worker<T, R> {
  const { logger } = deps;
  const worker = new Worker<T, R>(
    queue,
    processor(deps, queue, run),
    workerOptions(deps.connection, deps.redisPrefix, concurrency),
  );
  worker.on("failed", (job, err) => {
    logger.warn({ queue, jobId: job?.id, attempts: job?.attemptsMade, err: err.message }, "job failed");
  });
  worker.on("error", (err) => logger.error({ queue, err }, "worker error"));
  worker.on("stalled", (jobId) => {
    deps.recoveries.record(
      RECOVERY_KINDS.stalledJob,
      1,
      { queue, jobId },
      "a worker died holding a job: put it back in its queue",
    );
  });
  return worker;
}

/**
 * Most jobs one BullMQ worker of `jobWorkers` holds at once. A BullMQ worker fetches jobs one at a
 * time and starts none of them until it stops fetching (its queue is empty, or it holds its
 * concurrency): while a burst arrives as fast as it fetches, a worker with a large concurrency
 * keeps every job it fetched waiting until the burst is over.
 */
export const FETCH_GROUP = 10;

/**
 * `jobWorker` at `concurrency` in all, spread over workers holding FETCH_GROUP jobs at most: a job
 * of a burst waits behind a few fetches at most before it starts, and the workers fetch side by side.
 */
export function jobWorkers<T, R>(
  deps: JobWorkerDeps,
  queue: QueueName,
  concurrency: number,
  run: (job: Job<T, R>) => Promise<R>,
): Worker<T, R>[] {
  const count = Math.ceil(concurrency / FETCH_GROUP);
  return Array.from({ length: count }, (_, i) =>
    jobWorker(deps, queue, Math.floor(concurrency / count) + (i < concurrency % count ? 1 : 0), run),
  );
}

/**
 * Stops `workers` taking jobs and waits for their running ones; those still running after
 * `graceMs` are handed back to their queues, so another worker takes them at once.
 */
export async function closeWorkers(workers: Worker[], graceMs = SHUTDOWN_GRACE_MS): Promise<void> {
  const closing = Promise.all(workers.map((w) => w.close()));
  const handBack = setTimeout(() => {
    for (const worker of workers) worker.cancelAllJobs("worker stopping");
  }, graceMs);
  try {
    await closing;
  } finally {
    clearTimeout(handBack);
  }
}
