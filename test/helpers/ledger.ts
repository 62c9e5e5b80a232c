/** Fixtures for the payout ledger without a chain: an indexed offer sold by card, and orders as the capture job leaves them. */
import type { Queryable } from "../../lib/transaction.ts";

/** An offer as the indexer mirrors it, with its card price; its sales split to `split`. */
export async function insertIndexedOffer(
  db: Queryable,
  offer: { offerId: number; split: string; referrerBps?: number; platformFeeBps?: number },
): Promise<void> {
  await db.query(
    `INSERT INTO offers (offer_id, work_id, creator, currency, price, duration, max_supply, sold, transferable,
                         commercial_use, referrer_bps, royalty_bps, split, territory, active, block_number,
                         log_index, tx_hash, updated_block, platform_fee_bps)
     VALUES ($1, 1, $2, $3, 1, 0, 0, 0, true, true, $4, 0, $5, 'WORLD', true, 1, 0, $6, 1, $7)`,
    [
      offer.offerId,
      `0x${"c".repeat(40)}`,
      `0x${"0".repeat(40)}`,
      offer.referrerBps ?? 1000,
      offer.split,
      `0x${"a".repeat(64)}`,
      offer.platformFeeBps ?? 250,
    ],
  );
  await db.query(`INSERT INTO fiat_prices (offer_id, amount, currency) VALUES ($1, 1200, 'usd')`, [
    offer.offerId,
  ]);
}

/** `count` fulfilled $12.00 orders of `offerId` whose card payment is `payment` (captured: Stripe kept 65). */
export async function insertCapturedOrders(
  db: Queryable,
  count: number,
  offerId: number,
  set: { payment?: string; referrer?: string } = {},
): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO orders (id, offer_id, wallet, referrer, amount, currency, status, payment_status, payment_ref,
                         payment_intent, provider_fee, reserved_until, payable_until, ip)
     SELECT gen_random_uuid(), $2, '0x' || lpad(to_hex(g), 40, '0'), $4, 1200, 'usd', 'fulfilled', $3,
            '0x' || md5(random()::text) || md5(random()::text), 'pi_' || md5(random()::text), 65, now(), now(), '10.0.0.1'
       FROM generate_series(1, $1) g RETURNING id`,
    [count, offerId, set.payment ?? "captured", set.referrer ?? null],
  );
  return rows.map((r) => r.id);
}

/**
 * Moves the chain's clock past the settlement holdback of every booking so far: bookings are dated
 * by the later of the chain's clock and the wall clock, so the holdback is counted from the latest
 * of the chain's time, the wall clock and the newest booking.
 */
export async function passHoldback(
  stack: {
    db: { pool: Queryable };
    provider: {
      send(method: string, params: unknown[]): Promise<unknown>;
      getBlock(tag: string): Promise<{ timestamp: number } | null>;
    };
  },
  holdbackSeconds: number,
): Promise<void> {
  const { rows } = await stack.db.pool.query<{ at: string | null }>(
    `SELECT extract(epoch FROM max(booked_at))::bigint::text AS at FROM ledger_transactions`,
  );
  const latest = (await stack.provider.getBlock("latest"))!.timestamp;
  const from = Math.max(latest, Math.floor(Date.now() / 1000), Number(rows[0]?.at ?? 0));
  await stack.provider.send("evm_setNextBlockTimestamp", [from + holdbackSeconds + 60]);
  await stack.provider.send("evm_mine", []);
}
