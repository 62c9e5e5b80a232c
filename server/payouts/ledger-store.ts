/** The payout ledger's SQL: bookings appended once by key, and the bookings of an order read back. */
import type { Queryable } from "../../lib/transaction.ts";
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
 * Appends a booking unless one with its key exists; answers whether it was booked now. Its lines
 * must balance: the ledger checks them when the caller's transaction commits.
 */
export async function book(db: Queryable, booking: NewBooking): Promise<boolean> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO ledger_transactions (key, kind, currency, order_id, payment_ref, offer_id, settlement_id, booked_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (key) DO NOTHING
     RETURNING id::text`,
    [
      booking.key,
      booking.kind,
      booking.currency,
      booking.orderId ?? null,
      booking.paymentRef ?? null,
      booking.offerId ?? null,
      booking.settlementId ?? null,
      booking.bookedAt,
    ],
  );
  const id = rows[0]?.id;
  if (!id) return false;
  await db.query(
    `INSERT INTO ledger_lines (transaction_id, line, account, amount)
     SELECT $1, n, account, amount FROM unnest($2::text[], $3::bigint[]) WITH ORDINALITY AS l(account, amount, n)`,
    [id, booking.lines.map((l) => l.account), booking.lines.map((l) => l.amount)],
  );
  return true;
}

/** An order's bookings by kind, with their lines. */
export async function bookingsOfOrder(db: Queryable, orderId: string): Promise<Map<BookingKind, Line[]>> {
  const { rows } = await db.query<{ kind: BookingKind; account: string; amount: string }>(
    `SELECT t.kind, l.account, l.amount::text
       FROM ledger_transactions t JOIN ledger_lines l ON l.transaction_id = t.id
      WHERE t.order_id = $1
      ORDER BY t.id, l.line`,
    [orderId],
  );
  const bookings = new Map<BookingKind, Line[]>();
  for (const row of rows) {
    const lines = bookings.get(row.kind) ?? [];
    lines.push({ account: row.account, amount: Number(row.amount) });
    bookings.set(row.kind, lines);
  }
  return bookings;
}

/** The terms an offer's card sales are split by, from the chain's mirror; null for an offer not indexed with them. */
export async function saleTermsOf(
  db: Queryable,
  offerId: string,
): Promise<{ split: string; referrerBps: number; platformFeeBps: number } | null> {
  const { rows } = await db.query<{ split: string; referrer_bps: number; platform_fee_bps: number }>(
    `SELECT split, referrer_bps, platform_fee_bps FROM offers WHERE offer_id = $1 AND platform_fee_bps IS NOT NULL`,
    [offerId],
  );
  const row = rows[0];
  if (!row) return null;
  return { split: row.split, referrerBps: row.referrer_bps, platformFeeBps: row.platform_fee_bps };
}
