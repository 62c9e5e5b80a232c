/**
 * An order's life in one table: from each status, the statuses it may move to. Every change of an
 * order's status is checked against it — the store's `transition`, and the two grouped statements
 * that pay and expire orders — and a move it does not list is refused; a move to the same status
 * only sets fields (a revocation recorded on a refunded order).
 *
 *   created ──paid──▶ paid ──mint sent──▶ minting ──captured──▶ fulfilled
 *      │  ╲                 │  ╲              ▲ │  ╲                  │
 *      │   expired ─(late payment, stock left)─▶ paid                │
 *      │                    │   held ─claimed─┘ │    ╲               │
 *      ▼                    ▼    (no wallet yet) ▼     ▼              ▼
 *    failed ◀───────────────┴─────────────────┘  refunded / disputed ◀┘
 *
 * A paid order without a wallet is `held`: its card is captured and its license kept for the
 * buyer's email until a wallet claims it (then minted like any other), or refunded.
 */
import type { OrderStatus } from "../../lib/api/orders.ts";

/** The statuses are the API's (lib/api/orders.ts); this table says which moves between them are legal. */
export type { OrderStatus, PaymentStatus } from "../../lib/api/orders.ts";

export const ORDER_MOVES: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  created: ["paid", "failed", "expired"],
  expired: ["paid", "failed"],
  paid: ["minting", "held", "failed"],
  held: ["minting", "refunded", "disputed"],
  minting: ["fulfilled", "failed", "refunded", "disputed"],
  fulfilled: ["refunded", "disputed"],
  failed: [],
  refunded: [],
  disputed: [],
};

/** Whether an order may move from `from` to `to`. */
export function canMove(from: OrderStatus, to: OrderStatus): boolean {
  return from === to || ORDER_MOVES[from].includes(to);
}

/** The statuses from which an order may move to `to`. */
export function movingTo(to: OrderStatus): OrderStatus[] {
  return (Object.keys(ORDER_MOVES) as OrderStatus[]).filter((from) => from !== to && canMove(from, to));
}

/** Throws when a transition names a move the table does not list: a fault of the code, not of the order. */
export function assertMoves(from: readonly OrderStatus[], to: OrderStatus): void {
  const illegal = from.filter((f) => !canMove(f, to));
  if (illegal.length > 0) throw new Error(`an order cannot move from ${illegal.join(", ")} to ${to}`);
}
