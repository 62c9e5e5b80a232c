import { currentTable, historyTable, type Origin } from "./rows.ts";

export type ListingState =
  "listed" | "paid" | "disputed" | "completed" | "cancelled" | "expired" | "refunded";

export interface ListingRow extends Origin {
  listing_id: string;
  seller: string;
  token: string;
  item_id: string;
  amount: string;
  price: string;
  currency: string;
  deadline: string;
  state: ListingState;
  buyer: string | null;
  confirm_by: string | null;
  seller_proceeds: string | null;
  commission: string | null;
  settled: boolean | null;
  arbiter: string | null;
  updated_block: number;
}

export interface ListingStateRow extends Origin {
  listing_id: string;
  event: string;
  state: ListingState;
}

export const listings = currentTable<ListingRow>("listings", ["listing_id"]);
export const listingStates = historyTable<ListingStateRow>("listing_states");
