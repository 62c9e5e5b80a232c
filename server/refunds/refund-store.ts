/** The refund_requests table, the offers' refund windows, and what an order's window counts from. */
import type { Queryable } from "../../lib/transaction.ts";
import { refundMovingTo, type RefundStatus } from "./refund-status.ts";

export interface RefundRequestRecord {
  id: string;
  orderId: string;
  offerId: string;
  status: RefundStatus;
  reason: string;
  /** Where the decision is mailed; null when the buyer gave no address. */
  email: string | null;
  idempotencyKey: string;
  decisionReason: string | null;
  decidedBy: string | null;
  decidedAt: Date | null;
  refundedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  /** The order's price paid and currency: what the refund pays back. */
  amount: number;
  currency: string;
}

interface Row {
  id: string;
  order_id: string;
  offer_id: string;
  status: RefundStatus;
  reason: string;
  email: string | null;
  idempotency_key: string;
  decision_reason: string | null;
  decided_by: string | null;
  decided_at: Date | null;
  refunded_at: Date | null;
  created_at: Date;
  updated_at: Date;
  amount: string;
  currency: string;
}

const COLUMNS = `r.id, r.order_id, r.offer_id::text, r.status, r.reason, r.email, r.idempotency_key, r.decision_reason,
  r.decided_by, r.decided_at, r.refunded_at, r.created_at, r.updated_at`;
const WITH_ORDER = `SELECT ${COLUMNS}, o.amount::text, o.currency FROM refund_requests r JOIN orders o ON o.id = r.order_id`;

function toRecord(row: Row): RefundRequestRecord {
  return {
    id: row.id,
    orderId: row.order_id,
    offerId: row.offer_id,
    status: row.status,
    reason: row.reason,
    email: row.email,
    idempotencyKey: row.idempotency_key,
    decisionReason: row.decision_reason,
    decidedBy: row.decided_by,
    decidedAt: row.decided_at,
    refundedAt: row.refunded_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    amount: Number(row.amount),
    currency: row.currency,
  };
}

/** Records a request; null when the order already has one that is not cancelled. */
export async function insertRequest(
  db: Queryable,
  request: { id: string; orderId: string; offerId: string; reason: string; email: string | null },
): Promise<RefundRequestRecord | null> {
  const { rows } = await db.query<Row>(
    `WITH inserted AS (
       INSERT INTO refund_requests (id, order_id, offer_id, status, reason, idempotency_key, email)
       VALUES ($1, $2, $3, 'requested', $4, $5, $6)
       ON CONFLICT (order_id) WHERE status <> 'cancelled' DO NOTHING
       RETURNING *
     )
     SELECT ${COLUMNS}, o.amount::text, o.currency FROM inserted r JOIN orders o ON o.id = r.order_id`,
    [request.id, request.orderId, request.offerId, request.reason, `refund-${request.id}`, request.email],
  );
  return rows[0] ? toRecord(rows[0]) : null;
}

export async function findRequest(db: Queryable, id: string): Promise<RefundRequestRecord | null> {
  const { rows } = await db.query<Row>(`${WITH_ORDER} WHERE r.id = $1`, [id]);
  return rows[0] ? toRecord(rows[0]) : null;
}

/** The request, locked until the end of the caller's transaction. */
export async function lockRequest(db: Queryable, id: string): Promise<RefundRequestRecord | null> {
  const { rows } = await db.query<Row>(`${WITH_ORDER} WHERE r.id = $1 FOR UPDATE OF r`, [id]);
  return rows[0] ? toRecord(rows[0]) : null;
}

/** The order's request that is not cancelled, else its latest cancelled one; null when it has none. */
export async function requestOfOrder(db: Queryable, orderId: string): Promise<RefundRequestRecord | null> {
  const { rows } = await db.query<Row>(
    `${WITH_ORDER} WHERE r.order_id = $1 ORDER BY (r.status = 'cancelled'), r.created_at DESC LIMIT 1`,
    [orderId],
  );
  return rows[0] ? toRecord(rows[0]) : null;
}

/** The open request of an order (requested or approved), locked; null when none. */
export async function lockOpenRequestOfOrder(
  db: Queryable,
  orderId: string,
): Promise<RefundRequestRecord | null> {
  const { rows } = await db.query<Row>(
    `${WITH_ORDER} WHERE r.order_id = $1 AND r.status IN ('requested', 'approved') FOR UPDATE OF r`,
    [orderId],
  );
  return rows[0] ? toRecord(rows[0]) : null;
}

export interface RequestChange {
  decisionReason?: string;
  decidedBy?: string;
  decided?: boolean;
  refunded?: boolean;
}

/**
 * Moves a request to `to` if the status table lets it move there from where it is; null otherwise
 * (it moved meanwhile). The one place a request's status changes.
 */
export async function moveRequest(
  db: Queryable,
  id: string,
  to: RefundStatus,
  change: RequestChange = {},
): Promise<RefundRequestRecord | null> {
  const { rows } = await db.query<Row>(
    `WITH moved AS (
       UPDATE refund_requests SET status = $2, updated_at = now(),
              decision_reason = coalesce($4, decision_reason), decided_by = coalesce($5, decided_by),
              decided_at = CASE WHEN $6 THEN now() ELSE decided_at END,
              refunded_at = CASE WHEN $7 THEN now() ELSE refunded_at END
        WHERE id = $1 AND status = ANY($3::text[])
       RETURNING *
     )
     SELECT ${COLUMNS}, o.amount::text, o.currency FROM moved r JOIN orders o ON o.id = r.order_id`,
    [
      id,
      to,
      refundMovingTo(to),
      change.decisionReason ?? null,
      change.decidedBy ?? null,
      change.decided === true,
      change.refunded === true,
    ],
  );
  return rows[0] ? toRecord(rows[0]) : null;
}

/** Requests of the offers `creator` published (every offer's when null), newest first. */
export async function listRequests(
  db: Queryable,
  filter: { creator: string | null; offerId?: string; status?: RefundStatus; limit: number },
): Promise<RefundRequestRecord[]> {
  const { rows } = await db.query<Row>(
    `${WITH_ORDER}
      WHERE ($1::text IS NULL OR EXISTS (SELECT 1 FROM offers f WHERE f.offer_id = r.offer_id AND f.creator = $1))
        AND ($2::numeric IS NULL OR r.offer_id = $2::numeric)
        AND ($3::text IS NULL OR r.status = $3)
      ORDER BY r.created_at DESC LIMIT $4`,
    [filter.creator, filter.offerId ?? null, filter.status ?? null, filter.limit],
  );
  return rows.map(toRecord);
}

/** The offer's creator as the chain's mirror has it (lower case); null for an unknown offer. */
export async function creatorOfOffer(db: Queryable, offerId: string): Promise<string | null> {
  const { rows } = await db.query<{ creator: string }>(`SELECT creator FROM offers WHERE offer_id = $1`, [
    offerId,
  ]);
  return rows[0]?.creator.toLowerCase() ?? null;
}

/** The refund window its creator set for an offer sold by card: undefined when it has no card price, null when none is set. */
export async function refundWindowOf(db: Queryable, offerId: string): Promise<number | null | undefined> {
  const { rows } = await db.query<{ seconds: string | null }>(
    `SELECT refund_window_seconds::text AS seconds FROM fiat_prices WHERE offer_id = $1`,
    [offerId],
  );
  if (!rows[0]) return undefined;
  return rows[0].seconds === null ? null : Number(rows[0].seconds);
}

/** Sets the offer's refund window; false when the offer has no card price. */
export async function setRefundWindow(db: Queryable, offerId: string, seconds: number): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE fiat_prices SET refund_window_seconds = $2, updated_at = now() WHERE offer_id = $1`,
    [offerId, seconds],
  );
  return rowCount === 1;
}

/**
 * When an order's refund window opened: its sale's booking in the payout ledger, by the chain's
 * clock as the settlement holdback counts; null while the sale is not booked yet.
 */
export async function refundWindowStart(db: Queryable, orderId: string): Promise<Date | null> {
  const { rows } = await db.query<{ at: Date }>(
    `SELECT booked_at AS at FROM ledger_transactions WHERE order_id = $1 AND kind = 'sale'`,
    [orderId],
  );
  return rows[0]?.at ?? null;
}
