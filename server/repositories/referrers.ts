import type { ChainHeads } from "../../lib/finality.ts";
import { finalityOf } from "../../lib/finality.ts";
import { checksum } from "../../lib/address.ts";
import type { OfferReferrer, ReferrerRequestStatus } from "../../lib/api/referrers.ts";
import type { Queryable } from "../../lib/transaction.ts";
import { outboxJobs, recordJobsSql, type OutboxJob } from "../queues/outbox.ts";
import { referrerJob } from "../queues/queues.ts";

/** A creator's signed approval (or withdrawal) of a referrer, as stored for the relayer. */
export interface ReferrerRequestRecord {
  id: string;
  creator: string;
  nonce: string;
  offerId: string;
  referrer: string;
  approved: boolean;
  deadline: string;
  signature: string;
  status: ReferrerRequestStatus;
  txHash: string | null;
  error: string | null;
  createdAt: Date;
}

interface RequestRow {
  id: string;
  creator: string;
  nonce: string;
  offer_id: string;
  referrer: string;
  approved: boolean;
  deadline: string;
  signature: string;
  status: ReferrerRequestStatus;
  tx_hash: string | null;
  error: string | null;
  created_at: Date;
}

const COLUMNS = `id, creator, nonce::text, offer_id::text, referrer, approved, deadline::text, signature, status,
  tx_hash, error, created_at`;

function toRecord(row: RequestRow): ReferrerRequestRecord {
  return {
    id: row.id,
    creator: row.creator,
    nonce: row.nonce,
    offerId: row.offer_id,
    referrer: row.referrer,
    approved: row.approved,
    deadline: row.deadline,
    signature: row.signature,
    status: row.status,
    txHash: row.tx_hash,
    error: row.error,
    createdAt: row.created_at,
  };
}

/**
 * Inserts a request with its `set-referrer` job unless the creator already used the nonce; returns
 * the one stored either way, and the job recorded.
 */
export async function insertReferrerRequest(
  db: Queryable,
  r: Omit<ReferrerRequestRecord, "status" | "txHash" | "error" | "createdAt">,
): Promise<{ request: ReferrerRequestRecord; created: boolean; jobs: OutboxJob[] }> {
  const job = referrerJob(r.id);
  const { rows } = await db.query<RequestRow & { outbox_jobs: OutboxJob[] }>(
    `WITH inserted AS (
       INSERT INTO referrer_requests (id, creator, nonce, offer_id, referrer, approved, deadline, signature, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending')
       ON CONFLICT (creator, nonce) DO NOTHING
       RETURNING *
     ), queued AS (
       ${recordJobsSql(`SELECT $9, $10, $11::jsonb FROM inserted`)}
     )
     SELECT ${COLUMNS}, ${outboxJobs("queued")} FROM inserted`,
    [
      r.id,
      r.creator,
      r.nonce,
      r.offerId,
      r.referrer,
      r.approved,
      r.deadline,
      r.signature,
      job.queue,
      job.jobId,
      JSON.stringify(job.data),
    ],
  );
  if (rows[0]) return { request: toRecord(rows[0]), created: true, jobs: rows[0].outbox_jobs };
  const existing = await db.query<RequestRow>(
    `SELECT ${COLUMNS} FROM referrer_requests WHERE creator = $1 AND nonce = $2`,
    [r.creator, r.nonce],
  );
  return { request: toRecord(existing.rows[0]!), created: false, jobs: [] };
}

export async function findReferrerRequest(db: Queryable, id: string): Promise<ReferrerRequestRecord | null> {
  const { rows } = await db.query<RequestRow>(`SELECT ${COLUMNS} FROM referrer_requests WHERE id = $1`, [id]);
  return rows[0] ? toRecord(rows[0]) : null;
}

/** Whether the creator's nonce went to an offer publication already (the chain shares one nonce space). */
export async function publicationUsesNonce(db: Queryable, creator: string, nonce: string): Promise<boolean> {
  const { rows } = await db.query(`SELECT 1 FROM offer_publications WHERE creator = $1 AND nonce = $2`, [
    creator,
    nonce,
  ]);
  return rows.length > 0;
}

/** The offer's requests still on their way, and failed ones, latest first. */
export async function openReferrerRequests(db: Queryable, offerId: string): Promise<ReferrerRequestRecord[]> {
  const { rows } = await db.query<RequestRow>(
    `SELECT ${COLUMNS} FROM referrer_requests WHERE offer_id = $1 AND status <> 'confirmed'
      ORDER BY created_at DESC, id LIMIT 50`,
    [offerId],
  );
  return rows.map(toRecord);
}

export async function markReferrerRequestSubmitted(db: Queryable, id: string, txHash: string): Promise<void> {
  await db.query(
    `UPDATE referrer_requests SET status = 'submitted', tx_hash = $2, updated_at = now()
      WHERE id = $1 AND status IN ('pending', 'submitted')`,
    [id, txHash],
  );
}

/** The approval holds on chain; `txHash` is null when someone else sent the creator's signature first. */
export async function markReferrerRequestConfirmed(
  db: Queryable,
  id: string,
  txHash: string | null,
): Promise<void> {
  await db.query(
    `UPDATE referrer_requests SET status = 'confirmed', tx_hash = COALESCE($2, tx_hash), error = NULL,
            updated_at = now()
      WHERE id = $1`,
    [id, txHash],
  );
}

export async function markReferrerRequestFailed(db: Queryable, id: string, error: string): Promise<void> {
  await db.query(
    `UPDATE referrer_requests SET status = 'failed', error = $2, updated_at = now() WHERE id = $1`,
    [id, error],
  );
}

/** The offer's referrer approvals as indexed (withdrawn ones included), latest first. */
export async function offerReferrers(
  db: Queryable,
  offerId: string,
  heads: ChainHeads,
): Promise<OfferReferrer[]> {
  const { rows } = await db.query<{
    referrer: string;
    approved: boolean;
    block_number: string;
    tx_hash: string;
  }>(
    `SELECT referrer, approved, block_number::text, tx_hash FROM offer_referrers
      WHERE offer_id = $1 ORDER BY block_number DESC, log_index DESC`,
    [offerId],
  );
  return rows.map((row) => ({
    referrer: checksum(row.referrer)!,
    approved: row.approved,
    blockNumber: row.block_number,
    txHash: row.tx_hash,
    finality: finalityOf(row.block_number, heads),
  }));
}
