import { MAX_KEYS_PER_KIND, noChangedKeys, type ChangedKeys } from "../lib/chain-changes.ts";
import type { ContractKind, JsonArgs, JsonValue } from "./abi.ts";
import { ZERO_ADDRESS, ZERO_HASH } from "./handlers/handler.ts";

type KeyKind = keyof ChangedKeys;

/** Which argument of which contract's events names which kind of key. */
const KEY_ARGS: Record<ContractKind, Record<string, KeyKind>> = {
  WorkRegistry: {
    workId: "workIds",
    parentId: "workIds",
    earlierWorkId: "workIds",
    creator: "accounts",
    coAuthors: "accounts",
  },
  SplitFactory: { split: "splits", recipients: "accounts" },
  RevenueSplit: { account: "accounts" },
  LicenseToken: {
    tokenId: "tokenIds",
    offerId: "offerIds",
    workId: "workIds",
    paymentRef: "paymentRefs",
    split: "splits",
    holder: "accounts",
    payer: "accounts",
    creator: "accounts",
    from: "accounts",
    to: "accounts",
    account: "accounts",
    referrer: "accounts",
  },
  GameItems: { id: "itemIds", ids: "itemIds", from: "accounts", to: "accounts" },
  ItemEscrow: { listingId: "listingIds", seller: "accounts", buyer: "accounts", account: "accounts" },
  PayoutSettlement: { settlementId: "settlementIds", payees: "accounts" },
};

const EMPTY_VALUES = new Set(["0", ZERO_ADDRESS, ZERO_HASH]);

/** Collects the keys that a set of events touched, for the change notification. */
export class KeyCollector {
  private readonly sets = new Map<KeyKind, Set<string>>();

  private add(kind: KeyKind, value: JsonValue): void {
    if (Array.isArray(value)) {
      value.forEach((item) => this.add(kind, item));
      return;
    }
    if (typeof value !== "string" || EMPTY_VALUES.has(value)) return;
    let set = this.sets.get(kind);
    if (!set) this.sets.set(kind, (set = new Set()));
    set.add(value);
  }

  /** Adds the keys named by one event's arguments (and the split it came from). */
  addEvent(contract: ContractKind, address: string, args: JsonArgs): void {
    if (contract === "RevenueSplit") this.add("splits", address);
    const names = KEY_ARGS[contract];
    for (const [arg, value] of Object.entries(args)) {
      const kind = names[arg];
      if (kind) this.add(kind, value);
    }
  }

  /** The keys, or none and `truncated` when any kind has more than MAX_KEYS_PER_KIND. */
  result(): { keys: ChangedKeys; truncated: boolean } {
    const list = (kind: KeyKind) => [...(this.sets.get(kind) ?? [])].sort();
    const truncated = [...this.sets.values()].some((set) => set.size > MAX_KEYS_PER_KIND);
    const keys = noChangedKeys();
    if (!truncated) for (const kind of Object.keys(keys) as KeyKind[]) keys[kind] = list(kind);
    return { keys, truncated };
  }
}
