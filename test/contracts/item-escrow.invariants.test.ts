import { expect } from "chai";
import fc from "fast-check";
import { network } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { BaseContract, TransactionResponse } from "ethers";
import {
  HostileItems__factory,
  ReentrantTrader__factory,
  type ReentrantTrader,
} from "../../types/typechain/index.js";
import {
  CONFIRMATION_WINDOW,
  COMMISSION_BPS,
  DAY,
  DISPUTE_WINDOW,
  ITEM_IDS,
  NATIVE,
  STARTING_ITEMS,
  STARTING_STABLECOINS,
  State,
  deployTrading,
  splitPrice,
  type TradingSetup,
} from "../helpers/trading.js";

const { ethers, networkHelpers } = await network.create();
const { time } = networkHelpers;

/** Players with their own wallets; after them comes one trading contract that can turn hostile mid-trade. */
const PLAYERS = 4;
const TRADER = PLAYERS;
const PARTIES = PLAYERS + 1;
/** Accounts that can be owed: the parties, then the treasury. */
const TREASURY = PARTIES;
const NUM_RUNS = 150;
const MAX_ACTIONS = 30;
/** Mined even when they revert, so every action happens at the timestamp the model chose for it. */
const GAS_LIMIT = 1_000_000n;
/** Mirrors `ReentrantTrader.Hook`: friendly, or refusing items or native currency. */
const HOOKS = { none: 0, native: 3, items: 4 } as const;
type Hook = keyof typeof HOOKS;

type Currency = "native" | "erc20";
type Who = "seller" | "buyer" | "other";
type ArbiterName = "arbiter" | "outsider";
/**
 * Which listing an action targets: with `fit`, the n-th most recent listing in a state the action needs (when
 * there is one), otherwise the n-th most recent listing of all; an explicit id; or null, an id that does not exist.
 */
type Pick = { fit: boolean; n: number } | { id: number } | null;

type Action =
  | {
      kind: "list";
      player: number;
      item: number;
      amount: number;
      units: number;
      dust: number;
      currency: Currency;
      deadlineIn: number;
    }
  | {
      kind: "cancel" | "reclaim" | "confirm" | "dispute" | "settle" | "unwind" | "claimItems" | "claimFunds";
      pick: Pick;
      who: Who;
      other: number;
    }
  | { kind: "buy"; pick: Pick; player: number; exact: boolean }
  | { kind: "resolve"; pick: Pick; by: ArbiterName | "player"; other: number; refund: boolean }
  | { kind: "assign"; pick: Pick; to: ArbiterName }
  | { kind: "withdraw"; account: number; fit: boolean; currency: Currency }
  | { kind: "warp"; seconds: number }
  | { kind: "setCommission"; bps: number }
  /** The trading contract starts or stops refusing items or native currency. */
  | { kind: "toggle"; hook: Hook }
  /** Tries to list items of an ERC-1155 that claims the standard but is not on the allowlist. */
  | { kind: "listHostile"; player: number }
  /** Sends items straight to the escrow instead of listing them. */
  | { kind: "gift"; player: number; item: number; amount: number; batch: boolean }
  /** Takes the n-th most recent listing one step further along its life, whatever state it is in. */
  | { kind: "advance"; n: number; variant: number; player: number };

const mostly = (weight: number) =>
  fc.oneof({ weight, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) });
const pick: fc.Arbitrary<Pick> = fc.oneof(
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 12, arbitrary: fc.record({ fit: mostly(6), n: fc.nat({ max: 15 }) }) },
);
const party = fc.nat({ max: PARTIES - 1 });
const currency = fc.constantFrom<Currency>("native", "erc20");

const listArb = fc.record({
  kind: fc.constant("list" as const),
  player: party,
  item: fc.nat({ max: ITEM_IDS.length - 1 }),
  amount: fc.integer({ min: 0, max: 60 }),
  units: fc.integer({ min: 0, max: 5_000 }),
  dust: fc.nat({ max: 999 }),
  currency,
  deadlineIn: fc.integer({ min: -60, max: 10 * DAY }),
});

/** An action by a party to a listing, biased towards the party entitled to it. */
function byParty(
  kind: "cancel" | "reclaim" | "confirm" | "dispute" | "settle" | "unwind" | "claimItems" | "claimFunds",
  who: Who[],
) {
  return fc.record({ kind: fc.constant(kind), pick, who: fc.constantFrom(...who), other: party });
}

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 2, arbitrary: listArb },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant("buy" as const), pick, player: party, exact: mostly(5) }),
  },
  { weight: 1, arbitrary: byParty("cancel", ["seller", "seller", "other"]) },
  { weight: 1, arbitrary: byParty("reclaim", ["seller", "buyer", "other"]) },
  { weight: 3, arbitrary: byParty("confirm", ["buyer", "buyer", "seller", "other"]) },
  { weight: 3, arbitrary: byParty("dispute", ["buyer", "buyer", "seller", "other"]) },
  { weight: 2, arbitrary: byParty("settle", ["seller", "buyer", "other"]) },
  { weight: 2, arbitrary: byParty("unwind", ["seller", "buyer", "other"]) },
  { weight: 3, arbitrary: byParty("claimItems", ["buyer", "seller", "other"]) },
  { weight: 3, arbitrary: byParty("claimFunds", ["seller", "buyer", "other"]) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("resolve" as const),
      pick,
      by: fc.constantFrom<ArbiterName | "player">("arbiter", "arbiter", "arbiter", "outsider", "player"),
      other: party,
      refund: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("assign" as const),
      pick,
      to: fc.constantFrom<ArbiterName>("arbiter", "outsider"),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("withdraw" as const),
      account: fc.nat({ max: TREASURY }),
      fit: mostly(2),
      currency,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("warp" as const),
      seconds: fc.integer({ min: 1, max: 4 * DAY }),
    }),
  },
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant("advance" as const),
      n: fc.nat({ max: 15 }),
      variant: fc.nat({ max: 3 }),
      player: party,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("toggle" as const),
      hook: fc.constantFrom<Hook>("none", "items", "native"),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("listHostile" as const), player: party }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("gift" as const),
      player: fc.nat({ max: PLAYERS - 1 }),
      item: fc.nat({ max: ITEM_IDS.length - 1 }),
      amount: fc.integer({ min: 1, max: 5 }),
      batch: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("setCommission" as const),
      bps: fc.integer({ min: 0, max: 1_600 }),
    }),
  },
);

/** A few listings first, so that most of a sequence acts on listings that exist. */
const sequenceArb = fc
  .tuple(
    fc.array(listArb, { minLength: 1, maxLength: 4 }),
    fc.array(actionArb, { minLength: 1, maxLength: MAX_ACTIONS, size: "max" }),
  )
  .map(([listings, actions]): Action[] => [...listings, ...actions]);

interface ModelListing {
  seller: number;
  item: number;
  amount: bigint;
  price: bigint;
  currency: Currency;
  deadline: bigint;
  state: bigint;
  buyer: number;
  confirmBy: bigint;
  resolveBy: bigint;
  commissionBps: bigint;
  arbiter: ArbiterName;
  itemsClaimed: boolean;
  fundsClaimed: boolean;
}

interface Model {
  now: bigint;
  commissionBps: bigint;
  hook: Hook;
  listings: ModelListing[];
  /** Only the treasury is ever owed: everything else is claimed per listing. */
  treasuryOwed: Record<Currency, bigint>;
  items: bigint[][];
  stablecoins: bigint[];
}

interface Expected {
  contract: BaseContract;
  error: string;
  args?: unknown[];
}

interface Call {
  send: () => Promise<TransactionResponse>;
  expected?: Expected;
}

interface ChainView {
  listings: {
    seller: string;
    state: bigint;
    commissionBps: bigint;
    buyer: string;
    confirmBy: bigint;
    resolveBy: bigint;
    arbiter: string;
    token: string;
    currency: string;
    id: bigint;
    amount: bigint;
    price: bigint;
    deadline: bigint;
    itemsClaimed: boolean;
    fundsClaimed: boolean;
  }[];
  owed: Record<Currency, bigint[]>;
  escrowItems: bigint[];
  partyItems: bigint[];
  escrowNative: bigint;
  escrowStablecoins: bigint;
  stablecoins: bigint[];
  commissionBps: bigint;
}

const OPEN = new Set<bigint>([State.Listed, State.Paid, State.Disputed]);
const HOLDING_PAYMENT = new Set<bigint>([State.Paid, State.Disputed]);
const ENDED_WITH_BUYER = new Set<bigint>([State.Completed, State.Refunded]);

/** Who may claim each side of an ended trade: items go to the buyer of a sale, money to its seller, and back. */
function claimantOf(m: ModelListing, side: "items" | "funds"): number {
  const toBuyer = (m.state === State.Completed) === (side === "items");
  return toBuyer ? m.buyer : m.seller;
}

/** What `claimFunds` pays: the seller's proceeds of a sale, or the buyer's whole price back. */
function fundsOf(m: ModelListing): bigint {
  return m.state === State.Completed ? splitPrice(m.price, m.commissionBps).proceeds : m.price;
}

describe("ItemEscrow invariants (randomized)", function () {
  this.timeout(600_000);

  let t: TradingSetup;
  let players: HardhatEthersSigner[];
  let trader: ReentrantTrader;
  let accounts: string[];
  let escrowAddress: string;
  let itemsAddress: string;
  let hostileAddress: string;
  let currencyAddress: Record<Currency, string>;
  let restoreStart: () => Promise<void>;

  before(async () => {
    t = await deployTrading(ethers, PLAYERS);
    players = t.players;
    escrowAddress = await t.escrow.getAddress();
    itemsAddress = await t.items.getAddress();
    trader = await new ReentrantTrader__factory(t.admin).deploy();
    const traderAddress = await trader.getAddress();
    await t.items.connect(t.studio).mintBatch(
      traderAddress,
      [...ITEM_IDS],
      ITEM_IDS.map(() => STARTING_ITEMS),
      "0x",
    );
    await trader.execute(
      itemsAddress,
      t.items.interface.encodeFunctionData("setApprovalForAll", [escrowAddress, true]),
    );
    await t.stablecoin.mint(traderAddress, STARTING_STABLECOINS);
    const stablecoinAddress = await t.stablecoin.getAddress();
    await trader.execute(
      stablecoinAddress,
      t.stablecoin.interface.encodeFunctionData("approve", [escrowAddress, ethers.MaxUint256]),
    );
    hostileAddress = await (await new HostileItems__factory(t.admin).deploy()).getAddress();
    accounts = [...players.map((p) => p.address), traderAddress, t.treasury.address];
    currencyAddress = { native: NATIVE, erc20: stablecoinAddress };
    const snapshot = await networkHelpers.takeSnapshot();
    restoreStart = () => snapshot.restore();
  });

  /** Sends `data` to `to` as party `index`: a player's own wallet, or the trading contract through `execute`. */
  function sendAs(index: number, to: string, data: string, value = 0n): Promise<TransactionResponse> {
    if (index === TRADER) return trader.connect(t.admin).execute(to, data, { value, gasLimit: GAS_LIMIT });
    const signer = index === TREASURY ? t.treasury : players[index]!;
    return signer.sendTransaction({ to, data, value, gasLimit: GAS_LIMIT });
  }

  function escrowData(method: string, args: unknown[]): string {
    return t.escrow.interface.encodeFunctionData(method as never, args as never);
  }

  async function readChain(): Promise<ChainView> {
    const count = Number(await t.escrow.listingCount());
    const listingIds = Array.from({ length: count }, (_, i) => BigInt(i + 1));
    const owedOf = (c: Currency) => Promise.all(accounts.map((a) => t.escrow.owed(a, currencyAddress[c])));
    const parties = accounts.slice(0, PARTIES);
    const [
      listings,
      owedNative,
      owedErc20,
      escrowItems,
      partyItems,
      escrowNative,
      escrowStablecoins,
      stablecoins,
    ] = await Promise.all([
      Promise.all(listingIds.map((id) => t.escrow.getListing(id))),
      owedOf("native"),
      owedOf("erc20"),
      t.items.balanceOfBatch(
        ITEM_IDS.map(() => escrowAddress),
        [...ITEM_IDS],
      ),
      t.items.balanceOfBatch(
        parties.flatMap((a) => ITEM_IDS.map(() => a)),
        parties.flatMap(() => [...ITEM_IDS]),
      ),
      ethers.provider.getBalance(escrowAddress),
      t.stablecoin.balanceOf(escrowAddress),
      Promise.all(accounts.map((a) => t.stablecoin.balanceOf(a))),
    ]);
    return {
      listings: listings.map((l) => ({
        seller: l.seller,
        state: l.state,
        commissionBps: l.commissionBps,
        buyer: l.buyer,
        confirmBy: l.confirmBy,
        resolveBy: l.resolveBy,
        arbiter: l.arbiter,
        token: l.token,
        currency: l.currency,
        id: l.id,
        amount: l.amount,
        price: l.price,
        deadline: l.deadline,
        itemsClaimed: l.itemsClaimed,
        fundsClaimed: l.fundsClaimed,
      })),
      owed: { native: owedNative, erc20: owedErc20 },
      escrowItems: [...escrowItems],
      partyItems: [...partyItems],
      escrowNative,
      escrowStablecoins,
      stablecoins,
      commissionBps: await t.escrow.commissionBps(),
    };
  }

  /**
   * The escrow holds exactly the open listings' items and the unclaimed items of ended trades, and exactly the
   * paid listings' prices, the unclaimed money of ended trades and the treasury's commissions.
   */
  function checkInvariants(view: ChainView) {
    const unclaimed = (l: ChainView["listings"][number], side: "items" | "funds") =>
      ENDED_WITH_BUYER.has(l.state) && !(side === "items" ? l.itemsClaimed : l.fundsClaimed);
    ITEM_IDS.forEach((itemId, i) => {
      const held = view.listings
        .filter((l) => l.id === itemId && (OPEN.has(l.state) || unclaimed(l, "items")))
        .reduce((sum, l) => sum + l.amount, 0n);
      expect(view.escrowItems[i], `escrowed units of item ${itemId}`).to.equal(held);
    });
    for (const c of ["native", "erc20"] as const) {
      const held = view.listings
        .filter((l) => l.currency === currencyAddress[c])
        .reduce((sum, l) => {
          if (HOLDING_PAYMENT.has(l.state)) return sum + l.price;
          if (!unclaimed(l, "funds")) return sum;
          return (
            sum + (l.state === State.Completed ? splitPrice(l.price, l.commissionBps).proceeds : l.price)
          );
        }, 0n);
      const owed = view.owed[c].reduce((sum, v) => sum + v, 0n);
      const balance = c === "native" ? view.escrowNative : view.escrowStablecoins;
      expect(balance, `escrow ${c} balance`).to.equal(held + owed);
      expect(view.owed[c].slice(0, PARTIES), `${c} owed to parties`).to.deep.equal(Array(PARTIES).fill(0n));
    }
  }

  function checkAgainstModel(view: ChainView, model: Model) {
    expect(view.listings.length).to.equal(model.listings.length);
    model.listings.forEach((m, i) => {
      const l = view.listings[i]!;
      expect(l.state, `state of listing ${i + 1}`).to.equal(m.state);
      expect(l.seller).to.equal(accounts[m.seller]);
      expect(l.buyer).to.equal(m.buyer < 0 ? ethers.ZeroAddress : accounts[m.buyer]);
      expect(l.confirmBy).to.equal(m.confirmBy);
      expect(l.resolveBy).to.equal(m.resolveBy);
      expect(l.commissionBps).to.equal(m.commissionBps);
      expect(l.arbiter).to.equal(m.arbiter === "arbiter" ? t.arbiter.address : t.outsider.address);
      expect(l.token).to.equal(itemsAddress);
      expect(l.currency).to.equal(currencyAddress[m.currency]);
      expect(l.id).to.equal(ITEM_IDS[m.item]);
      expect(l.amount).to.equal(m.amount);
      expect(l.price).to.equal(m.price);
      expect(l.deadline).to.equal(m.deadline);
      expect(l.itemsClaimed).to.equal(m.itemsClaimed);
      expect(l.fundsClaimed).to.equal(m.fundsClaimed);
    });
    expect(view.owed.native[TREASURY]).to.equal(model.treasuryOwed.native);
    expect(view.owed.erc20[TREASURY]).to.equal(model.treasuryOwed.erc20);
    expect(view.partyItems).to.deep.equal(model.items.flat());
    expect(view.stablecoins).to.deep.equal(model.stablecoins);
    expect(view.commissionBps).to.equal(model.commissionBps);
  }

  function freshModel(now: bigint): Model {
    return {
      now,
      commissionBps: COMMISSION_BPS,
      hook: "none",
      listings: [],
      treasuryOwed: { native: 0n, erc20: 0n },
      items: accounts.slice(0, PARTIES).map(() => ITEM_IDS.map(() => STARTING_ITEMS)),
      stablecoins: accounts.map((_, i) => (i < PARTIES ? STARTING_STABLECOINS : 0n)),
    };
  }

  function listingIdFor(model: Model, pick: Pick, wanted: bigint[]) {
    const count = model.listings.length;
    if (!pick || count === 0) return count % 2 === 0 ? 0n : BigInt(count + 1);
    if ("id" in pick) return BigInt(pick.id);
    if (pick.fit) {
      const fitting = model.listings.flatMap((l, i) => (wanted.includes(l.state) ? [BigInt(i + 1)] : []));
      if (fitting.length > 0) return fitting[fitting.length - 1 - (pick.n % fitting.length)]!;
    }
    return BigInt(count - (pick.n % count));
  }

  /** Whether party `to` refuses what is being sent to it now. */
  function refuses(model: Model, to: number, what: "items" | Currency) {
    if (to !== TRADER) return false;
    return what === "items" ? model.hook === "items" : what === "native" && model.hook === "native";
  }

  const itemsRefused = (): Expected => ({ contract: trader, error: "ItemsRefused" });

  /**
   * The natural next move for a listing at time `ts`: buy, cancel or reclaim it while listed; confirm, dispute,
   * wait out or settle a sale; resolve, hand over or unwind a dispute; claim a side of an ended trade.
   */
  function advance(model: Model, action: Extract<Action, { kind: "advance" }>, ts: bigint): Action {
    const count = model.listings.length;
    if (count === 0) return { kind: "warp", seconds: 1 };
    const index = count - 1 - (action.n % count);
    const m = model.listings[index]!;
    const pick = { id: index + 1 };
    const party = { pick, other: action.player };
    switch (m.state) {
      case State.Listed: {
        if (action.variant === 3) return { kind: "cancel", who: "seller", ...party };
        if (ts > m.deadline) return { kind: "reclaim", who: "other", ...party };
        const buyer = (m.seller + 1 + (action.player % (PARTIES - 1))) % PARTIES;
        return { kind: "buy", pick, player: buyer, exact: true };
      }
      case State.Paid:
        if (ts > m.confirmBy) return { kind: "settle", who: "other", ...party };
        if (action.variant === 0) return { kind: "confirm", who: "buyer", ...party };
        if (action.variant === 3) return { kind: "warp", seconds: CONFIRMATION_WINDOW };
        return { kind: "dispute", who: "buyer", ...party };
      case State.Disputed:
        if (ts > m.resolveBy) return { kind: "unwind", who: "other", ...party };
        if (action.variant === 3)
          return { kind: "assign", pick, to: m.arbiter === "arbiter" ? "outsider" : "arbiter" };
        return {
          kind: "resolve",
          pick,
          by: m.arbiter,
          other: action.player,
          refund: action.variant % 2 === 0,
        };
      case State.Completed:
      case State.Refunded: {
        const side =
          (action.variant % 2 === 0 && !m.itemsClaimed) || m.fundsClaimed ? "claimItems" : "claimFunds";
        return {
          kind: side,
          who: claimantOf(m, side === "claimItems" ? "items" : "funds") === m.buyer ? "buyer" : "seller",
          ...party,
        };
      }
      default:
        return { kind: "withdraw", account: TREASURY, fit: false, currency: m.currency };
    }
  }

  function callerFor(m: ModelListing | undefined, who: Who, other: number) {
    if (m && who === "seller") return m.seller;
    if (m && who === "buyer" && m.buyer >= 0) return m.buyer;
    return other;
  }

  function complete(model: Model, m: ModelListing) {
    m.state = State.Completed;
    model.treasuryOwed[m.currency] += splitPrice(m.price, m.commissionBps).commission;
  }

  /**
   * Applies `action` to the model and returns the call to make, or the revert the escrow must answer with
   * (in which case the model is left as it was).
   */
  function step(model: Model, action: Action, ts: bigint): Call | undefined {
    const escrow = t.escrow;
    const unknown = (id: bigint): Expected => ({ contract: escrow, error: "UnknownListing", args: [id] });
    const wrongState = (id: bigint, m: ModelListing): Expected => ({
      contract: escrow,
      error: "InvalidState",
      args: [id, m.state],
    });

    switch (action.kind) {
      case "advance":
        return step(model, advance(model, action, ts), ts);

      case "toggle":
        model.hook = action.hook;
        return {
          send: () =>
            trader
              .connect(t.admin)
              .arm(HOOKS[action.hook], ethers.ZeroAddress, "0x", { gasLimit: GAS_LIMIT }),
        };

      case "listHostile": {
        const deadline = ts + BigInt(DAY);
        const send = () =>
          sendAs(
            action.player,
            escrowAddress,
            escrowData("list", [hostileAddress, 1n, 1n, 1n, NATIVE, deadline]),
          );
        return { send, expected: { contract: escrow, error: "ItemTokenNotAllowed", args: [hostileAddress] } };
      }

      case "gift": {
        const sender = players[action.player]!;
        const items = t.items.connect(sender);
        const itemId = ITEM_IDS[action.item]!;
        const opts = { gasLimit: GAS_LIMIT };
        const send = () =>
          action.batch
            ? items.safeBatchTransferFrom(
                sender.address,
                escrowAddress,
                [itemId],
                [action.amount],
                "0x",
                opts,
              )
            : items.safeTransferFrom(sender.address, escrowAddress, itemId, action.amount, "0x", opts);
        const balance = model.items[action.player]![action.item]!;
        const amount = BigInt(action.amount);
        const expected: Expected =
          balance < amount
            ? {
                contract: t.items,
                error: "ERC1155InsufficientBalance",
                args: [sender.address, balance, amount, itemId],
              }
            : { contract: escrow, error: "UnsolicitedTransfer", args: [itemsAddress, sender.address] };
        return { send, expected };
      }

      case "warp":
        model.now += BigInt(action.seconds);
        return undefined;

      case "setCommission": {
        const send = () => escrow.connect(t.admin).setCommission(action.bps, { gasLimit: GAS_LIMIT });
        if (action.bps > 1500) {
          return {
            send,
            expected: { contract: escrow, error: "CommissionTooHigh", args: [action.bps, 1500] },
          };
        }
        model.commissionBps = BigInt(action.bps);
        return { send };
      }

      case "list": {
        const scale = action.currency === "native" ? 10n ** 15n : 10n ** 6n;
        const price = BigInt(action.units) * scale + BigInt(action.dust);
        const amount = BigInt(action.amount);
        const deadline = ts + BigInt(action.deadlineIn);
        const itemId = ITEM_IDS[action.item]!;
        const send = () =>
          sendAs(
            action.player,
            escrowAddress,
            escrowData("list", [
              itemsAddress,
              itemId,
              amount,
              price,
              currencyAddress[action.currency],
              deadline,
            ]),
          );
        const invalid = (field: string) => ({
          send,
          expected: { contract: escrow, error: "InvalidListing", args: [field] },
        });
        if (amount === 0n) return invalid("amount");
        if (price === 0n) return invalid("price");
        if (deadline <= ts) return invalid("deadline");
        const balance = model.items[action.player]![action.item]!;
        if (amount > balance) {
          return {
            send,
            expected: {
              contract: t.items,
              error: "ERC1155InsufficientBalance",
              args: [accounts[action.player], balance, amount, itemId],
            },
          };
        }
        model.items[action.player]![action.item]! -= amount;
        model.listings.push({
          seller: action.player,
          item: action.item,
          amount,
          price,
          currency: action.currency,
          deadline,
          state: State.Listed,
          buyer: -1,
          confirmBy: 0n,
          resolveBy: 0n,
          commissionBps: model.commissionBps,
          arbiter: "arbiter",
          itemsClaimed: false,
          fundsClaimed: false,
        });
        return { send };
      }

      case "buy": {
        const id = listingIdFor(model, action.pick, [State.Listed]);
        const m = model.listings[Number(id) - 1];
        const value = !m
          ? 0n
          : m.currency === "native"
            ? action.exact
              ? m.price
              : m.price + 1n
            : action.exact
              ? 0n
              : 1n;
        const send = () => sendAs(action.player, escrowAddress, escrowData("buy", [id]), value);
        if (!m) return { send, expected: unknown(id) };
        if (m.state !== State.Listed) return { send, expected: wrongState(id, m) };
        if (ts > m.deadline)
          return { send, expected: { contract: escrow, error: "DeadlinePassed", args: [id, m.deadline] } };
        if (action.player === m.seller)
          return { send, expected: { contract: escrow, error: "SellerCannotBuy", args: [id] } };
        if (!action.exact) {
          return m.currency === "native"
            ? { send, expected: { contract: escrow, error: "WrongPayment", args: [m.price, value] } }
            : { send, expected: { contract: escrow, error: "UnexpectedNativePayment", args: [value] } };
        }
        m.state = State.Paid;
        m.buyer = action.player;
        m.confirmBy = ts + BigInt(CONFIRMATION_WINDOW);
        if (m.currency === "erc20") model.stablecoins[action.player]! -= m.price;
        return { send };
      }

      case "cancel":
      case "reclaim":
      case "confirm":
      case "dispute":
      case "settle":
      case "unwind": {
        const needed = {
          cancel: State.Listed,
          reclaim: State.Listed,
          confirm: State.Paid,
          dispute: State.Paid,
          settle: State.Paid,
          unwind: State.Disputed,
        }[action.kind];
        const id = listingIdFor(model, action.pick, [needed]);
        const m = model.listings[Number(id) - 1];
        const caller = callerFor(m, action.who, action.other);
        const send = () => sendAs(caller, escrowAddress, escrowData(action.kind, [id]));
        if (!m) return { send, expected: unknown(id) };
        if (m.state !== needed) return { send, expected: wrongState(id, m) };
        const as = accounts[caller];
        switch (action.kind) {
          case "cancel":
            if (caller !== m.seller)
              return { send, expected: { contract: escrow, error: "NotSeller", args: [id, as] } };
            if (refuses(model, m.seller, "items")) return { send, expected: itemsRefused() };
            m.state = State.Cancelled;
            m.itemsClaimed = true;
            model.items[m.seller]![m.item]! += m.amount;
            return { send };
          case "reclaim":
            if (ts <= m.deadline) {
              return {
                send,
                expected: { contract: escrow, error: "DeadlineNotReached", args: [id, m.deadline] },
              };
            }
            if (refuses(model, m.seller, "items")) return { send, expected: itemsRefused() };
            m.state = State.Expired;
            m.itemsClaimed = true;
            model.items[m.seller]![m.item]! += m.amount;
            return { send };
          case "confirm":
            if (caller !== m.buyer)
              return { send, expected: { contract: escrow, error: "NotBuyer", args: [id, as] } };
            complete(model, m);
            return { send };
          case "dispute":
            if (caller !== m.buyer)
              return { send, expected: { contract: escrow, error: "NotBuyer", args: [id, as] } };
            if (ts > m.confirmBy) {
              return { send, expected: { contract: escrow, error: "WindowClosed", args: [id, m.confirmBy] } };
            }
            m.state = State.Disputed;
            m.resolveBy = ts + BigInt(DISPUTE_WINDOW);
            return { send };
          case "settle":
            if (ts <= m.confirmBy) {
              return { send, expected: { contract: escrow, error: "WindowOpen", args: [id, m.confirmBy] } };
            }
            complete(model, m);
            return { send };
          case "unwind":
            if (ts <= m.resolveBy) {
              return {
                send,
                expected: { contract: escrow, error: "ResolutionOpen", args: [id, m.resolveBy] },
              };
            }
            m.state = State.Refunded;
            return { send };
        }
        throw new Error("unreachable");
      }

      case "claimItems":
      case "claimFunds": {
        const id = listingIdFor(model, action.pick, [State.Completed, State.Refunded]);
        const m = model.listings[Number(id) - 1];
        const caller = callerFor(m, action.who, action.other);
        const send = () => sendAs(caller, escrowAddress, escrowData(action.kind, [id]));
        if (!m) return { send, expected: unknown(id) };
        if (!ENDED_WITH_BUYER.has(m.state)) return { send, expected: wrongState(id, m) };
        const side = action.kind === "claimItems" ? "items" : "funds";
        const claimant = claimantOf(m, side);
        if (caller !== claimant) {
          return {
            send,
            expected: {
              contract: escrow,
              error: "NotClaimant",
              args: [id, accounts[caller], accounts[claimant]],
            },
          };
        }
        if (side === "items") {
          if (m.itemsClaimed)
            return { send, expected: { contract: escrow, error: "ItemsAlreadyClaimed", args: [id] } };
          if (refuses(model, claimant, "items")) return { send, expected: itemsRefused() };
          m.itemsClaimed = true;
          model.items[claimant]![m.item]! += m.amount;
          return { send };
        }
        if (m.fundsClaimed)
          return { send, expected: { contract: escrow, error: "FundsAlreadyClaimed", args: [id] } };
        const amount = fundsOf(m);
        if (refuses(model, claimant, m.currency)) {
          return {
            send,
            expected: { contract: escrow, error: "NativeTransferFailed", args: [accounts[claimant], amount] },
          };
        }
        m.fundsClaimed = true;
        if (m.currency === "erc20") model.stablecoins[claimant]! += amount;
        return { send };
      }

      case "resolve": {
        const id = listingIdFor(model, action.pick, [State.Disputed]);
        const m = model.listings[Number(id) - 1];
        const signer =
          action.by === "arbiter"
            ? t.arbiter
            : action.by === "outsider"
              ? t.outsider
              : players[action.other % PLAYERS]!;
        const send = () => escrow.connect(signer).resolve(id, action.refund, { gasLimit: GAS_LIMIT });
        if (!m) return { send, expected: unknown(id) };
        if (m.state !== State.Disputed) return { send, expected: wrongState(id, m) };
        if (action.by !== m.arbiter) {
          return { send, expected: { contract: escrow, error: "NotArbiter", args: [id, signer.address] } };
        }
        if (ts > m.resolveBy) {
          return { send, expected: { contract: escrow, error: "ResolutionClosed", args: [id, m.resolveBy] } };
        }
        if (action.refund) {
          m.state = State.Refunded;
        } else {
          complete(model, m);
        }
        return { send };
      }

      case "assign": {
        const id = listingIdFor(model, action.pick, [State.Disputed]);
        const m = model.listings[Number(id) - 1];
        const to = action.to === "arbiter" ? t.arbiter.address : t.outsider.address;
        const send = () => escrow.connect(t.admin).assignArbiter(id, to, { gasLimit: GAS_LIMIT });
        if (!m) return { send, expected: unknown(id) };
        if (m.state !== State.Disputed) return { send, expected: wrongState(id, m) };
        m.arbiter = action.to;
        return { send };
      }

      case "withdraw": {
        const owedTo = model.treasuryOwed[action.currency] > 0n ? TREASURY : action.account;
        const account = action.fit ? owedTo : action.account;
        const currencyOf = currencyAddress[action.currency];
        const send = () => sendAs(account, escrowAddress, escrowData("withdraw", [currencyOf]));
        const owed = account === TREASURY ? model.treasuryOwed[action.currency] : 0n;
        if (owed === 0n) {
          return {
            send,
            expected: { contract: escrow, error: "NothingToWithdraw", args: [accounts[account], currencyOf] },
          };
        }
        model.treasuryOwed[action.currency] = 0n;
        if (action.currency === "erc20") model.stablecoins[TREASURY]! += owed;
        return { send };
      }
    }
  }

  /** Sends the call of `action` at the model's next second and checks the escrow against the model. */
  async function play(
    model: Model,
    action: Action,
    view: ChainView,
    counts: { reverts: number; successes: number },
  ) {
    const ts = model.now + 1n;
    const before = structuredClone(model);
    const call = step(model, action, ts);
    if (!call) return view;
    model.now = ts;
    await time.setNextBlockTimestamp(ts);
    let next = view;
    if (call.expected) {
      const assertion = expect(call.send()).to.be.revertedWithCustomError(
        call.expected.contract,
        call.expected.error,
      );
      await (call.expected.args ? assertion.withArgs(...call.expected.args) : assertion);
      expect({ ...model, now: before.now }, "the model predicted no change").to.deep.equal(before);
      const after = await readChain();
      expect(after, `rejected ${action.kind} must change nothing`).to.deep.equal(view);
      counts.reverts++;
    } else {
      await (await call.send()).wait();
      counts.successes++;
      next = await readChain();
    }
    checkInvariants(next);
    checkAgainstModel(next, model);
    return next;
  }

  /**
   * Long after everything: ends every trade the way anyone can (reclaim, settle, unwind) and lets every party
   * claim its side. Only what the trading contract refuses may stay in escrow.
   */
  async function everyoneExits(
    model: Model,
    view: ChainView,
    counts: { reverts: number; successes: number },
  ) {
    model.now += BigInt(40 * DAY);
    for (const [index, m] of model.listings.entries()) {
      const pick = { id: index + 1 };
      const ender = { pick, who: "other" as const, other: 0 };
      if (m.state === State.Listed) view = await play(model, { kind: "reclaim", ...ender }, view, counts);
      if (m.state === State.Paid) view = await play(model, { kind: "settle", ...ender }, view, counts);
      if (m.state === State.Disputed) view = await play(model, { kind: "unwind", ...ender }, view, counts);
      if (!ENDED_WITH_BUYER.has(m.state)) continue;
      for (const kind of ["claimItems", "claimFunds"] as const) {
        const claimed = kind === "claimItems" ? m.itemsClaimed : m.fundsClaimed;
        if (claimed) continue;
        const claimant = claimantOf(m, kind === "claimItems" ? "items" : "funds");
        view = await play(model, { kind, pick, who: "other", other: claimant }, view, counts);
      }
    }
    for (const c of ["native", "erc20"] as const) {
      if (model.treasuryOwed[c] > 0n) {
        view = await play(
          model,
          { kind: "withdraw", account: TREASURY, fit: true, currency: c },
          view,
          counts,
        );
      }
    }
    for (const [index, m] of model.listings.entries()) {
      const stuck = (side: "items" | "funds") => {
        if (!ENDED_WITH_BUYER.has(m.state)) return false;
        const claimed = side === "items" ? m.itemsClaimed : m.fundsClaimed;
        return !claimed && !refuses(model, claimantOf(m, side), side === "items" ? "items" : m.currency);
      };
      expect(
        m.state === State.Listed && !refuses(model, m.seller, "items"),
        `listing ${index + 1} still open`,
      ).to.equal(false);
      expect(HOLDING_PAYMENT.has(m.state), `listing ${index + 1} still in trade`).to.equal(false);
      expect(stuck("items") || stuck("funds"), `listing ${index + 1} holds a claim nobody refuses`).to.equal(
        false,
      );
    }
    expect(model.treasuryOwed).to.deep.equal({ native: 0n, erc20: 0n });
  }

  it("keeps escrowed items and funds equal to open listings and unclaimed sides through random trading", async () => {
    const counts = { reverts: 0, successes: 0 };
    await fc.assert(
      fc.asyncProperty(sequenceArb, async (actions) => {
        await restoreStart();
        const model = freshModel(BigInt(await time.latest()));
        let view = await readChain();
        for (const action of actions) view = await play(model, action, view, counts);
        await everyoneExits(model, view, counts);
      }),
      { numRuns: NUM_RUNS },
    );
    expect(counts.successes, "successful actions").to.be.greaterThan(NUM_RUNS * 4);
    expect(counts.reverts, "rejected actions").to.be.greaterThan(NUM_RUNS);
  });
});
