import type { Pool } from "pg";
import type { Logger } from "pino";
import { Batcher } from "../../../lib/batcher.ts";
import { withTransaction } from "../../../lib/transaction.ts";
import { PermanentError } from "../../errors.ts";
import type { Booking } from "../../queues/queues.ts";
import { bookMany, lockOrdersForBooking, type NewBooking, type OrderToBook } from "../ledger-store.ts";
import { bookingKey, reinstatementPostings, reversalPostings, salePostings, type Line } from "../postings.ts";

export interface BookOrderDeps {
  db: Pool;
  /** The chain's clock: the holdback of a settlement counts from a booking's time by it. */
  clock: { nowSeconds(): Promise<number> };
  logger: Logger;
}

/** Most orders booked in one transaction. */
const MAX_GROUP = 200;

/**
 * What an order's card payment calls for and the ledger does not have yet, in order: the captured
 * sale, then its refund, or its chargeback and, when the chargeback was won, its reinstatement.
 * An order whose payment was never captured calls for nothing: no money moved.
 */
function dueBookings(orderId: string, found: OrderToBook, bookedAt: Date): NewBooking[] {
  const { order, terms } = found;
  if (order.paymentStatus !== "captured") return [];
  const bookings = new Map(found.bookings);
  const due: NewBooking[] = [];
  const add = (kind: Booking, lines: Line[]) => {
    const { currency, offerId, paymentRef } = order;
    due.push({
      key: bookingKey(kind, orderId),
      kind,
      currency,
      orderId,
      paymentRef,
      offerId,
      bookedAt,
      lines,
    });
    bookings.set(kind, lines);
  };
  if (!bookings.has("sale")) {
    if (!terms)
      throw new PermanentError(`offer ${order.offerId} of order ${orderId} is not indexed with its terms`);
    if (order.providerFee === null) {
      throw new PermanentError(`order ${orderId} was captured without the provider's fee recorded`);
    }
    add("sale", salePostings({ ...terms, amount: order.amount, providerFee: order.providerFee }));
  }
  const sale = bookings.get("sale")!;
  if (order.status === "refunded" && !bookings.has("refund"))
    add("refund", reversalPostings(sale, order.amount));
  if (order.status === "disputed") {
    if (!bookings.has("chargeback")) {
      add("chargeback", reversalPostings(sale, order.amount, order.disputeFee ?? 0));
    }
    if (order.disputeOutcome === "won" && !bookings.has("chargeback_won")) {
      add("chargeback_won", reinstatementPostings(sale, order.amount));
    }
  }
  return due;
}

/**
 * Books what the orders' card payments call for, all in one transaction under the orders' locks:
 * every booking has a key of its own, so replayed webhooks, retried jobs and a worker killed
 * half-way book nothing twice. A referrer earns the commission when the chain's mirror shows the
 * offer's creator approved them as the sale is booked, as a crypto purchase's referrer is judged
 * when it is made. Throws for the whole group when one order cannot be booked.
 */
export async function bookOrders(deps: BookOrderDeps, orderIds: readonly string[]): Promise<Booking[][]> {
  const bookedAt = new Date((await deps.clock.nowSeconds()) * 1000);
  const booked = await withTransaction(deps.db, async (client) => {
    const found = await lockOrdersForBooking(client, orderIds);
    const due = orderIds.map((id) => {
      const order = found.get(id);
      if (!order) throw new PermanentError(`no order ${id}`);
      return dueBookings(id, order, bookedAt);
    });
    const fresh = await bookMany(client, due.flat());
    return due.map((bookings) => bookings.filter((b) => fresh.has(b.key)).map((b) => b.kind as Booking));
  });
  orderIds.forEach((orderId, i) => {
    if (booked[i]!.length > 0)
      deps.logger.info({ orderId, booked: booked[i] }, "card payment booked in the payout ledger");
  });
  return booked;
}

/**
 * Bookings of orders asked for at the same time go in one transaction (a group that fails is
 * booked order by order, so one order that cannot be booked fails alone).
 */
export class OrderBooker {
  readonly #batcher: Batcher<string, Booking[]>;

  constructor(deps: BookOrderDeps) {
    this.#batcher = new Batcher(
      MAX_GROUP,
      (ids) => bookOrders(deps, ids),
      (id) => id,
    );
  }

  /** Books what the order's payment calls for; answers the bookings made now. */
  book(orderId: string): Promise<Booking[]> {
    return this.#batcher.call(orderId);
  }
}
