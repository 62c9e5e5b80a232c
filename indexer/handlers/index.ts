import type { ContractKind } from "../abi.ts";
import { gameItemsHandlers } from "./game-items.ts";
import type { ContractHandlers } from "./handler.ts";
import { itemEscrowHandlers } from "./item-escrow.ts";
import { licenseTokenHandlers } from "./license-token.ts";
import { payoutSettlementHandlers } from "./payout-settlement.ts";
import { revenueSplitHandlers, splitFactoryHandlers } from "./revenue-split.ts";
import { workRegistryHandlers } from "./work-registry.ts";

/** Every contract kind's handlers. */
export const HANDLERS: Record<ContractKind, ContractHandlers> = {
  WorkRegistry: workRegistryHandlers,
  SplitFactory: splitFactoryHandlers,
  RevenueSplit: revenueSplitHandlers,
  LicenseToken: licenseTokenHandlers,
  GameItems: gameItemsHandlers,
  ItemEscrow: itemEscrowHandlers,
  PayoutSettlement: payoutSettlementHandlers,
};
