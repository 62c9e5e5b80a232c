/**
 * A refund request's life in one table: from each status, the statuses it may move to. Every
 * change of a request's status is checked against it (refund-store.ts `moveRequest`).
 *
 *   requested ──creator approves──▶ approved ──provider's refund webhook──▶ refunded
 *      │ │ └──creator declines──▶ declined                │
 *      │ └──refunded in the provider's dashboard first──▶ refunded
 *      └──buyer withdraws, or a chargeback──▶ cancelled ◀─┘ (a chargeback before the refund)
 */
import type { RefundStatus } from "../../lib/api/refunds.ts";

export type { RefundStatus } from "../../lib/api/refunds.ts";

export const REFUND_MOVES: Readonly<Record<RefundStatus, readonly RefundStatus[]>> = {
  requested: ["approved", "declined", "cancelled", "refunded"],
  approved: ["refunded", "cancelled"],
  refunded: [],
  declined: [],
  cancelled: [],
};

/** Requests in these statuses are open: the order has one and no other may be made. */
export const OPEN_REFUND_STATUSES: readonly RefundStatus[] = ["requested", "approved"];

/** Whether a request may move from `from` to `to`. */
export function canMoveRefund(from: RefundStatus, to: RefundStatus): boolean {
  return REFUND_MOVES[from].includes(to);
}

/** The statuses from which a request may move to `to`. */
export function refundMovingTo(to: RefundStatus): RefundStatus[] {
  return (Object.keys(REFUND_MOVES) as RefundStatus[]).filter((from) => canMoveRefund(from, to));
}
