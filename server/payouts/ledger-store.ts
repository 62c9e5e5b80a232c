/** The payout ledger's SQL: bookings appended once by key, and the bookings of an order read back. */
import type { Queryable } from "../../lib/transaction.ts";
import type { Order } from "../orders/store.ts";
import type { Line } from "./postings.ts";

export type BookingKind =
  "sale" | "refund" | "chargeback" | "chargeback_won" | "settlement" | "settlement_cancelled";

export interface NewBooking {
  key: string;
  kind: BookingKind;
  currency: string;
  orderId?: string;
  paymentRef?: string | null;
  offerId?: string;
  settlementId?: string;
  bookedAt: Date;
  lines: Line[];
}

/**
 * Appends bookings, skipping those whose key exists, in one statement; answers the keys booked now.
 * Their lines must balance: the ledger checks them when the caller's transaction commits.
 */
export async function bookMany(db: Queryable, bookings: readonly NewBooking[]): Promise<Set<string>> {
  if (bookings.length === 0) return new Set();
  const input = bookings.map((b) => ({
    key: b.key,
    kind: b.kind,
    currency: b.currency,
    order_id: b.orderId ?? null,
    payment_ref: b.paymentRef ?? null,
    offer_id: b.offerId ?? null,
    settlement_id: b.settlementId ?? null,
    booked_at: b.bookedAt.toISOString(),
    accounts: b.lines.map((l) => l.account),
    amounts: b.lines.map((l) => l.amount),
  }));
  const { rows } = await db.query<{ key: string }>(
    `WITH input AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(
         key text, kind text, currency text, order_id uuid, payment_ref text, offer_id numeric, settlement_id uuid,
         booked_at timestamptz, accounts text[], amounts bigint[])
     ), t AS (
       INSERT INTO ledger_transactions (key, kind, currency, order_id, payment_ref, offer_id, settlement_id, booked_at)
       SELECT key, kind, currency, order_id, payment_ref, offer_id, settlement_id, booked_at FROM input
       ON CONFLICT (key) DO NOTHING
       RETURNING id, key
     ), lines AS (
       INSERT INTO ledger_lines (transaction_id, line, account, amount)
       SELECT t.id, l.n, l.account, l.amount
         FROM t JOIN input USING (key), unnest(input.accounts, input.amounts) WITH ORDINALITY AS l(account, amount, n)
     )
     SELECT key FROM t`,
    [JSON.stringify(input)],
  );
  return new Set(rows.map((r) => r.key));
}

/** Appends one booking unless one with its key exists; answers whether it was booked now. */
export async function book(db: Queryable, booking: NewBooking): Promise<boolean> {
  return (await bookMany(db, [booking])).has(booking.key);
}

/** What booking an order's payment needs, read under the order's lock. */
export interface OrderToBook {
  order: Pick<
    Order,
    | "offerId"
    | "amount"
    | "currency"
    | "status"
    | "paymentStatus"
    | "paymentRef"
    | "providerFee"
    | "disputeFee"
    | "disputeOutcome"
  >;
  /** The offer's terms from the chain's mirror, with the order's referrer if the creator approved them; null when not indexed. */
  terms: { split: string; referrerBps: number; platformFeeBps: number; referrer: string | null } | null;
  /** The order's bookings so far, by kind. */
  bookings: Map<BookingKind, Line[]>;
}

interface OrderToBookRow {
  offer_id: string;
  amount: string;
  currency: string;
  status: Order["status"];
  payment_status: Order["paymentStatus"];
  payment_ref: string | null;
  provider_fee: string | null;
  dispute_fee: string | null;
  dispute_outcome: Order["disputeOutcome"];
  split: string | null;
  referrer_bps: number | null;
  platform_fee_bps: number | null;
  approved_referrer: string | null;
  bookings: Record<string, [string, string][]>;
}

/**
 * Locks orders (in id order, so concurrent lockers never deadlock), then reads what their bookings
 * need; an unknown order is missing from the answer. The read comes after the lock, in a statement
 * of its own, so it sees the bookings a booker that held the lock before committed.
 */
export async function lockOrdersForBooking(
  db: Queryable,
  orderIds: readonly string[],
): Promise<Map<string, OrderToBook>> {
  await db.query(`SELECT id FROM orders WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`, [orderIds]);
  const { rows } = await db.query<OrderToBookRow & { id: string }>(
    `SELECT o.id, o.offer_id::text, o.amount::text, o.currency, o.status, o.payment_status, o.payment_ref,
            o.provider_fee::text, o.dispute_fee::text, o.dispute_outcome,
            f.split, f.referrer_bps, f.platform_fee_bps,
            CASE WHEN r.approved THEN r.referrer END AS approved_referrer,
            coalesce((
              SELECT jsonb_object_agg(b.kind, b.lines) FROM (
                SELECT t.kind, jsonb_agg(jsonb_build_array(l.account, l.amount::text) ORDER BY l.line) AS lines
                  FROM ledger_transactions t JOIN ledger_lines l ON l.transaction_id = t.id
                 WHERE t.order_id = o.id GROUP BY t.id, t.kind
              ) b
            ), '{}'::jsonb) AS bookings
       FROM orders o
       LEFT JOIN offers f ON f.offer_id = o.offer_id AND f.platform_fee_bps IS NOT NULL
       LEFT JOIN offer_referrers r ON r.offer_id = o.offer_id AND r.referrer = lower(o.referrer)
      WHERE o.id = ANY($1::uuid[])`,
    [orderIds],
  );
  return new Map(rows.map((row) => [row.id, toOrderToBook(row)]));
}

function toOrderToBook(row: OrderToBookRow): OrderToBook {
  const bookings = new Map<BookingKind, Line[]>();
  for (const [kind, lines] of Object.entries(row.bookings)) {
    bookings.set(
      kind as BookingKind,
      lines.map(([account, amount]) => ({ account, amount: Number(amount) })),
    );
  }
  const toNumber = (v: string | null) => (v === null ? null : Number(v));
  return {
    order: {
      offerId: row.offer_id,
      amount: Number(row.amount),
      currency: row.currency,
      status: row.status,
      paymentStatus: row.payment_status,
      paymentRef: row.payment_ref,
      providerFee: toNumber(row.provider_fee),
      disputeFee: toNumber(row.dispute_fee),
      disputeOutcome: row.dispute_outcome,
    },
    terms:
      row.split === null
        ? null
        : {
            split: row.split,
            referrerBps: row.referrer_bps!,
            platformFeeBps: row.platform_fee_bps!,
            referrer: row.approved_referrer,
          },
    bookings,
  };
}
