import type { Pool } from "pg";
import type { Logger } from "pino";
import { withTransaction } from "../../../lib/transaction.ts";
import { PermanentError } from "../../errors.ts";
import { findOrder, lockOrder } from "../../orders/store.ts";
import type { Booking } from "../../queues/queues.ts";
import { book, bookingsOfOrder, saleTermsOf } from "../ledger-store.ts";
import { bookingKey, reinstatementPostings, reversalPostings, salePostings, type Line } from "../postings.ts";

export interface BookOrderDeps {
  db: Pool;
  /** The chain's clock: the holdback of a settlement counts from a booking's time by it. */
  clock: { nowSeconds(): Promise<number> };
  /** Whether the offer's creator approved the referrer (LicenseToken.isReferrer). */
  licenses: { isReferrer(offerId: string, referrer: string): Promise<boolean> };
  logger: Logger;
}

/**
 * Books what an order's card payment calls for and the ledger does not have yet, in order: the
 * captured sale, then its refund, or its chargeback and, when the chargeback was won, its
 * reinstatement. Every booking has a key of its own and the order is locked while booking, so
 * replayed webhooks, retried jobs and a worker killed half-way book nothing twice. An order whose
 * payment was never captured books nothing: no money moved.
 */
export async function bookOrder(deps: BookOrderDeps, orderId: string): Promise<Booking[]> {
  const { db } = deps;
  const seen = await findOrder(db, orderId);
  if (!seen) throw new PermanentError(`no order ${orderId}`);
  if (seen.paymentStatus !== "captured") return [];
  const terms = await saleTermsOf(db, seen.offerId);
  if (!terms)
    throw new PermanentError(`offer ${seen.offerId} of order ${orderId} is not indexed with its terms`);
  const existing = await bookingsOfOrder(db, orderId);
  // Approved when the sale is booked, as a crypto purchase's referrer is when it is made.
  const referrer =
    !existing.has("sale") && seen.referrer && (await deps.licenses.isReferrer(seen.offerId, seen.referrer))
      ? seen.referrer
      : null;
  const bookedAt = new Date((await deps.clock.nowSeconds()) * 1000);

  const booked = await withTransaction(db, async (client) => {
    const order = (await lockOrder(client, orderId))!;
    const bookings = await bookingsOfOrder(client, orderId);
    const done: Booking[] = [];
    const add = async (kind: Booking, lines: Line[]) => {
      const fresh = await book(client, {
        key: bookingKey(kind, orderId),
        kind,
        currency: order.currency,
        orderId,
        paymentRef: order.paymentRef,
        offerId: order.offerId,
        bookedAt,
        lines,
      });
      bookings.set(kind, lines);
      if (fresh) done.push(kind);
    };
    if (order.providerFee === null) {
      throw new PermanentError(`order ${orderId} was captured without the provider's fee recorded`);
    }
    if (!bookings.has("sale")) {
      await add(
        "sale",
        salePostings({ ...terms, amount: order.amount, providerFee: order.providerFee, referrer }),
      );
    }
    const sale = bookings.get("sale")!;
    if (order.status === "refunded" && !bookings.has("refund")) {
      await add("refund", reversalPostings(sale, order.amount));
    }
    if (order.status === "disputed") {
      if (!bookings.has("chargeback"))
        await add("chargeback", reversalPostings(sale, order.amount, order.disputeFee ?? 0));
      if (order.disputeOutcome === "won" && !bookings.has("chargeback_won")) {
        await add("chargeback_won", reinstatementPostings(sale, order.amount));
      }
    }
    return done;
  });
  if (booked.length > 0) deps.logger.info({ orderId, booked }, "card payment booked in the payout ledger");
  return booked;
}
