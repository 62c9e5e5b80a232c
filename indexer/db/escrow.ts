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
  /** Who resolved the dispute; null before, and when nobody did by its deadline. */
  arbiter: string | null;
  /** Commission fixed at listing, in basis points. */
  commission_bps: number;
  /** End of the arbiter's time once disputed (Unix seconds). */
  resolve_by: string | null;
  /** The arbiter the admin handed the dispute to, if any. */
  assigned_arbiter: string | null;
  items_claimed: boolean;
  funds_claimed: boolean;
  updated_block: number;
}

export interface ListingStateRow extends Origin {
  listing_id: string;
  event: string;
  state: ListingState;
}

export const listings = currentTable<ListingRow>("listings", ["listing_id"]);
export const listingStates = historyTable<ListingStateRow>("listing_states");
