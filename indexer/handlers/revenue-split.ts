import type { Stored } from "../abi.ts";
import { splitPayouts, splitReceipts, splits } from "../db/splits.ts";
import type {
  PaymentReceivedEvent,
  PaymentReleasedEvent,
} from "../../types/typechain/contracts/interfaces/IRevenueSplit.ts";
import type { SplitCreatedEvent } from "../../types/typechain/contracts/interfaces/ISplitFactory.ts";
import { on, origin, type ContractHandlers } from "./handler.ts";

type SplitCreated = Stored<SplitCreatedEvent.OutputObject>;
type PaymentReceived = Stored<PaymentReceivedEvent.OutputObject>;
type PaymentReleased = Stored<PaymentReleasedEvent.OutputObject>;

/** Splits deployed by the factory; their addresses are then followed as RevenueSplit contracts. */
export const splitFactoryHandlers: ContractHandlers = {
  SplitCreated: on<SplitCreated>({
    apply(event, store) {
      const a = event.args;
      store.append(splits, {
        split: a.split,
        created_by: a.createdBy,
        recipients: a.recipients,
        shares_bps: a.sharesBps.map(Number),
        ...origin(event),
      });
    },
  }),
};

/** What each split received (native currency) and paid out. */
export const revenueSplitHandlers: ContractHandlers = {
  PaymentReceived: on<PaymentReceived>({
    apply(event, store) {
      store.append(splitReceipts, {
        split: event.address,
        sender: event.args.from,
        amount: event.args.amount,
        ...origin(event),
      });
    },
  }),

  PaymentReleased: on<PaymentReleased>({
    apply(event, store) {
      const a = event.args;
      store.append(splitPayouts, {
        split: event.address,
        currency: a.token,
        account: a.account,
        amount: a.amount,
        ...origin(event),
      });
    },
  }),
};
