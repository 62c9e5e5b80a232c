/** The coupons table and the uses orders make of coupons. */
import type { PoolClient } from "pg";
import type { Queryable } from "../../lib/transaction.ts";
import { COUNTED } from "../repositories/offer-stock.ts";

export interface CouponRow {
  id: string;
  creator: string;
  code: string;
  kind: "percent" | "fixed";
  value: string;
  currency: string | null;
  max_uses: number | null;
  max_uses_per_buyer: number | null;
  starts_at: Date;
  ends_at: Date | null;
  offer_ids: string[];
  created_at: Date;
  used: number;
}

const COLUMNS = `c.id, c.creator, c.code, c.kind, c.value::text, c.currency, c.max_uses, c.max_uses_per_buyer,
  c.starts_at, c.ends_at, c.offer_ids::text[] AS offer_ids, c.created_at`;
const USED = `(SELECT count(*) FROM orders r WHERE r.coupon_id = c.id AND ${COUNTED})::int AS used`;

export interface NewCoupon {
  id: string;
  creator: string;
  code: string;
  kind: "percent" | "fixed";
  value: number;
  currency: string | null;
  maxUses: number | null;
  maxUsesPerBuyer: number | null;
  startsAt: string | null;
  endsAt: string | null;
  offerIds: string[];
}

/** Inserts a coupon; null when the creator has one of that code already. */
export async function insertCoupon(db: Queryable, c: NewCoupon): Promise<CouponRow | null> {
  const { rows } = await db.query<CouponRow>(
    `WITH c AS (
       INSERT INTO coupons (id, creator, code, kind, value, currency, max_uses, max_uses_per_buyer, starts_at,
                            ends_at, offer_ids)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, COALESCE($9::timestamptz, now()), $10, $11::numeric[])
       ON CONFLICT (creator, code) DO NOTHING
       RETURNING *
     )
     SELECT ${COLUMNS}, 0 AS used FROM c`,
    [
      c.id,
      c.creator,
      c.code,
      c.kind,
      c.value,
      c.currency,
      c.maxUses,
      c.maxUsesPerBuyer,
      c.startsAt,
      c.endsAt,
      c.offerIds,
    ],
  );
  return rows[0] ?? null;
}

export async function couponsOf(db: Queryable, creator: string): Promise<CouponRow[]> {
  const { rows } = await db.query<CouponRow>(
    `SELECT ${COLUMNS}, ${USED} FROM coupons c WHERE c.creator = $1 ORDER BY c.created_at, c.id`,
    [creator],
  );
  return rows;
}

export interface CouponUse {
  coupon: CouponRow & { active: boolean };
  /** Uses by everyone and by this wallet: orders paid, or unpaid within their hold. */
  used: number;
  usedByWallet: number;
}

/**
 * The coupon of `code` that the offer's creator gives for the offer, locked until the end of the
 * caller's transaction (so concurrent checkouts count each other's uses), with its uses; null when
 * there is none.
 */
export async function lockCouponUse(
  client: PoolClient,
  code: string,
  offerId: string,
  wallet: string,
): Promise<CouponUse | null> {
  const { rows } = await client.query<CouponRow & { active: boolean }>(
    `SELECT ${COLUMNS}, 0 AS used, (c.starts_at <= now() AND (c.ends_at IS NULL OR c.ends_at > now())) AS active
       FROM coupons c JOIN offers o ON o.offer_id = $2 AND o.creator = c.creator
      WHERE c.code = $1 AND $2::numeric = ANY (c.offer_ids)
      FOR UPDATE OF c`,
    [code, offerId],
  );
  const coupon = rows[0];
  if (!coupon) return null;
  const uses = await client.query<{ used: number; mine: number }>(
    `SELECT count(*)::int AS used, count(*) FILTER (WHERE r.wallet = $2)::int AS mine
       FROM orders r WHERE r.coupon_id = $1 AND ${COUNTED}`,
    [coupon.id, wallet],
  );
  return { coupon, used: uses.rows[0]!.used, usedByWallet: uses.rows[0]!.mine };
}
