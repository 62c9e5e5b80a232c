import {
  orderColumns,
  toOrder,
  toOrderEvent,
  type Order,
  type OrderEvent,
  type OrderEventRow,
  type OrderRow,
  type OrderStatus,
  type PaymentStatus,
  type Queryable,
} from "./orders.ts";

/**
 * Records a delivery of payment event `id` and says whether this delivery should apply it: a new
 * event, or one recorded long ago (`abandonedAfterSeconds`) and never marked processed (its
 * process stopped half-way), which this delivery takes over. One statement.
 */
export async function claimEvent(
  db: Queryable,
  id: string,
  type: string,
  abandonedAfterSeconds: number,
): Promise<boolean> {
  const { rows } = await db.query<{ claimed: boolean }>(
    `WITH inserted AS (
       INSERT INTO webhook_events (id, type) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING RETURNING id
     ), reclaimed AS (
       UPDATE webhook_events SET received_at = now()
        WHERE id = $1 AND processed_at IS NULL AND received_at < now() - make_interval(secs => $3)
       RETURNING id
     )
     SELECT EXISTS (SELECT 1 FROM inserted) OR EXISTS (SELECT 1 FROM reclaimed) AS claimed`,
    [id, type, abandonedAfterSeconds],
  );
  return rows[0]!.claimed;
}

export async function markProcessed(db: Queryable, id: string): Promise<void> {
  await db.query(`UPDATE webhook_events SET processed_at = now() WHERE id = $1`, [id]);
}

export interface CheckoutPayment {
  eventId: string;
  eventType: string;
  orderId: string;
  sessionId: string;
  paymentIntent: string;
  abandonedAfterSeconds: number;
}

export interface PaymentOutcome {
  /** This delivery recorded the event (it was not seen before). */
  fresh: boolean;
  /** The order moved from `created` to `paid`, with its event; null when it was not in `created` within its reservation. */
  paid: { order: Order; event: OrderEvent } | null;
  /** The event was recorded long ago and never marked processed. */
  abandoned: boolean;
  /** The order's status before this statement; null when no order has this id and session. */
  previous: { status: OrderStatus; paymentStatus: PaymentStatus } | null;
}

/**
 * The usual `checkout.session.completed`, in one statement and one commit: the order moves to
 * `paid` if it is `created` and its reservation holds, and the event is recorded (as processed
 * when the order moved). Anything else — a lapsed reservation, a duplicate — is left to the caller.
 */
export async function recordCheckoutPayment(
  db: Queryable,
  payment: CheckoutPayment,
): Promise<PaymentOutcome> {
  const { rows } = await db.query<
    Partial<OrderRow & OrderEventRow> & {
      fresh: boolean;
      abandoned: boolean | null;
      previous_status: OrderStatus | null;
      previous_payment_status: PaymentStatus | null;
    }
  >(
    `WITH paid AS (
       UPDATE orders SET status = 'paid', payment_intent = $5, payment_status = 'authorized', updated_at = now()
        WHERE id = $3 AND session_id = $4 AND status = 'created' AND reserved_until > now()
       RETURNING *
     ), event AS (
       INSERT INTO order_events (order_id, status, detail)
       SELECT id, status, jsonb_build_object('paymentIntent', payment_intent) FROM paid
       RETURNING id, created_at, detail
     ), recorded AS (
       INSERT INTO webhook_events (id, type, processed_at)
       SELECT $1, $2, CASE WHEN EXISTS (SELECT 1 FROM paid) THEN now() END
       ON CONFLICT (id) DO NOTHING
       RETURNING id
     )
     SELECT EXISTS (SELECT 1 FROM recorded) AS fresh,
            (SELECT w.processed_at IS NULL AND w.received_at < now() - make_interval(secs => $6)
               FROM webhook_events w WHERE w.id = $1) AS abandoned,
            previous.status AS previous_status, previous.payment_status AS previous_payment_status,
            ${orderColumns("paid")}, event.id::text AS event_seq, event.created_at AS event_at,
            event.detail AS event_detail
       FROM (SELECT 1) one
       LEFT JOIN orders previous ON previous.id = $3 AND previous.session_id = $4
       LEFT JOIN (paid CROSS JOIN event) ON true`,
    [
      payment.eventId,
      payment.eventType,
      payment.orderId,
      payment.sessionId,
      payment.paymentIntent,
      payment.abandonedAfterSeconds,
    ],
  );
  const row = rows[0]!;
  let paid: PaymentOutcome["paid"] = null;
  if (row.id) {
    const order = toOrder(row as OrderRow);
    paid = { order, event: toOrderEvent(order, row as OrderEventRow) };
  }
  return {
    fresh: row.fresh,
    paid,
    abandoned: row.abandoned === true,
    previous: row.previous_status
      ? { status: row.previous_status, paymentStatus: row.previous_payment_status! }
      : null,
  };
}
