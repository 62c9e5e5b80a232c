import type { Stored } from "../abi.ts";
import { settlementPayments, settlementsPaid } from "../db/settlements.ts";
import type { SettlementPaidEvent } from "../../types/typechain/contracts/interfaces/IPayoutSettlement.ts";
import { on, origin, type ContractHandlers } from "./handler.ts";

type SettlementPaid = Stored<SettlementPaidEvent.OutputObject>;

/** Settlements of card revenue and what each payee was paid by them. */
export const payoutSettlementHandlers: ContractHandlers = {
  SettlementPaid: on<SettlementPaid>({
    apply(event, store) {
      const a = event.args;
      // The contract pays amounts[i] to payees[i]; a log pairing them otherwise has no meaning to mirror.
      if (a.payees.length !== a.amounts.length) {
        throw new Error(`${a.payees.length} payees but ${a.amounts.length} amounts`);
      }
      store.append(settlementsPaid, {
        settlement_id: a.settlementId,
        treasury: a.treasury,
        total: a.total,
        payment_refs: a.paymentRefs,
        ...origin(event),
      });
      a.payees.forEach((payee, i) => {
        store.append(settlementPayments, {
          settlement_id: a.settlementId,
          payee,
          amount: a.amounts[i]!,
          treasury: a.treasury,
          ...origin(event),
        });
      });
    },
  }),
};
