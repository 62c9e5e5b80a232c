import type { Stored } from "../abi.ts";
import type { ChainEvent } from "../decode.ts";
import { listings, listingStates, type ListingRow, type ListingState } from "../db/escrow.ts";
import { withdrawals } from "../db/licenses.ts";
import { need, type RangeStore } from "../store.ts";
import type {
  ArbiterAssignedEvent,
  BoughtEvent,
  CancelledEvent,
  CompletedEvent,
  DisputedEvent,
  DisputeRejectedEvent,
  ExpiredEvent,
  FundsClaimedEvent,
  ItemsClaimedEvent,
  ListedEvent,
  RefundedEvent,
  WithdrawnEvent,
} from "../../types/typechain/contracts/interfaces/IItemEscrow.ts";
import { on, origin, ZERO_ADDRESS, type ContractHandlers, type EventHandler } from "./handler.ts";

type Listed = Stored<ListedEvent.OutputObject>;
type Withdrawn = Stored<WithdrawnEvent.OutputObject>;

function record(store: RangeStore, event: ChainEvent<{ listingId: string }>, state: ListingState): void {
  store.append(listingStates, {
    listing_id: event.args.listingId,
    event: event.name,
    state,
    ...origin(event),
  });
}

/** A handler that moves a listing to `state` (or keeps its state) and sets the fields the event carries. */
function transition<A extends { listingId: string }>(
  state: ListingState | null,
  fields: (args: A) => Partial<ListingRow> = () => ({}),
): EventHandler<never> {
  return on<A>({
    needs: (a) => [need(listings, { listing_id: a.listingId })],
    apply(event, store) {
      const listing = store.get(listings, { listing_id: event.args.listingId });
      const next = state ?? listing?.state;
      if (!listing || !next) return;
      store.update(
        listings,
        { ...listing, ...fields(event.args), state: next, updated_block: event.blockNumber },
        event.blockNumber,
      );
      record(store, event, next);
    },
  });
}

/** Escrow listings, their state history and claims, and withdrawals of commissions. */
export const itemEscrowHandlers: ContractHandlers = {
  Listed: on<Listed>({
    apply(event, store) {
      const a = event.args;
      store.insert(
        listings,
        {
          listing_id: a.listingId,
          seller: a.seller,
          token: a.token,
          item_id: a.id,
          amount: a.amount,
          price: a.price,
          currency: a.currency,
          deadline: a.deadline,
          state: "listed",
          buyer: null,
          confirm_by: null,
          seller_proceeds: null,
          commission: null,
          settled: null,
          arbiter: null,
          commission_bps: Number(a.commissionBps),
          resolve_by: null,
          assigned_arbiter: null,
          items_claimed: false,
          funds_claimed: false,
          ...origin(event),
          updated_block: event.blockNumber,
        },
        event.blockNumber,
      );
      record(store, event, "listed");
    },
  }),
  // The seller gets the items of a listing nobody bought back at once.
  Cancelled: transition<Stored<CancelledEvent.OutputObject>>("cancelled", () => ({ items_claimed: true })),
  Expired: transition<Stored<ExpiredEvent.OutputObject>>("expired", () => ({ items_claimed: true })),
  Bought: transition<Stored<BoughtEvent.OutputObject>>("paid", (a) => ({
    buyer: a.buyer,
    confirm_by: a.confirmBy,
  })),
  Disputed: transition<Stored<DisputedEvent.OutputObject>>("disputed", (a) => ({ resolve_by: a.resolveBy })),
  ArbiterAssigned: transition<Stored<ArbiterAssignedEvent.OutputObject>>(null, (a) => ({
    assigned_arbiter: a.arbiter,
  })),
  DisputeRejected: transition<Stored<DisputeRejectedEvent.OutputObject>>(null, (a) => ({
    arbiter: a.arbiter,
  })),
  Completed: transition<Stored<CompletedEvent.OutputObject>>("completed", (a) => ({
    seller_proceeds: a.sellerProceeds,
    commission: a.commission,
    settled: a.settled,
  })),
  Refunded: transition<Stored<RefundedEvent.OutputObject>>("refunded", (a) => ({
    arbiter: a.arbiter === ZERO_ADDRESS ? null : a.arbiter,
  })),
  ItemsClaimed: transition<Stored<ItemsClaimedEvent.OutputObject>>(null, () => ({ items_claimed: true })),
  FundsClaimed: transition<Stored<FundsClaimedEvent.OutputObject>>(null, () => ({ funds_claimed: true })),

  Withdrawn: on<Withdrawn>({
    apply(event, store) {
      const a = event.args;
      store.append(withdrawals, {
        contract: event.address,
        account: a.account,
        currency: a.currency,
        amount: a.amount,
        ...origin(event),
      });
    },
  }),
};
