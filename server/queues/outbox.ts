import { withTransaction } from "../../lib/transaction.ts";
import type { Pool, PoolClient } from "pg";
import type { Logger } from "pino";
import { noCrashes, type Checkpoint } from "../crash-points.ts";
import { RECOVERY_KINDS, type Recoveries } from "../recoveries.ts";
import type { QueueName, Queues } from "./queues.ts";

/** A job a committed change promised, as recorded in the outbox table. */
export interface OutboxJob {
  id: string;
  queue: QueueName;
  jobId: string;
  data: Record<string, unknown>;
}

/**
 * An INSERT recording one job per row of `select` (which yields queue, job id and data), for a
 * data-modifying CTE of the statement that makes the change; read its jobs back with `outboxJobs`.
 */
export function recordJobsSql(select: string): string {
  return `INSERT INTO outbox (queue, job_id, data) ${select}
    RETURNING jsonb_build_object('id', id::text, 'queue', queue, 'jobId', job_id, 'data', data) AS job`;
}

/** A select-list item: every job the CTE `cte` (a `recordJobsSql`) recorded, as a jsonb array named `outbox_jobs`. */
export function outboxJobs(cte: string): string {
  return `(SELECT coalesce(jsonb_agg(${cte}.job), '[]'::jsonb) FROM ${cte}) AS outbox_jobs`;
}

/** Records jobs in the caller's transaction. */
export async function recordJobs(client: PoolClient, jobs: Omit<OutboxJob, "id">[]): Promise<OutboxJob[]> {
  if (jobs.length === 0) return [];
  const { rows } = await client.query<{ job: OutboxJob }>(
    recordJobsSql(`SELECT j->>'queue', j->>'jobId', j->'data' FROM jsonb_array_elements($1::jsonb) AS j`),
    [JSON.stringify(jobs)],
  );
  return rows.map((r) => r.job);
}

export interface OutboxDeps {
  db: Pool;
  queues: Queues;
  logger: Logger;
  recoveries: Recoveries;
  checkpoint?: Checkpoint;
}

/** A row left this long was committed by a process that died before queueing it (or is slow): the relay takes it. */
const RELAY_AFTER_MS = 2_000;
const RELAY_BATCH = 500;

/**
 * Delivers the outbox to the queues. The process that commits a change queues its jobs right away
 * (`deliver`); the relay, run by every worker process, queues whatever is still there a little
 * later — the jobs of a process that died between its commit and its queueing. Rows are claimed
 * with FOR UPDATE SKIP LOCKED, so relays never wait for each other, and a relay that dies holding
 * rows leaves them to the next. Job ids are the ones the change chose, so a job queued twice runs once.
 */
export class Outbox {
  readonly #checkpoint: Checkpoint;

  constructor(private readonly deps: OutboxDeps) {
    this.#checkpoint = deps.checkpoint ?? noCrashes;
  }

  /** Queues jobs this process has just committed and deletes their rows; a failure is left to the relay. */
  async deliver(jobs: OutboxJob[]): Promise<void> {
    if (jobs.length === 0) return;
    try {
      await this.#queue(jobs);
      this.#checkpoint("outbox:after-queue");
      await this.deps.db.query(`DELETE FROM outbox WHERE id = ANY($1::bigint[])`, [jobs.map((j) => j.id)]);
    } catch (err) {
      this.deps.logger.warn(
        { err, jobs: jobs.length },
        "could not queue committed jobs yet; the outbox relay will",
      );
    }
  }

  /** One pass of the relay: queues the jobs left in the outbox. Answers how many. */
  async relay(): Promise<number> {
    const { db } = this.deps;
    const due = await db.query(
      `SELECT 1 FROM outbox WHERE created_at < now() - make_interval(secs => $1) LIMIT 1`,
      [RELAY_AFTER_MS / 1000],
    );
    if (due.rowCount === 0) return 0;
    const rows = await withTransaction(db, async (client) => {
      const { rows } = await client.query<OutboxJob>(
        `SELECT id::text, queue, job_id AS "jobId", data FROM outbox
          WHERE created_at < now() - make_interval(secs => $1)
          ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [RELAY_AFTER_MS / 1000, RELAY_BATCH],
      );
      if (rows.length > 0) {
        await this.#queue(rows);
        this.#checkpoint("outbox:after-queue");
        await client.query(`DELETE FROM outbox WHERE id = ANY($1::bigint[])`, [rows.map((r) => r.id)]);
      }
      return rows;
    });
    if (rows.length > 0) {
      this.deps.recoveries.record(
        RECOVERY_KINDS.outboxRelayed,
        rows.length,
        { jobIds: rows.slice(0, 10).map((r) => r.jobId) },
        "queued jobs a process committed but did not queue",
      );
    }
    return rows.length;
  }

  /** Runs the relay every `intervalMs` until stopped. */
  start(intervalMs = 500): { stop(): Promise<void> } {
    let stopped = false;
    let pass: Promise<unknown> = Promise.resolve();
    const timer = setInterval(() => {
      pass = pass
        .then(async () => {
          if (stopped) return;
          // A full batch means more are waiting: keep going.
          while (!stopped && (await this.relay()) === RELAY_BATCH);
        })
        .catch((err: unknown) => this.deps.logger.warn({ err }, "outbox relay pass failed"));
    }, intervalMs);
    return {
      async stop() {
        stopped = true;
        clearInterval(timer);
        await pass;
      },
    };
  }

  async #queue(jobs: OutboxJob[]): Promise<void> {
    const byQueue = new Map<QueueName, OutboxJob[]>();
    for (const job of jobs) byQueue.set(job.queue, [...(byQueue.get(job.queue) ?? []), job]);
    await Promise.all(
      [...byQueue].map(([name, queued]) =>
        this.deps.queues
          .byName(name)
          .addBulk(queued.map((j) => ({ name, data: j.data, opts: { jobId: j.jobId } }))),
      ),
    );
  }
}
