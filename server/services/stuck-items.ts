import type { Job } from "bullmq";
import type { Pool } from "pg";
import { QUEUE_NAMES, type Queues } from "../queues/queues.ts";

export type StuckKind =
  "order" | "job" | "relayer-transaction" | "outbox" | "batch-leaf" | "booking" | "settlement" | "mail";

/** Something that has been in its state longer than expected. */
export interface StuckItem {
  kind: StuckKind;
  /** The order id, `<queue>/<job id>`, the transaction hash, the outbox job id, `<batch id>/<leaf index>` or the mail's key. */
  id: string;
  state: string;
  /** Since when it is in that state (its last change). */
  since: string;
  ageSeconds: number;
  expectedSeconds: number;
}

export interface StuckThresholds {
  /** Steps the platform finishes on its own (queue a job, start a paid order's mint, release an authorization). */
  platformSeconds: number;
  /** Steps that wait for the chain (a mint settling before capture, a transaction being mined, a revocation). */
  chainSeconds: number;
}

/** Beyond this, a step the platform finishes on its own is late whatever the chain does. */
export const PLATFORM_STEP_SECONDS = 60;
/** Most items of each kind listed. */
const LIMIT = 100;

const age = (since: Date) => Math.round((Date.now() - since.getTime()) / 1000);

async function stuckOrders(db: Pool, t: StuckThresholds): Promise<StuckItem[]> {
  const { rows } = await db.query<{ id: string; state: string; updated_at: Date; expected: number }>(
    `WITH o AS (
       SELECT id, status, updated_at, status = 'failed' AND payment_status = 'authorized' AS releasing,
              revoke_reason IS NOT NULL AND revoked_at IS NULL AS revoking
         FROM orders
        WHERE status IN ('paid', 'minting')
           OR (status = 'failed' AND payment_status = 'authorized')
           OR (revoke_reason IS NOT NULL AND revoked_at IS NULL)
     )
     SELECT id, updated_at,
            CASE WHEN releasing THEN 'failed, authorization held'
                 WHEN revoking THEN status || ', revocation pending'
                 ELSE status END AS state,
            CASE WHEN status = 'paid' OR releasing THEN $1::int ELSE $2::int END AS expected
       FROM o
      WHERE updated_at < now() - make_interval(secs => CASE WHEN status = 'paid' OR releasing THEN $1::int ELSE $2::int END)
      ORDER BY updated_at LIMIT $3`,
    [t.platformSeconds, t.chainSeconds, LIMIT],
  );
  return rows.map((r) => ({
    kind: "order",
    id: r.id,
    state: r.state,
    since: r.updated_at.toISOString(),
    ageSeconds: age(r.updated_at),
    expectedSeconds: r.expected,
  }));
}

async function stuckTransactions(db: Pool, t: StuckThresholds): Promise<StuckItem[]> {
  const { rows } = await db.query<{ hash: string; purpose: string; nonce: string; sent_at: Date }>(
    `SELECT hash, purpose, nonce::text, sent_at FROM relayer_transactions
      WHERE status = 'sent' AND sent_at < now() - make_interval(secs => $1)
      ORDER BY sent_at LIMIT $2`,
    [t.chainSeconds, LIMIT],
  );
  return rows.map((r) => ({
    kind: "relayer-transaction",
    id: r.hash,
    state: `sent, not mined (${r.purpose}, nonce ${r.nonce})`,
    since: r.sent_at.toISOString(),
    ageSeconds: age(r.sent_at),
    expectedSeconds: t.chainSeconds,
  }));
}

async function stuckOutbox(db: Pool, t: StuckThresholds): Promise<StuckItem[]> {
  const { rows } = await db.query<{ job_id: string; queue: string; created_at: Date }>(
    `SELECT job_id, queue, created_at FROM outbox
      WHERE created_at < now() - make_interval(secs => $1) ORDER BY id LIMIT $2`,
    [t.platformSeconds, LIMIT],
  );
  return rows.map((r) => ({
    kind: "outbox",
    id: r.job_id,
    state: `committed, not queued (${r.queue})`,
    since: r.created_at.toISOString(),
    ageSeconds: age(r.created_at),
    expectedSeconds: t.platformSeconds,
  }));
}

/**
 * Leaves of anchored batches not claimed yet: until its leaf is claimed a later direct claim of the
 * same hash holds the work, so a claim that failed or never ran leaves the creator without it.
 */
async function stuckLeaves(db: Pool, t: StuckThresholds): Promise<StuckItem[]> {
  const { rows } = await db.query<{
    batch_id: string;
    leaf_index: number;
    error: string | null;
    updated_at: Date;
  }>(
    `SELECT r.batch_id::text, r.leaf_index, r.error, r.updated_at
       FROM registration_requests r JOIN notarization_batches b ON b.id = r.batch_id
      WHERE b.chain_batch_id IS NOT NULL AND r.claimed_at IS NULL
        AND r.updated_at < now() - make_interval(secs => $1)
      ORDER BY r.updated_at LIMIT $2`,
    [t.chainSeconds, LIMIT],
  );
  return rows.map((r) => ({
    kind: "batch-leaf",
    id: `${r.batch_id}/${r.leaf_index}`,
    state: r.error ? `anchored, claim failed: ${r.error}` : "anchored, not claimed",
    since: r.updated_at.toISOString(),
    ageSeconds: age(r.updated_at),
    expectedSeconds: t.chainSeconds,
  }));
}

/** Card payments captured but not booked in the payout ledger: their creators would never be paid. */
async function stuckBookings(db: Pool, t: StuckThresholds): Promise<StuckItem[]> {
  const { rows } = await db.query<{ id: string; updated_at: Date }>(
    `SELECT o.id, o.updated_at FROM orders o
      WHERE o.payment_status = 'captured' AND o.updated_at < now() - make_interval(secs => $1)
        AND NOT EXISTS (SELECT 1 FROM ledger_transactions t WHERE t.key = 'sale:' || o.id)
      ORDER BY o.updated_at LIMIT $2`,
    [t.platformSeconds, LIMIT],
  );
  return rows.map((r) => ({
    kind: "booking",
    id: r.id,
    state: "captured, sale not booked",
    since: r.updated_at.toISOString(),
    ageSeconds: age(r.updated_at),
    expectedSeconds: t.platformSeconds,
  }));
}

/** Settlements prepared or sent and not paid on chain: the treasury's balance or allowance may fall short. */
async function stuckSettlements(db: Pool, t: StuckThresholds): Promise<StuckItem[]> {
  const { rows } = await db.query<{ id: string; status: string; error: string | null; updated_at: Date }>(
    `SELECT id::text, status, error, updated_at FROM settlements
      WHERE status IN ('prepared', 'sent') AND updated_at < now() - make_interval(secs => $1)
      ORDER BY updated_at LIMIT $2`,
    [t.chainSeconds, LIMIT],
  );
  return rows.map((r) => ({
    kind: "settlement",
    id: r.id,
    state: r.status,
    since: r.updated_at.toISOString(),
    ageSeconds: age(r.updated_at),
    expectedSeconds: t.chainSeconds,
  }));
}

/**
 * Mails that need an operator: `unconfirmed` (a hand-over broke off after the message started; the
 * SMTP server's log, searched for the Message-ID, tells whether it arrived) and `failed` (refused
 * for good, or the server unreachable through every attempt). Nothing resolves them on its own.
 */
async function stuckMails(db: Pool): Promise<StuckItem[]> {
  const { rows } = await db.query<{
    key: string;
    state: string;
    recipient: string;
    message_id: string | null;
    error: string | null;
    updated_at: Date;
  }>(
    `SELECT key, state, recipient, message_id, error, updated_at FROM mails
      WHERE state IN ('unconfirmed', 'failed') ORDER BY updated_at LIMIT $1`,
    [LIMIT],
  );
  return rows.map((r) => ({
    kind: "mail",
    id: r.key,
    state:
      r.state === "unconfirmed"
        ? `unconfirmed: check the SMTP log for ${r.message_id ?? "its Message-ID"} to ${r.recipient}`
        : `failed: ${r.error ?? "refused"}`,
    since: r.updated_at.toISOString(),
    ageSeconds: age(r.updated_at),
    expectedSeconds: 0,
  }));
}

/**
 * Jobs waiting to start longer than the platform's own steps take (no worker takes them), and jobs
 * running or put back to wait longer than the chain's steps take.
 */
async function stuckJobs(queues: Queues, t: StuckThresholds): Promise<StuckItem[]> {
  const items: StuckItem[] = [];
  const expected = { waiting: t.platformSeconds, active: t.chainSeconds, delayed: t.chainSeconds } as const;
  for (const name of Object.values(QUEUE_NAMES)) {
    const queue = queues.byName(name);
    for (const state of ["waiting", "active", "delayed"] as const) {
      const jobs: Job[] = await queue.getJobs([state], 0, LIMIT - 1, true);
      for (const job of jobs) {
        // Waiting since it was added or last tried; running since it started; put back since it was
        // due (a scheduled job waits its interval by design).
        const since = new Date(
          state === "waiting"
            ? Math.max(job.timestamp, job.processedOn ?? 0)
            : state === "active"
              ? (job.processedOn ?? job.timestamp)
              : job.timestamp + job.delay,
        );
        if (age(since) <= expected[state]) continue;
        items.push({
          kind: "job",
          id: `${name}/${job.id}`,
          state,
          since: since.toISOString(),
          ageSeconds: age(since),
          expectedSeconds: expected[state],
        });
      }
    }
  }
  return items;
}

/**
 * Orders, jobs, relayer transactions, outbox rows, unclaimed leaves, unbooked sales and unpaid
 * settlements older than expected in their state, and mails an operator must look at, oldest first per kind.
 */
export async function findStuckItems(
  deps: { db: Pool; queues: Queues },
  thresholds: StuckThresholds,
): Promise<StuckItem[]> {
  const found = await Promise.all([
    stuckOrders(deps.db, thresholds),
    stuckJobs(deps.queues, thresholds),
    stuckTransactions(deps.db, thresholds),
    stuckOutbox(deps.db, thresholds),
    stuckLeaves(deps.db, thresholds),
    stuckBookings(deps.db, thresholds),
    stuckSettlements(deps.db, thresholds),
    stuckMails(deps.db),
  ]);
  return found.flat();
}
