import type { SplitRequestStatus } from "../../lib/api/splits.ts";
import type { Queryable } from "../../lib/transaction.ts";
import { outboxJobs, recordJobsSql, type OutboxJob } from "../queues/outbox.ts";
import { splitJob } from "../queues/queues.ts";

/** A creator's signed request for the relayer to create a split, as stored. */
export interface SplitRequestRecord {
  split: string;
  creator: string;
  recipients: string[];
  sharesBps: number[];
  deadline: string;
  signature: string;
  status: SplitRequestStatus;
  txHash: string | null;
  error: string | null;
  createdAt: Date;
}

interface RequestRow {
  split: string;
  creator: string;
  recipients: string[];
  shares_bps: number[];
  deadline: string;
  signature: string;
  status: SplitRequestStatus;
  tx_hash: string | null;
  error: string | null;
  created_at: Date;
}

const COLUMNS = `split, creator, recipients, shares_bps, deadline::text, signature, status, tx_hash, error, created_at`;

function toRecord(row: RequestRow): SplitRequestRecord {
  return {
    split: row.split,
    creator: row.creator,
    recipients: row.recipients,
    sharesBps: row.shares_bps,
    deadline: row.deadline,
    signature: row.signature,
    status: row.status,
    txHash: row.tx_hash,
    error: row.error,
    createdAt: row.created_at,
  };
}

/**
 * Inserts a request with its `create-split` job unless the split was asked for already; returns the
 * one stored either way, and the job recorded.
 */
export async function insertSplitRequest(
  db: Queryable,
  r: Omit<SplitRequestRecord, "status" | "txHash" | "error" | "createdAt">,
): Promise<{ request: SplitRequestRecord; created: boolean; jobs: OutboxJob[] }> {
  const job = splitJob(r.split);
  const { rows } = await db.query<RequestRow & { outbox_jobs: OutboxJob[] }>(
    `WITH inserted AS (
       INSERT INTO split_requests (split, creator, recipients, shares_bps, deadline, signature, status)
       VALUES ($1, $2, $3, $4, $5, $6, 'pending')
       ON CONFLICT (split) DO NOTHING
       RETURNING *
     ), queued AS (
       ${recordJobsSql(`SELECT $7, $8, $9::jsonb FROM inserted`)}
     )
     SELECT ${COLUMNS}, ${outboxJobs("queued")} FROM inserted`,
    [
      r.split,
      r.creator,
      r.recipients,
      r.sharesBps,
      r.deadline,
      r.signature,
      job.queue,
      job.jobId,
      JSON.stringify(job.data),
    ],
  );
  if (rows[0]) return { request: toRecord(rows[0]), created: true, jobs: rows[0].outbox_jobs };
  return { request: (await findSplitRequest(db, r.split))!, created: false, jobs: [] };
}

export async function findSplitRequest(db: Queryable, split: string): Promise<SplitRequestRecord | null> {
  const { rows } = await db.query<RequestRow>(`SELECT ${COLUMNS} FROM split_requests WHERE split = $1`, [
    split,
  ]);
  return rows[0] ? toRecord(rows[0]) : null;
}

export async function markSplitRequestSubmitted(db: Queryable, split: string, txHash: string): Promise<void> {
  await db.query(
    `UPDATE split_requests SET status = 'submitted', tx_hash = $2, updated_at = now()
      WHERE split = $1 AND status IN ('pending', 'submitted')`,
    [split, txHash],
  );
}

/** The split exists; `txHash` is null when someone else created it first. */
export async function markSplitRequestCreated(
  db: Queryable,
  split: string,
  txHash: string | null,
): Promise<void> {
  await db.query(
    `UPDATE split_requests SET status = 'created', tx_hash = COALESCE($2, tx_hash), error = NULL, updated_at = now()
      WHERE split = $1`,
    [split, txHash],
  );
}

export async function markSplitRequestFailed(db: Queryable, split: string, error: string): Promise<void> {
  await db.query(
    `UPDATE split_requests SET status = 'failed', error = $2, updated_at = now() WHERE split = $1`,
    [split, error],
  );
}
