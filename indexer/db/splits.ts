import type { Pool } from "pg";
import { historyTable, type Origin } from "./rows.ts";

export interface SplitRow extends Origin {
  split: string;
  created_by: string;
  recipients: string[];
  shares_bps: number[];
}

export interface SplitReceiptRow extends Origin {
  split: string;
  sender: string;
  amount: string;
}

export interface SplitPayoutRow extends Origin {
  split: string;
  currency: string;
  account: string;
  amount: string;
}

export const splits = historyTable<SplitRow>("splits");
export const splitReceipts = historyTable<SplitReceiptRow>("split_receipts");
export const splitPayouts = historyTable<SplitPayoutRow>("split_payouts");

/** Addresses of every indexed split, to follow their payments. */
export async function splitAddresses(db: Pool): Promise<string[]> {
  const { rows } = await db.query<{ split: string }>("SELECT split FROM splits");
  return rows.map((row) => row.split);
}
