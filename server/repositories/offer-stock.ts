/** An offer's stock as card checkout sees it: its card price, units sold and held, and a buyer's holds. */
import type { PoolClient } from "pg";
import type { Queryable } from "../../lib/transaction.ts";
import type { FiatPrice } from "../../lib/api/offers.ts";

/** Locks the offer's card price row: checkouts of one offer reserve units one at a time. */
export async function lockFiatPrice(client: PoolClient, offerId: string): Promise<FiatPrice | null> {
  const { rows } = await client.query<{ amount: string; currency: string }>(
    `SELECT amount::text, currency FROM fiat_prices WHERE offer_id = $1 FOR UPDATE`,
    [offerId],
  );
  return rows[0] ? { amount: Number(rows[0].amount), currency: rows[0].currency } : null;
}

export interface Stock {
  maxSupply: number;
  sold: number;
  active: boolean;
  /** Orders holding a unit whose mint the indexer has not seen yet. */
  holding: number;
  /** Orders of this wallet / IP that count towards the purchase limits. */
  byWallet: number;
  byIp: number;
}

/** SQL condition on an order aliased `r`: it holds a unit of its offer that the offer's sold count does not include. */
export const HOLDING = `(r.status IN ('paid', 'held', 'minting') OR (r.status = 'created' AND r.reserved_until > now()))
  AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.payment_ref = r.payment_ref)`;
/** SQL condition on an order aliased `r`: it counts towards purchase limits (paid, or unpaid within its hold). */
export const COUNTED = `r.status NOT IN ('failed', 'expired') AND NOT (r.status = 'created' AND r.reserved_until <= now())`;

/**
 * Supply and purchase counts of an offer, read in one statement so the indexer's sold count and
 * its payments (which retire reservations) come from the same snapshot.
 */
export async function stockOf(
  db: Queryable,
  offerId: string,
  wallet: string,
  ip: string,
): Promise<Stock | null> {
  const { rows } = await db.query<{
    max_supply: string;
    sold: string;
    active: boolean;
    holding: number;
    by_wallet: number;
    by_ip: number;
  }>(
    `SELECT o.max_supply::text, o.sold::text, o.active,
            (SELECT count(*) FROM orders r WHERE r.offer_id = o.offer_id AND ${HOLDING})::int AS holding,
            (SELECT count(*) FROM orders r WHERE r.offer_id = o.offer_id AND r.wallet = $2 AND ${COUNTED})::int AS by_wallet,
            (SELECT count(*) FROM orders r WHERE r.offer_id = o.offer_id AND r.ip = $3 AND ${COUNTED})::int AS by_ip
       FROM offers o WHERE o.offer_id = $1`,
    [offerId, wallet, ip],
  );
  const row = rows[0];
  if (!row) return null;
  return {
    maxSupply: Number(row.max_supply),
    sold: Number(row.sold),
    active: row.active,
    holding: row.holding,
    byWallet: row.by_wallet,
    byIp: row.by_ip,
  };
}

/** The live holds (unpaid orders within their hold) of one buyer in one scope, and when the first lapses. */
export interface Holds {
  count: number;
  firstLapse: Date | null;
}

/** A buyer's live holds: its wallet's and its network's, on the offer and on every offer. */
export type BuyerHolds = Record<"walletOnOffer" | "wallet" | "ipOnOffer" | "ip", Holds>;

const HOLD_SCOPES = {
  walletOnOffer: "wallet = $2 AND offer_id = $1",
  wallet: "wallet = $2",
  ipOnOffer: "ip = $3 AND offer_id = $1",
  ip: "ip = $3",
} as const;

/**
 * Locks the buyer (its network, then its wallet) until the end of the caller's transaction, so its
 * concurrent checkouts of different offers count each other's holds, and counts its live holds.
 */
export async function lockBuyerHolds(
  client: PoolClient,
  offerId: string,
  wallet: string,
  ip: string,
): Promise<BuyerHolds> {
  await client.query(
    `SELECT pg_advisory_xact_lock(hashtextextended('checkout-holds:ip:' || $1, 0)),
            pg_advisory_xact_lock(hashtextextended('checkout-holds:wallet:' || $2, 0))`,
    [ip, wallet],
  );
  const columns = Object.entries(HOLD_SCOPES).map(
    ([scope, where]) =>
      `count(*) FILTER (WHERE ${where})::int AS "${scope}_count", min(reserved_until) FILTER (WHERE ${where}) AS "${scope}_lapse"`,
  );
  const { rows } = await client.query<Record<string, number | Date | null>>(
    `SELECT ${columns.join(", ")} FROM orders
      WHERE status = 'created' AND reserved_until > now() AND (wallet = $2 OR ip = $3)`,
    [offerId, wallet, ip],
  );
  const row = rows[0]!;
  const holds = (scope: keyof BuyerHolds): Holds => ({
    count: row[`${scope}_count`] as number,
    firstLapse: row[`${scope}_lapse`] as Date | null,
  });
  return {
    walletOnOffer: holds("walletOnOffer"),
    wallet: holds("wallet"),
    ipOnOffer: holds("ipOnOffer"),
    ip: holds("ip"),
  };
}

/** Units still available: null for an unlimited offer. */
export function available(stock: Pick<Stock, "maxSupply" | "sold" | "holding">): number | null {
  return stock.maxSupply === 0 ? null : Math.max(0, stock.maxSupply - stock.sold - stock.holding);
}
