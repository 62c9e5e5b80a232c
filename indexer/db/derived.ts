import { chainEvents } from "./chain-events.ts";
import { listings, listingStates } from "./escrow.ts";
import { gameItems, itemBalances, itemTransfers } from "./game-items.ts";
import {
  licenseRenewals,
  licenses,
  licenseTransfers,
  offerReferrers,
  offers,
  payments,
  revenuePayments,
  withdrawals,
} from "./licenses.ts";
import { quarantine } from "./quarantine.ts";
import type { CurrentTable, HistoryTable } from "./rows.ts";
import { settlementPayments, settlementsPaid } from "./settlements.ts";
import { splitPayouts, splitReceipts, splits } from "./splits.ts";
import { batches, works } from "./works.ts";

/** Tables whose rows change in place; a reorg restores them from the undo log. */
export const CURRENT_TABLES: CurrentTable<object>[] = [
  works,
  offers,
  offerReferrers,
  licenses,
  gameItems,
  itemBalances,
  listings,
] as CurrentTable<object>[];

/** Append-only tables, raw and quarantined events included; a reorg deletes their rows above the fork. */
export const HISTORY_TABLES: HistoryTable<unknown>[] = [
  chainEvents,
  batches,
  licenseRenewals,
  licenseTransfers,
  payments,
  revenuePayments,
  withdrawals,
  splits,
  splitReceipts,
  splitPayouts,
  itemTransfers,
  listingStates,
  settlementsPaid,
  settlementPayments,
  quarantine,
] as HistoryTable<unknown>[];
