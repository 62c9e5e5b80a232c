/** The code stock tables: stocks, batches, sealed codes and low-stock alerts; every read and write of them. */
import type { PoolClient } from "pg";
import type { Queryable } from "../../lib/transaction.ts";
import type { SealedCode } from "./code-cipher.ts";

/** SQL condition on an order aliased `h` holding a code: it lapsed, so the code may go to another checkout. */
const LAPSED = `(h.status IN ('expired', 'failed') OR (h.status = 'created' AND h.reserved_until <= now()))`;

/** The first unsold code of offer `$offer` that nobody holds, locked (codes other callers hold locked are skipped). */
const FREE_CODE = (offer: string) => `
  SELECT c.id FROM redemption_codes c
   WHERE c.offer_id = ${offer} AND c.sold_at IS NULL
     AND (c.order_id IS NULL OR EXISTS (SELECT 1 FROM orders h WHERE h.id = c.order_id AND ${LAPSED}))
   ORDER BY c.id LIMIT 1 FOR UPDATE OF c SKIP LOCKED`;

/**
 * Counts codes kept by the `kept` CTE (rows with offer_id) in their stock and records the stock's
 * low-stock alert when the unsold codes fall to its threshold, once per stock generation.
 */
const COUNT_KEPT = `
  counted AS (
    UPDATE code_stocks s SET sold = s.sold + k.n, updated_at = now()
      FROM (SELECT offer_id, count(*)::int AS n FROM kept GROUP BY offer_id) k
     WHERE s.offer_id = k.offer_id
    RETURNING s.offer_id, s.creator, s.generation, s.total - s.sold AS remaining, s.low_stock_at
  ), alert AS (
    INSERT INTO code_alerts (offer_id, creator, generation, remaining)
    SELECT offer_id, creator, generation, remaining FROM counted WHERE remaining <= low_stock_at
    ON CONFLICT (offer_id, generation) DO NOTHING
    RETURNING id
  )`;

/** Adds `count` codes to the offer's stock (created if needed), locking it, and starts a new alert generation. */
export async function lockStockForUpload(
  client: PoolClient,
  offerId: string,
  creator: string,
  count: number,
  lowStockAt: number | undefined,
): Promise<void> {
  await client.query(
    `INSERT INTO code_stocks (offer_id, creator, total, low_stock_at, generation)
     VALUES ($1, $2, $3, COALESCE($4, 10), 1)
     ON CONFLICT (offer_id) DO UPDATE SET total = code_stocks.total + EXCLUDED.total,
       low_stock_at = COALESCE($4, code_stocks.low_stock_at), generation = code_stocks.generation + 1,
       updated_at = now()`,
    [offerId, creator, count, lowStockAt ?? null],
  );
}

/** Inserts a batch and its sealed codes; answers how many codes were new to the offer (a duplicate is skipped). */
export async function insertBatch(
  client: PoolClient,
  batch: { id: string; offerId: string; source: "upload" | "generated" },
  codes: SealedCode[],
): Promise<{ inserted: number; duplicates: number[] }> {
  await client.query(`INSERT INTO code_batches (id, offer_id, count, source) VALUES ($1, $2, $3, $4)`, [
    batch.id,
    batch.offerId,
    codes.length,
    batch.source,
  ]);
  const { rows } = await client.query<{ position: number }>(
    `INSERT INTO redemption_codes (offer_id, batch_id, position, digest, salt, sealed)
     SELECT $1, $2, t.position - 1, t.digest, t.salt, t.sealed
       FROM unnest($3::bytea[], $4::bytea[], $5::bytea[]) WITH ORDINALITY AS t(digest, salt, sealed, position)
     ON CONFLICT (offer_id, digest) DO NOTHING
     RETURNING position`,
    [
      batch.offerId,
      batch.id,
      codes.map((c) => c.digest),
      codes.map((c) => c.salt),
      codes.map((c) => c.sealed),
    ],
  );
  const inserted = new Set(rows.map((r) => r.position));
  const duplicates = codes.map((_, i) => i).filter((i) => !inserted.has(i));
  return { inserted: rows.length, duplicates };
}

/** Whether the offer sells codes. */
export async function hasStock(db: Queryable, offerId: string): Promise<boolean> {
  const { rows } = await db.query(`SELECT 1 FROM code_stocks WHERE offer_id = $1`, [offerId]);
  return rows.length > 0;
}

/**
 * Gives the order a free code of its offer to hold (unless it holds one already): true when it
 * holds one. Called under the offer's checkout lock.
 */
export async function holdCode(client: PoolClient, offerId: string, orderId: string): Promise<boolean> {
  const { rows } = await client.query<{ held: number }>(
    `WITH own AS (
       SELECT id FROM redemption_codes WHERE order_id = $2
     ), free AS (
       ${FREE_CODE("$1")}
     ), held AS (
       UPDATE redemption_codes c SET order_id = $2 FROM free
        WHERE c.id = free.id AND c.sold_at IS NULL AND NOT EXISTS (SELECT 1 FROM own)
       RETURNING c.id
     )
     SELECT (SELECT count(*) FROM own)::int + (SELECT count(*) FROM held)::int AS held`,
    [offerId, orderId],
  );
  return rows[0]!.held > 0;
}

/**
 * CTEs keeping for good the codes held by the orders the CTE `paid` (rows with id) has just moved
 * to paid, counted in their stocks: for the statement that records the payments, so a buyer reads
 * their code as soon as their payment is answered. An order whose code went to another checkout
 * keeps one later, in its fulfilment (keepCode), as does any order this misses.
 */
export function keepPaidCodesSql(paid: string): string {
  return `kept AS (
       UPDATE redemption_codes c SET sold_at = now() FROM ${paid} p
        WHERE c.order_id = p.id AND c.sold_at IS NULL
       RETURNING c.offer_id
     ), ${COUNT_KEPT}`;
}

export type KeptCode = "kept" | "none" | "no-stock";

/**
 * A select-list expression on an order aliased `o`: `kept` when a code is kept for it, `no-stock`
 * when its offer sells no codes, else null (its fulfilment must keep one with keepCode).
 */
export const CODE_STATE_SQL = `CASE
    WHEN EXISTS (SELECT 1 FROM redemption_codes c WHERE c.order_id = o.id AND c.sold_at IS NOT NULL) THEN 'kept'
    WHEN NOT EXISTS (SELECT 1 FROM code_stocks s WHERE s.offer_id = o.offer_id) THEN 'no-stock'
  END`;

/**
 * Keeps a code for a paid order for good: the one it holds, or else a free one. Idempotent: a code
 * already kept for it answers `kept`. `none` when the offer's codes ran out; `no-stock` when the
 * offer sells no codes. A kept code is never given to another order.
 */
export async function keepCode(db: Queryable, orderId: string, offerId: string): Promise<KeptCode> {
  // The code state is read as it was before this statement kept the code the order holds, if any.
  const own = await db.query<{ kept: number; state: Exclude<KeptCode, "none"> | null }>(
    `WITH kept AS (
       UPDATE redemption_codes SET sold_at = now() WHERE order_id = $1 AND sold_at IS NULL RETURNING offer_id
     ), ${COUNT_KEPT}
     SELECT (SELECT count(*) FROM kept)::int AS kept, ${CODE_STATE_SQL} AS state FROM orders o WHERE o.id = $1`,
    [orderId],
  );
  const first = own.rows[0];
  if (!first) throw new Error(`no order ${orderId}`);
  if (first.kept > 0) return "kept";
  if (first.state !== null) return first.state;
  const { rows } = await db.query<{ kept: number }>(
    `WITH free AS (
       ${FREE_CODE("$2")}
     ), kept AS (
       UPDATE redemption_codes c SET order_id = $1, sold_at = now() FROM free
        WHERE c.id = free.id AND c.sold_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM redemption_codes o WHERE o.order_id = $1)
       RETURNING c.offer_id
     ), ${COUNT_KEPT}
     SELECT (SELECT count(*) FROM kept)::int AS kept`,
    [orderId, offerId],
  );
  if (rows[0]!.kept > 0) return "kept";
  // Another attempt of this order's fulfilment may have kept one meanwhile.
  const again = await db.query(`SELECT 1 FROM redemption_codes WHERE order_id = $1 AND sold_at IS NOT NULL`, [
    orderId,
  ]);
  return again.rows.length > 0 ? "kept" : "none";
}

export interface StockRow {
  offer_id: string;
  creator: string;
  total: number;
  sold: number;
  low_stock_at: number;
  held: number;
  void: number;
}

/** An offer's stock with its held and void counts; null when it sells no codes. */
export async function readStock(db: Queryable, offerId: string): Promise<StockRow | null> {
  const { rows } = await db.query<StockRow>(
    `SELECT s.offer_id::text, s.creator, s.total, s.sold, s.low_stock_at,
            (SELECT count(*) FROM redemption_codes c JOIN orders h ON h.id = c.order_id
              WHERE c.offer_id = s.offer_id AND c.sold_at IS NULL AND NOT ${LAPSED})::int AS held,
            (SELECT count(*) FROM redemption_codes c JOIN orders h ON h.id = c.order_id
              WHERE c.offer_id = s.offer_id AND c.sold_at IS NOT NULL
                AND h.status IN ('refunded', 'disputed', 'failed'))::int AS void
       FROM code_stocks s WHERE s.offer_id = $1`,
    [offerId],
  );
  return rows[0] ?? null;
}

export interface BatchRow {
  id: string;
  count: number;
  source: "upload" | "generated";
  created_at: Date;
  merkle_root: string | null;
  commit_status: "pending" | "submitted" | "committed" | "failed";
  commit_tx_hash: string | null;
}

export async function batchesOf(db: Queryable, offerId: string): Promise<BatchRow[]> {
  const { rows } = await db.query<BatchRow>(
    `SELECT id, count, source, created_at, merkle_root, commit_status, commit_tx_hash
       FROM code_batches WHERE offer_id = $1 ORDER BY created_at, id`,
    [offerId],
  );
  return rows;
}

export interface OrderCodeRow {
  offer_id: string;
  status: string;
  stocked: boolean;
  digest: Buffer | null;
  sealed: Buffer | null;
  sold_at: Date | null;
}

/** The order, whether its offer sells codes, and the code kept for it (if any). */
export async function orderCodeOf(db: Queryable, orderId: string): Promise<OrderCodeRow | null> {
  const { rows } = await db.query<OrderCodeRow>(
    `SELECT o.offer_id::text, o.status, EXISTS (SELECT 1 FROM code_stocks s WHERE s.offer_id = o.offer_id) AS stocked,
            c.digest, c.sealed, c.sold_at
       FROM orders o LEFT JOIN redemption_codes c ON c.order_id = o.id AND c.sold_at IS NOT NULL
      WHERE o.id = $1`,
    [orderId],
  );
  return rows[0] ?? null;
}

export interface AlertRow {
  id: string;
  offer_id: string;
  remaining: number;
  created_at: Date;
}

/** The creator's low-stock alerts, newest first. */
export async function alertsOf(db: Queryable, creator: string, limit: number): Promise<AlertRow[]> {
  const { rows } = await db.query<AlertRow>(
    `SELECT id::text, offer_id::text, remaining, created_at FROM code_alerts
      WHERE creator = $1 ORDER BY id DESC LIMIT $2`,
    [creator, limit],
  );
  return rows;
}

export interface CodeBatchRecord {
  id: string;
  offer_id: string;
  count: number;
  created_at: Date;
  merkle_root: string | null;
  commit_status: "pending" | "submitted" | "committed" | "failed";
  commit_tx_hash: string | null;
  commit_block: string | null;
}

export async function findBatch(db: Queryable, batchId: string): Promise<CodeBatchRecord | null> {
  const { rows } = await db.query<CodeBatchRecord>(
    `SELECT id, offer_id::text, count, created_at, merkle_root, commit_status, commit_tx_hash, commit_block::text
       FROM code_batches WHERE id = $1`,
    [batchId],
  );
  return rows[0] ?? null;
}

export interface SealedRow {
  offer_id: string;
  position: number;
  digest: Buffer;
  salt: Buffer;
  sealed: Buffer;
}

/** Every code of a batch, sealed, in upload order. */
export async function batchCodes(db: Queryable, batchId: string): Promise<SealedRow[]> {
  const { rows } = await db.query<SealedRow>(
    `SELECT offer_id::text, position, digest, salt, sealed FROM redemption_codes
      WHERE batch_id = $1 ORDER BY position`,
    [batchId],
  );
  return rows;
}

/** Records how a batch's commitment stands. */
export async function markBatch(
  db: Queryable,
  batchId: string,
  set: {
    status: CodeBatchRecord["commit_status"];
    root?: string;
    txHash?: string;
    block?: number;
    error?: string;
  },
): Promise<void> {
  await db.query(
    `UPDATE code_batches SET commit_status = $2, merkle_root = COALESCE($3, merkle_root),
            commit_tx_hash = COALESCE($4, commit_tx_hash), commit_block = COALESCE($5, commit_block),
            commit_error = $6
      WHERE id = $1`,
    [batchId, set.status, set.root ?? null, set.txHash ?? null, set.block ?? null, set.error ?? null],
  );
}

/** The batch and position of the code kept for an order. */
export async function keptCodeOf(
  db: Queryable,
  orderId: string,
): Promise<{ batch_id: string; position: number } | null> {
  const { rows } = await db.query<{ batch_id: string; position: number }>(
    `SELECT batch_id, position FROM redemption_codes WHERE order_id = $1 AND sold_at IS NOT NULL`,
    [orderId],
  );
  return rows[0] ?? null;
}

export interface RedemptionRow {
  offer_id: string;
  order_id: string | null;
  wallet: string | null;
  order_status: string | null;
  sold_at: Date | null;
  redeemed_at: Date | null;
  redeemed_by: string | null;
  redeemed_key: string | null;
}

const CANDIDATES = `
  SELECT c.id FROM redemption_codes c JOIN code_stocks s ON s.offer_id = c.offer_id
   WHERE s.creator = $1
     AND (c.offer_id, c.digest) IN (SELECT t.offer_id, t.digest FROM unnest($2::numeric[], $3::bytea[]) AS t(offer_id, digest))`;

/**
 * Redeems a sold code of `creator` found by one of its `(offerId, digest)` candidates, unless it is
 * redeemed already or its order was refunded, charged back or failed. One statement: of two
 * concurrent redemptions the second waits for the first's row and finds the code redeemed. Answers
 * the code as it now stands (redeemed by this call when `redeemed` is true), or null when unknown.
 */
export async function redeemCode(
  db: Queryable,
  creator: string,
  candidates: { offerId: string; digest: Buffer }[],
  redeemer: string | null,
  keyId: string,
): Promise<{ redeemed: boolean; row: RedemptionRow } | null> {
  const params = [creator, candidates.map((c) => c.offerId), candidates.map((c) => c.digest)];
  const { rows } = await db.query<RedemptionRow>(
    `WITH target AS (${CANDIDATES})
     UPDATE redemption_codes c SET redeemed_at = now(), redeemed_by = $4, redeemed_key = $5
       FROM target, orders o
      WHERE c.id = target.id AND o.id = c.order_id AND c.sold_at IS NOT NULL AND c.redeemed_at IS NULL
        AND o.status NOT IN ('refunded', 'disputed', 'failed')
     RETURNING c.offer_id::text, c.order_id, o.wallet, o.status AS order_status, c.sold_at, c.redeemed_at,
               c.redeemed_by, c.redeemed_key`,
    [...params, redeemer, keyId],
  );
  if (rows[0]) return { redeemed: true, row: rows[0] };
  const state = await db.query<RedemptionRow>(
    `SELECT c.offer_id::text, c.order_id, o.wallet, o.status AS order_status, c.sold_at, c.redeemed_at,
            c.redeemed_by, c.redeemed_key
       FROM redemption_codes c LEFT JOIN orders o ON o.id = c.order_id
      WHERE c.id IN (${CANDIDATES})`,
    params,
  );
  return state.rows[0] ? { redeemed: false, row: state.rows[0] } : null;
}

/** The offers whose codes `creator` sells. */
export async function stockedOffersOf(db: Queryable, creator: string): Promise<string[]> {
  const { rows } = await db.query<{ offer_id: string }>(
    `SELECT offer_id::text FROM code_stocks WHERE creator = $1`,
    [creator],
  );
  return rows.map((r) => r.offer_id);
}
