/** The orders table and its events: every read and write of an order, and its status moves. */
import type { PoolClient } from "pg";
import type { Queryable } from "../../lib/transaction.ts";
import { outboxJobs, recordJobsSql, type OutboxJob } from "../queues/outbox.ts";
import { assertMoves, type OrderStatus, type PaymentStatus } from "./status.ts";

export interface Order {
  id: string;
  offerId: string;
  /** Receives the license; null while it is held for `email` until a wallet claims it. */
  wallet: string | null;
  /** The buyer's email address (lower case), when they gave one. */
  email: string | null;
  referrer: string | null;
  /** What the buyer pays, in minor units: the list price less any discount. */
  amount: number;
  /** The offer's card price at checkout. */
  listAmount: number;
  /** The sale window the order was made in, and the sale price it started from. */
  saleId: string | null;
  saleAmount: number | null;
  discount: number;
  couponId: string | null;
  couponCode: string | null;
  currency: string;
  status: OrderStatus;
  failureReason: string | null;
  sessionId: string | null;
  checkoutUrl: string | null;
  paymentIntent: string | null;
  paymentRef: string | null;
  paymentStatus: PaymentStatus;
  tokenId: string | null;
  mintTxHash: string | null;
  mintBlock: number | null;
  revokeReason: string | null;
  revokeTxHash: string | null;
  revokedAt: Date | null;
  /** What the payment provider kept of the captured payment, in minor units. */
  providerFee: number | null;
  /** What the provider charged for a chargeback. */
  disputeFee: number | null;
  disputeOutcome: "won" | "lost" | null;
  /** Until then the order holds a unit of its offer (unless paid sooner). */
  reservedUntil: Date;
  /** Until then the order can be paid; a payment after reservedUntil is kept only while a unit is free. */
  payableUntil: Date;
  ip: string;
  createdAt: Date;
  updatedAt: Date;
}

/** One status an order went through; `seq` orders them across all orders. */
export interface OrderEvent {
  seq: string;
  orderId: string;
  status: OrderStatus;
  detail: Record<string, unknown>;
  at: Date;
}

/** Columns a transition may set besides the status. */
export interface OrderFields {
  /** Set once, by the claim of a held license. */
  wallet?: string;
  failureReason?: string | null;
  sessionId?: string;
  checkoutUrl?: string;
  paymentIntent?: string;
  paymentRef?: string;
  paymentStatus?: PaymentStatus;
  tokenId?: string;
  mintTxHash?: string;
  mintBlock?: number;
  revokeReason?: string;
  revokeTxHash?: string;
  revokedAt?: Date;
  providerFee?: number;
  disputeFee?: number | null;
  disputeOutcome?: "won" | "lost";
}

const FIELD_COLUMNS: Record<keyof OrderFields, string> = {
  wallet: "wallet",
  failureReason: "failure_reason",
  sessionId: "session_id",
  checkoutUrl: "checkout_url",
  paymentIntent: "payment_intent",
  paymentRef: "payment_ref",
  paymentStatus: "payment_status",
  tokenId: "token_id",
  mintTxHash: "mint_tx_hash",
  mintBlock: "mint_block",
  revokeReason: "revoke_reason",
  revokeTxHash: "revoke_tx_hash",
  revokedAt: "revoked_at",
  providerFee: "provider_fee",
  disputeFee: "dispute_fee",
  disputeOutcome: "dispute_outcome",
};

export interface OrderRow {
  id: string;
  offer_id: string;
  wallet: string | null;
  email: string | null;
  referrer: string | null;
  amount: string;
  list_amount: string | null;
  sale_id: string | null;
  sale_amount: string | null;
  discount: string;
  coupon_id: string | null;
  coupon_code: string | null;
  currency: string;
  status: OrderStatus;
  failure_reason: string | null;
  session_id: string | null;
  checkout_url: string | null;
  payment_intent: string | null;
  payment_ref: string | null;
  payment_status: PaymentStatus;
  token_id: string | null;
  mint_tx_hash: string | null;
  mint_block: string | null;
  revoke_reason: string | null;
  revoke_tx_hash: string | null;
  revoked_at: Date | null;
  provider_fee: string | null;
  dispute_fee: string | null;
  dispute_outcome: "won" | "lost" | null;
  reserved_until: Date;
  payable_until: Date;
  ip: string;
  created_at: Date;
  updated_at: Date;
}

export const orderColumns = (t: string) =>
  `${t}.id, ${t}.offer_id::text, ${t}.wallet, ${t}.email, ${t}.referrer, ${t}.amount::text, ${t}.list_amount::text,
   ${t}.sale_id, ${t}.sale_amount::text, ${t}.discount::text, ${t}.coupon_id, ${t}.coupon_code, ${t}.currency, ${t}.status,
   ${t}.failure_reason, ${t}.session_id, ${t}.checkout_url, ${t}.payment_intent, ${t}.payment_ref,
   ${t}.payment_status, ${t}.token_id::text, ${t}.mint_tx_hash, ${t}.mint_block::text, ${t}.revoke_reason,
   ${t}.revoke_tx_hash, ${t}.revoked_at, ${t}.provider_fee::text, ${t}.dispute_fee::text, ${t}.dispute_outcome,
   ${t}.reserved_until, ${t}.payable_until, ${t}.ip, ${t}.created_at, ${t}.updated_at`;

export function toOrder(row: OrderRow): Order {
  return {
    id: row.id,
    offerId: row.offer_id,
    wallet: row.wallet,
    email: row.email,
    referrer: row.referrer,
    amount: Number(row.amount),
    listAmount: Number(row.list_amount ?? row.amount),
    saleId: row.sale_id,
    saleAmount: row.sale_amount === null ? null : Number(row.sale_amount),
    discount: Number(row.discount),
    couponId: row.coupon_id,
    couponCode: row.coupon_code,
    currency: row.currency,
    status: row.status,
    failureReason: row.failure_reason,
    sessionId: row.session_id,
    checkoutUrl: row.checkout_url,
    paymentIntent: row.payment_intent,
    paymentRef: row.payment_ref,
    paymentStatus: row.payment_status,
    tokenId: row.token_id,
    mintTxHash: row.mint_tx_hash,
    mintBlock: row.mint_block === null ? null : Number(row.mint_block),
    revokeReason: row.revoke_reason,
    revokeTxHash: row.revoke_tx_hash,
    revokedAt: row.revoked_at,
    providerFee: row.provider_fee === null ? null : Number(row.provider_fee),
    disputeFee: row.dispute_fee === null ? null : Number(row.dispute_fee),
    disputeOutcome: row.dispute_outcome,
    reservedUntil: row.reserved_until,
    payableUntil: row.payable_until,
    ip: row.ip,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export interface OrderEventRow {
  event_seq: string;
  event_at: Date;
  event_detail: Record<string, unknown>;
}

export function toOrderEvent(order: Order, row: OrderEventRow): OrderEvent {
  return {
    seq: row.event_seq,
    orderId: order.id,
    status: order.status,
    detail: row.event_detail,
    at: row.event_at,
  };
}

async function one(db: Queryable, where: string, value: string): Promise<Order | null> {
  const { rows } = await db.query<OrderRow>(`SELECT ${orderColumns("o")} FROM orders o WHERE ${where} = $1`, [
    value,
  ]);
  return rows[0] ? toOrder(rows[0]) : null;
}

export const findOrder = (db: Queryable, id: string) => one(db, "o.id", id);
export const findOrderBySession = (db: Queryable, sessionId: string) => one(db, "o.session_id", sessionId);
export const findOrderByPaymentIntent = (db: Queryable, paymentIntent: string) =>
  one(db, "o.payment_intent", paymentIntent);

/** The order, locked until the end of the caller's transaction. */
export async function lockOrder(client: PoolClient, id: string): Promise<Order | null> {
  const { rows } = await client.query<OrderRow>(
    `SELECT ${orderColumns("o")} FROM orders o WHERE o.id = $1 FOR UPDATE`,
    [id],
  );
  return rows[0] ? toOrder(rows[0]) : null;
}

/** The order's history, oldest first; only events after `afterSeq` when given. */
export async function orderEvents(db: Queryable, orderId: string, afterSeq = "0"): Promise<OrderEvent[]> {
  const { rows } = await db.query<{
    seq: string;
    status: OrderStatus;
    detail: Record<string, unknown>;
    created_at: Date;
  }>(
    `SELECT id::text AS seq, status, detail, created_at FROM order_events
      WHERE order_id = $1 AND id > $2 ORDER BY id`,
    [orderId, afterSeq],
  );
  return rows.map((r) => ({ seq: r.seq, orderId, status: r.status, detail: r.detail, at: r.created_at }));
}

export interface NewOrder {
  id: string;
  offerId: string;
  /** Null: the license is held for `email` once paid. */
  wallet: string | null;
  email: string | null;
  /** SHA-256 of the order secret, for the lookup by email and secret; null without an email. */
  lookupHash: Buffer | null;
  referrer: string | null;
  /** What the buyer pays. */
  amount: number;
  listAmount: number;
  saleId: string | null;
  saleAmount: number | null;
  discount: number;
  couponId: string | null;
  couponCode: string | null;
  currency: string;
  ip: string;
  /** How long the order holds its unit. */
  holdSeconds: number;
  /** How long the order can be paid (at least holdSeconds). */
  ttlSeconds: number;
}

/** Inserts an order in `created` with its first event. */
export async function insertOrder(
  db: Queryable,
  order: NewOrder,
): Promise<{ order: Order; event: OrderEvent }> {
  const { rows } = await db.query<OrderRow & OrderEventRow>(
    `WITH inserted AS (
       INSERT INTO orders (id, offer_id, wallet, referrer, amount, currency, status, ip, reserved_until,
                           payable_until, list_amount, discount, coupon_id, coupon_code, sale_id, sale_amount,
                           email, lookup_hash)
       VALUES ($1, $2, $3, $4, $5, $6, 'created', $7, now() + make_interval(secs => $8),
               now() + make_interval(secs => $9), $10, $11, $12, $13, $14, $15, $16, $17)
       RETURNING *
     ), event AS (
       INSERT INTO order_events (order_id, status) SELECT id, status FROM inserted
       RETURNING id, created_at, detail
     )
     SELECT ${orderColumns("inserted")}, event.id::text AS event_seq, event.created_at AS event_at,
            event.detail AS event_detail
       FROM inserted CROSS JOIN event`,
    [
      order.id,
      order.offerId,
      order.wallet,
      order.referrer,
      order.amount,
      order.currency,
      order.ip,
      order.holdSeconds,
      order.ttlSeconds,
      order.listAmount,
      order.discount,
      order.couponId,
      order.couponCode,
      order.saleId,
      order.saleAmount,
      order.email,
      order.lookupHash,
    ],
  );
  const inserted = toOrder(rows[0]!);
  return { order: inserted, event: toOrderEvent(inserted, rows[0]!) };
}

export interface Transition {
  /** Statuses the order may be in; the transition does nothing otherwise. */
  from: OrderStatus[];
  to: OrderStatus;
  set?: OrderFields;
  detail?: Record<string, unknown>;
  /** Only while the order's reservation has not lapsed. */
  whileReserved?: boolean;
  /** Jobs the transition promises, recorded in the outbox by the same statement (only if it happens). */
  jobs?: Omit<OutboxJob, "id">[];
}

/** A transition of one order. */
export interface OrderTransition extends Transition {
  id: string;
}

export interface Moved {
  order: Order;
  event: OrderEvent;
  /** The jobs recorded with the transition, for the caller to deliver once its transaction commits. */
  jobs: OutboxJob[];
}

const FIELD_TYPES: Partial<Record<keyof OrderFields, string>> = {
  tokenId: "numeric",
  mintBlock: "bigint",
  revokedAt: "timestamptz",
  providerFee: "bigint",
  disputeFee: "bigint",
};

/** SET clauses taking each field from a transition's `set` when it is there. */
const SET_FROM_INPUT = Object.entries(FIELD_COLUMNS)
  .map(([key, column]) => {
    const type = FIELD_TYPES[key as keyof OrderFields] ?? "text";
    return `${column} = CASE WHEN u.item->'set' ? '${key}' THEN (u.item->'set'->>'${key}')::${type} ELSE o.${column} END`;
  })
  .join(",\n       ");

/**
 * Moves each order to its `to` if it is in one of its `from`, sets its `set`, and records the
 * event and the jobs it promises — all of them in one statement. Answers in input order; null where an order was not in
 * `from`. The orders must be distinct.
 */
export async function transitionMany(db: Queryable, changes: OrderTransition[]): Promise<(Moved | null)[]> {
  if (changes.length === 0) return [];
  for (const change of changes) assertMoves(change.from, change.to);
  const input = changes.map((c) => ({
    id: c.id,
    to: c.to,
    from: c.from,
    set: c.set ?? {},
    detail: c.detail ?? {},
    whileReserved: c.whileReserved === true,
    jobs: c.jobs ?? [],
  }));
  const { rows } = await db.query<OrderRow & OrderEventRow & { n: number; outbox_jobs: OutboxJob[] }>(
    `WITH input AS (
       SELECT e.item, e.n FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(item, n)
     ), updated AS (
       UPDATE orders o SET status = u.item->>'to', updated_at = now(),
       ${SET_FROM_INPUT}
         FROM input u
        WHERE o.id = (u.item->>'id')::uuid
          AND o.status IN (SELECT jsonb_array_elements_text(u.item->'from'))
          AND (NOT (u.item->>'whileReserved')::boolean OR o.reserved_until > now())
       RETURNING o.*, u.n, u.item->'detail' AS input_detail, u.item->'jobs' AS input_jobs
     ), event AS (
       INSERT INTO order_events (order_id, status, detail)
       SELECT id, status, input_detail FROM updated ORDER BY n
       RETURNING id, order_id, created_at, detail
     ), queued AS (
       ${recordJobsSql(`SELECT j->>'queue', j->>'jobId', j->'data' FROM updated, jsonb_array_elements(updated.input_jobs) AS j`)}
     )
     SELECT ${orderColumns("updated")}, updated.n::int AS n, event.id::text AS event_seq,
            event.created_at AS event_at, event.detail AS event_detail, ${outboxJobs("queued")}
       FROM updated JOIN event ON event.order_id = updated.id`,
    [JSON.stringify(input)],
  );
  const moved: (Moved | null)[] = changes.map(() => null);
  for (const row of rows) {
    const order = toOrder(row);
    const promised = input[row.n - 1]!.jobs;
    const jobs = row.outbox_jobs.filter((j) =>
      promised.some((p) => p.queue === j.queue && p.jobId === j.jobId),
    );
    moved[row.n - 1] = { order, event: toOrderEvent(order, row), jobs };
  }
  return moved;
}

/** Moves one order (see transitionMany). Null when the order was not in `from`. */
export async function transition(db: Queryable, id: string, change: Transition): Promise<Moved | null> {
  return (await transitionMany(db, [{ ...change, id }]))[0]!;
}

/** Sets fields that are not a change of status (the checkout session, the payment's state). */
export async function updateOrder(db: Queryable, id: string, set: OrderFields): Promise<void> {
  const params: unknown[] = [id];
  const sets = ["updated_at = now()"];
  for (const [key, value] of Object.entries(set)) {
    if (value === undefined) continue;
    params.push(value);
    sets.push(`${FIELD_COLUMNS[key as keyof OrderFields]} = $${params.length}`);
  }
  await db.query(`UPDATE orders SET ${sets.join(", ")} WHERE id = $1`, params);
}

/** Expires up to `limit` orders left unpaid past the time they could be paid; returns them with their events. */
export async function expireUnpaid(
  db: Queryable,
  limit: number,
): Promise<{ order: Order; event: OrderEvent }[]> {
  assertMoves(["created"], "expired");
  const { rows } = await db.query<OrderRow & OrderEventRow>(
    `WITH due AS (
       SELECT id FROM orders WHERE status = 'created' AND payable_until <= now()
        ORDER BY payable_until LIMIT $1 FOR UPDATE SKIP LOCKED
     ), expired AS (
       UPDATE orders o SET status = 'expired', updated_at = now() FROM due WHERE o.id = due.id RETURNING o.*
     ), event AS (
       INSERT INTO order_events (order_id, status, detail)
       SELECT id, status, '{"reason":"not paid in time"}'::jsonb FROM expired
       RETURNING id, order_id, created_at, detail
     )
     SELECT ${orderColumns("expired")}, event.id::text AS event_seq, event.created_at AS event_at,
            event.detail AS event_detail
       FROM expired JOIN event ON event.order_id = expired.id`,
    [limit],
  );
  return rows.map((row) => {
    const order = toOrder(row);
    return { order, event: toOrderEvent(order, row) };
  });
}
