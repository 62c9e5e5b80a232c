import type { Pool } from "pg";
import { Batcher } from "../../lib/batcher.ts";
import type { Outbox } from "../queues/outbox.ts";
import { fulfilmentsOf, mintsAndHeads, type FulfilmentState, type MintAndHeads } from "./indexed-mints.ts";
import { transitionMany, type Moved, type OrderTransition, type Transition } from "./store.ts";

/** Most orders read or written by one grouped statement. */
const MAX_GROUP = 200;

/**
 * Reads and transitions of orders made by many concurrent callers (a worker's fulfilment jobs, an
 * API process's webhooks), grouped: one statement — and for writes one commit — per group. The
 * jobs transitions promise are queued right after their commit.
 */
export class OrderBatches {
  readonly #transitions: Batcher<OrderTransition, Moved | null>;
  readonly #fulfilments: Batcher<string, FulfilmentState | null>;
  readonly #mints: Batcher<string, MintAndHeads>;

  constructor(db: Pool, chainId: number, outbox: Outbox) {
    this.#transitions = new Batcher(
      MAX_GROUP,
      async (changes) => {
        const moved = await transitionMany(db, changes);
        await outbox.deliver(moved.flatMap((m) => m?.jobs ?? []));
        return moved;
      },
      (change) => change.id,
    );
    this.#fulfilments = new Batcher(MAX_GROUP, (ids) => fulfilmentsOf(db, ids));
    this.#mints = new Batcher(MAX_GROUP, (refs) => mintsAndHeads(db, chainId, refs));
  }

  /** See transition. */
  transition(id: string, change: Transition): Promise<Moved | null> {
    return this.#transitions.call({ ...change, id });
  }

  /** The order, its indexed mint and the mint transaction already sent for it; null for an unknown id. */
  fulfilment(orderId: string): Promise<FulfilmentState | null> {
    return this.#fulfilments.call(orderId);
  }

  /** The mint of a payment reference as indexed, and the chain's heads. */
  mintAndHeads(paymentRef: string): Promise<MintAndHeads> {
    return this.#mints.call(paymentRef);
  }
}
