import { randomUUID } from "node:crypto";
import type { Pool, PoolClient } from "pg";
import type { Coupon, CreateCoupon } from "../../lib/api/promotions.ts";
import { AppError } from "../errors.ts";
import { couponsOf, insertCoupon, lockCouponUse, type CouponRow } from "./coupon-store.ts";

/** What a coupon takes off a list price, never below the least card price. */
export function discountOf(
  coupon: Pick<CouponRow, "kind" | "value" | "currency">,
  price: { amount: number; currency: string },
  minPrice: number,
): number {
  const wanted =
    coupon.kind === "percent"
      ? Math.floor((price.amount * Number(coupon.value)) / 100)
      : coupon.currency === price.currency
        ? Number(coupon.value)
        : 0;
  return Math.max(0, Math.min(wanted, price.amount - minPrice));
}

export interface AppliedCoupon {
  couponId: string;
  discount: number;
}

/**
 * Applies a coupon to a checkout, under the coupon's lock: refused when the offer's creator gives
 * no such coupon for it (404), outside its window, or when its uses (orders paid or holding their
 * checkout) reached its limits (409). Counted under the lock, so concurrent checkouts never exceed them.
 */
export async function applyCoupon(
  client: PoolClient,
  input: { code: string; offerId: string; wallet: string },
  price: { amount: number; currency: string },
  minPrice: number,
): Promise<AppliedCoupon> {
  const use = await lockCouponUse(client, input.code, input.offerId, input.wallet);
  if (!use) throw new AppError("COUPON_NOT_FOUND", 404, `no coupon ${input.code} for offer ${input.offerId}`);
  const { coupon } = use;
  if (!coupon.active) {
    throw new AppError("COUPON_NOT_ACTIVE", 409, `coupon ${coupon.code} is not valid now`, {
      startsAt: coupon.starts_at.toISOString(),
      endsAt: coupon.ends_at?.toISOString() ?? null,
    });
  }
  if (coupon.max_uses_per_buyer !== null && use.usedByWallet >= coupon.max_uses_per_buyer) {
    throw new AppError(
      "COUPON_LIMIT_PER_BUYER",
      409,
      `this wallet used coupon ${coupon.code} as often as it may`,
      {
        maxUsesPerBuyer: coupon.max_uses_per_buyer,
      },
    );
  }
  if (coupon.max_uses !== null && use.used >= coupon.max_uses) {
    throw new AppError("COUPON_EXHAUSTED", 409, `coupon ${coupon.code} has been used up`, {
      maxUses: coupon.max_uses,
    });
  }
  if (coupon.kind === "fixed" && coupon.currency !== price.currency) {
    throw new AppError(
      "COUPON_CURRENCY",
      409,
      `coupon ${coupon.code} is in ${coupon.currency}, the offer in ${price.currency}`,
    );
  }
  return { couponId: coupon.id, discount: discountOf(coupon, price, minPrice) };
}

function couponView(row: CouponRow): Coupon {
  return {
    id: row.id,
    code: row.code,
    kind: row.kind,
    value: Number(row.value),
    currency: row.currency,
    maxUses: row.max_uses,
    maxUsesPerBuyer: row.max_uses_per_buyer,
    startsAt: row.starts_at.toISOString(),
    endsAt: row.ends_at?.toISOString() ?? null,
    offerIds: row.offer_ids,
    used: row.used,
    createdAt: row.created_at.toISOString(),
  };
}

/** Coupons: a creator gives them for their own offers and reads their uses. */
export class CouponsService {
  constructor(private readonly db: Pool) {}

  async create(creator: string, input: CreateCoupon): Promise<Coupon> {
    const offers = [...new Set(input.offerIds)];
    const { rows } = await this.db.query<{ offer_id: string; creator: string }>(
      `SELECT offer_id::text, creator FROM offers WHERE offer_id = ANY ($1::numeric[])`,
      [offers],
    );
    const unknown = offers.filter((id) => !rows.some((r) => r.offer_id === id));
    if (unknown.length > 0) throw new AppError("NOT_FOUND", 404, "offer not found", { offerIds: unknown });
    const foreign = rows.filter((r) => r.creator !== creator).map((r) => r.offer_id);
    if (foreign.length > 0) {
      throw new AppError("NOT_OFFER_CREATOR", 403, "a coupon applies only to its creator's offers", {
        offerIds: foreign,
      });
    }
    const row = await insertCoupon(this.db, {
      id: randomUUID(),
      creator,
      code: input.code,
      kind: input.kind,
      value: input.value,
      currency: input.currency ?? null,
      maxUses: input.maxUses ?? null,
      maxUsesPerBuyer: input.maxUsesPerBuyer ?? null,
      startsAt: input.startsAt ?? null,
      endsAt: input.endsAt ?? null,
      offerIds: offers,
    });
    if (!row) throw new AppError("COUPON_EXISTS", 409, `you have a coupon ${input.code} already`);
    return couponView(row);
  }

  async list(creator: string): Promise<{ items: Coupon[] }> {
    return { items: (await couponsOf(this.db, creator)).map(couponView) };
  }
}
