import type { ValueNotes } from "../untrusted.ts";
import { currentTable, historyTable, type Origin } from "./rows.ts";

export interface GameItemRow extends Origin {
  item_id: string;
  uri: string;
  max_supply: string;
  minted: string;
  burned: string;
  /** How the uri was changed to be stored; null when it was not. */
  value_notes: ValueNotes | null;
  updated_block: number;
}

export interface ItemBalanceRow {
  item_id: string;
  owner: string;
  balance: string;
  /** Block in which this (non-zero) balance began. */
  block_number: number;
  updated_block: number;
}

export interface ItemTransferRow extends Origin {
  item_id: string;
  operator: string;
  from_address: string;
  to_address: string;
  amount: string;
  batch_index: number;
}

export const gameItems = currentTable<GameItemRow>("game_items", ["item_id"]);
export const itemBalances = currentTable<ItemBalanceRow>("item_balances", ["item_id", "owner"]);
export const itemTransfers = historyTable<ItemTransferRow>("item_transfers");
