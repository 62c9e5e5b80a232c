/** The sales table (sale windows of offers) and the orders made at a sale's price. */
import type { PoolClient } from "pg";
import type { Queryable } from "../../lib/transaction.ts";

export interface SaleRow {
  id: string;
  offer_id: string;
  amount: string;
  currency: string;
  starts_at: Date;
  ends_at: Date;
  max_per_wallet: number;
  max_total: number | null;
  created_by: string;
  created_at: Date;
  status: "upcoming" | "active" | "ended";
  sold: number;
}

/**
 * SQL condition on an order aliased `r`: it takes one of its sale's places — paid (and not refunded),
 * or unpaid while it can still be paid at the sale's price (its payable window, longer than its hold).
 */
export const TAKES_SALE_PLACE = `(r.status IN ('paid', 'minting', 'fulfilled', 'disputed')
  OR (r.status = 'created' AND r.payable_until > now()))`;

// Windows are judged by PostgreSQL's clock (now(), the checkout transaction's start), the clock the
// checkout's holds use too; never the chain's, which tests and the demo move forward.
const STATUS = `CASE WHEN s.ends_at <= now() THEN 'ended' WHEN s.starts_at > now() THEN 'upcoming' ELSE 'active' END`;
const COLUMNS = `s.id, s.offer_id::text, s.amount::text, s.currency, s.starts_at, s.ends_at, s.max_per_wallet,
  s.max_total, s.created_by, s.created_at, ${STATUS} AS status`;
const SOLD = `(SELECT count(*) FROM orders r WHERE r.sale_id = s.id AND ${TAKES_SALE_PLACE})::int AS sold`;

export interface NewSale {
  id: string;
  offerId: string;
  amount: number;
  currency: string;
  startsAt: string | null;
  endsAt: string;
  maxPerWallet: number;
  maxTotal: number | null;
  createdBy: string;
}

/** Inserts a sale; null when its window overlaps another of the offer's (the exclusion constraint). */
export async function insertSale(db: Queryable, sale: NewSale): Promise<SaleRow | null> {
  try {
    const { rows } = await db.query<SaleRow>(
      `WITH s AS (
         INSERT INTO sales (id, offer_id, amount, currency, starts_at, ends_at, max_per_wallet, max_total, created_by)
         VALUES ($1, $2, $3, $4, COALESCE($5::timestamptz, now()), $6, $7, $8, $9)
         RETURNING *
       )
       SELECT ${COLUMNS}, 0 AS sold FROM s`,
      [
        sale.id,
        sale.offerId,
        sale.amount,
        sale.currency,
        sale.startsAt,
        sale.endsAt,
        sale.maxPerWallet,
        sale.maxTotal,
        sale.createdBy,
      ],
    );
    return rows[0]!;
  } catch (err) {
    if ((err as { code?: string }).code === "23P01") return null;
    throw err;
  }
}

/** The sales of an offer that are on now or still to come, soonest first. */
export async function currentSales(db: Queryable, offerId: string): Promise<SaleRow[]> {
  const { rows } = await db.query<SaleRow>(
    `SELECT ${COLUMNS}, ${SOLD} FROM sales s WHERE s.offer_id = $1 AND s.ends_at > now() ORDER BY s.starts_at`,
    [offerId],
  );
  return rows;
}

/** The windows of the offer's sales overlapping [startsAt, endsAt), for a refusal to name them. */
export async function overlappingSales(
  db: Queryable,
  offerId: string,
  startsAt: string | null,
  endsAt: string,
): Promise<SaleRow[]> {
  const { rows } = await db.query<SaleRow>(
    `SELECT ${COLUMNS}, ${SOLD} FROM sales s
      WHERE s.offer_id = $1 AND tstzrange(s.starts_at, s.ends_at) && tstzrange(COALESCE($2::timestamptz, now()), $3)`,
    [offerId, startsAt, endsAt],
  );
  return rows;
}

/**
 * Ends a sale of the offer now: one on now ends at once (its orders keep it), one still to come is
 * removed. Null when the offer has no such sale, or it has ended already.
 */
export async function endSale(
  db: Queryable,
  offerId: string,
  saleId: string,
): Promise<{ sale: SaleRow; removed: boolean } | null> {
  const ended = await db.query<SaleRow>(
    `WITH s AS (
       UPDATE sales SET ends_at = now()
        WHERE id = $2 AND offer_id = $1 AND starts_at < now() AND ends_at > now()
        RETURNING *
     )
     SELECT ${COLUMNS}, ${SOLD} FROM s`,
    [offerId, saleId],
  );
  if (ended.rows[0]) return { sale: ended.rows[0], removed: false };
  const removed = await db.query<SaleRow>(
    `WITH s AS (DELETE FROM sales WHERE id = $2 AND offer_id = $1 AND starts_at >= now() RETURNING *)
     SELECT ${COLUMNS}, 0 AS sold FROM s`,
    [offerId, saleId],
  );
  return removed.rows[0] ? { sale: removed.rows[0], removed: true } : null;
}

/** The offer's creator (lower case), or null for an unknown offer. */
export async function offerCreator(db: Queryable, offerId: string): Promise<string | null> {
  const { rows } = await db.query<{ creator: string }>(`SELECT creator FROM offers WHERE offer_id = $1`, [
    offerId,
  ]);
  return rows[0]?.creator ?? null;
}

/** A sale of the offer, whatever its window. */
export async function findSale(db: Queryable, offerId: string, saleId: string): Promise<SaleRow | null> {
  const { rows } = await db.query<SaleRow>(
    `SELECT ${COLUMNS}, ${SOLD} FROM sales s WHERE s.offer_id = $1 AND s.id = $2`,
    [offerId, saleId],
  );
  return rows[0] ?? null;
}

export interface SalePlaces {
  sale: SaleRow;
  /** Places taken by everyone and by this wallet. */
  sold: number;
  byWallet: number;
}

/**
 * The sale the offer is on now with the places taken on it (`buyer`'s: a wallet, or `email:<address>`
 * for a buyer without one), read by a checkout holding the offer's
 * card price lock: every checkout of the offer takes that lock first, so the counts cannot change
 * before the caller's transaction ends. Null when the offer is not on sale.
 */
export async function activeSalePlaces(
  client: PoolClient,
  offerId: string,
  buyer: string,
): Promise<SalePlaces | null> {
  const { rows } = await client.query<SaleRow & { by_wallet: number }>(
    `SELECT ${COLUMNS}, u.sold, u.by_wallet
       FROM sales s
       CROSS JOIN LATERAL (
         SELECT count(*)::int AS sold,
                count(*) FILTER (WHERE coalesce(r.wallet, 'email:' || r.email) = $2)::int AS by_wallet
           FROM orders r WHERE r.sale_id = s.id AND ${TAKES_SALE_PLACE}
       ) u
      WHERE s.offer_id = $1 AND s.starts_at <= now() AND s.ends_at > now()`,
    [offerId, buyer],
  );
  const sale = rows[0];
  return sale ? { sale, sold: sale.sold, byWallet: sale.by_wallet } : null;
}
