import type { ChainEvent } from "../decode.ts";
import type { Origin } from "../db/rows.ts";
import type { Needed, RangeStore } from "../store.ts";

/** Turns one kind of event into rows. */
export interface EventHandler<A> {
  /** Current-state rows the event reads or changes, loaded before the range is applied. */
  needs?(args: A): Needed[];
  apply(event: ChainEvent<A>, store: RangeStore): void;
}

/** The handlers of one contract kind, by event name; events without one are kept in chain_events only. */
export type ContractHandlers = Record<string, EventHandler<never>>;

/** Declares a handler for events whose stored arguments have type `A`. */
export function on<A>(handler: EventHandler<A>): EventHandler<never> {
  return handler as EventHandler<never>;
}

/** The columns every derived row takes from its event. */
export function origin(event: ChainEvent<unknown>): Origin {
  return { block_number: event.blockNumber, log_index: event.logIndex, tx_hash: event.txHash };
}

export const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";
export const ZERO_HASH = "0x0000000000000000000000000000000000000000000000000000000000000000";
