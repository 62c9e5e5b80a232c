import { outboxJobs, recordJobsSql, type OutboxJob } from "../queues/outbox.ts";
import { orderJob, orderJobPrefix, QUEUE_NAMES } from "../queues/queues.ts";
import {
  orderColumns,
  toOrder,
  toOrderEvent,
  type Moved,
  type OrderEventRow,
  type OrderRow,
} from "./store.ts";
import { assertMoves, type OrderStatus, type PaymentStatus } from "./status.ts";
import type { Queryable } from "../../lib/transaction.ts";
import { keepPaidCodesSql } from "../codes/code-store.ts";

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

/** Gives up a claim whose event could not be applied, so the provider's next delivery applies it. */
export async function releaseEvent(db: Queryable, id: string): Promise<void> {
  await db.query(`DELETE FROM webhook_events WHERE id = $1 AND processed_at IS NULL`, [id]);
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
  /** What the event says was paid; the order is paid here only when both match it. */
  amount: number | null;
  currency: string | null;
}

export interface PaymentOutcome {
  /** This delivery recorded the event (it was not seen before). */
  fresh: boolean;
  /**
   * The order moved from `created` to `paid`, with its event and its fulfilment job; null when it
   * was not in `created` within its reservation.
   */
  paid: Moved | null;
  /** The event was recorded long ago and never marked processed. */
  abandoned: boolean;
  /** The order's status before this statement; null when no order has this id and session. */
  previous: { status: OrderStatus; paymentStatus: PaymentStatus } | null;
}

/**
 * The usual `checkout.session.completed` of each order, in one statement and one commit: an order
 * moves to `paid` if it is `created` and its reservation holds, its fulfilment job is recorded in
 * the outbox, the redemption code it holds (if its offer sells codes) is kept for good, and its
 * event is recorded (as processed when the order moved). Anything else — a
 * lapsed reservation, a duplicate — is left to the caller. The orders must be distinct; answers in
 * input order.
 */
export async function recordCheckoutPayments(
  db: Queryable,
  payments: CheckoutPayment[],
  abandonedAfterSeconds: number,
): Promise<PaymentOutcome[]> {
  assertMoves(["created"], "paid");
  const { rows } = await db.query<
    Partial<OrderRow & OrderEventRow> & {
      n: number;
      outbox_jobs: OutboxJob[];
      fresh: boolean;
      abandoned: boolean | null;
      previous_status: OrderStatus | null;
      previous_payment_status: PaymentStatus | null;
    }
  >(
    `WITH input AS (
       SELECT e.item->>'eventId' AS event_id, e.item->>'eventType' AS event_type,
              (e.item->>'orderId')::uuid AS order_id, e.item->>'sessionId' AS session_id,
              e.item->>'paymentIntent' AS payment_intent, (e.item->>'amount')::bigint AS amount,
              e.item->>'currency' AS currency, e.n
         FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(item, n)
     ), paid AS (
       UPDATE orders o SET status = 'paid', payment_intent = i.payment_intent, payment_status = 'authorized',
              updated_at = now()
         FROM input i
        WHERE o.id = i.order_id AND o.session_id = i.session_id AND o.status = 'created'
          AND o.reserved_until > now() AND o.amount = i.amount AND o.currency = i.currency
       RETURNING o.*, i.n
     ), event AS (
       INSERT INTO order_events (order_id, status, detail)
       SELECT id, status, jsonb_build_object('paymentIntent', payment_intent) FROM paid ORDER BY n
       RETURNING id, order_id, created_at, detail
     ), ${keepPaidCodesSql("paid")}, queued AS (
       ${recordJobsSql(`SELECT $3, $4 || paid.id, jsonb_build_object('orderId', paid.id) FROM paid`)}
     ), recorded AS (
       INSERT INTO webhook_events (id, type, processed_at)
       SELECT i.event_id, i.event_type, CASE WHEN EXISTS (SELECT 1 FROM paid WHERE paid.n = i.n) THEN now() END
         FROM input i
       ON CONFLICT (id) DO NOTHING
       RETURNING id
     )
     SELECT i.n::int AS n, EXISTS (SELECT 1 FROM recorded r WHERE r.id = i.event_id) AS fresh,
            (SELECT w.processed_at IS NULL AND w.received_at < now() - make_interval(secs => $2)
               FROM webhook_events w WHERE w.id = i.event_id) AS abandoned,
            previous.status AS previous_status, previous.payment_status AS previous_payment_status,
            ${orderColumns("paid")}, event.id::text AS event_seq, event.created_at AS event_at,
            event.detail AS event_detail, ${outboxJobs("queued")}
       FROM input i
       LEFT JOIN orders previous ON previous.id = i.order_id AND previous.session_id = i.session_id
       LEFT JOIN (paid JOIN event ON event.order_id = paid.id) ON paid.n = i.n`,
    [JSON.stringify(payments), abandonedAfterSeconds, QUEUE_NAMES.fulfillOrder, orderJobPrefix("fulfil")],
  );
  const outcomes: PaymentOutcome[] = [];
  for (const row of rows) {
    let paid: PaymentOutcome["paid"] = null;
    if (row.id) {
      const order = toOrder(row as OrderRow);
      const { jobId } = orderJob("fulfil", order.id);
      paid = {
        order,
        event: toOrderEvent(order, row as OrderEventRow),
        jobs: row.outbox_jobs.filter((j) => j.jobId === jobId),
      };
    }
    outcomes[row.n - 1] = {
      fresh: row.fresh,
      paid,
      abandoned: row.abandoned === true,
      previous: row.previous_status
        ? { status: row.previous_status, paymentStatus: row.previous_payment_status! }
        : null,
    };
  }
  return outcomes;
}
