import { expect } from "chai";
import fc from "fast-check";
import { network } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { BaseContract, ContractTransactionResponse } from "ethers";
import {
  CONFIRMATION_WINDOW,
  COMMISSION_BPS,
  DAY,
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

const PLAYERS = 4;
const NUM_RUNS = 200;
const MAX_ACTIONS = 30;
/** Mined even when they revert, so every action happens at the timestamp the model chose for it. */
const GAS_LIMIT = 1_000_000n;

type Currency = "native" | "erc20";
type Who = "seller" | "buyer" | "other";
/**
 * Which listing an action targets: with `fit`, the n-th most recent listing in the state the action needs (when
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
  | { kind: "cancel" | "reclaim" | "confirm" | "dispute" | "settle"; pick: Pick; who: Who; other: number }
  | { kind: "buy"; pick: Pick; player: number; exact: boolean }
  | { kind: "resolve"; pick: Pick; asArbiter: boolean; other: number; refund: boolean }
  | { kind: "withdraw"; account: number; fit: boolean; currency: Currency }
  | { kind: "warp"; seconds: number }
  | { kind: "setCommission"; bps: number }
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
const player = fc.nat({ max: PLAYERS - 1 });
const currency = fc.constantFrom<Currency>("native", "erc20");

const listArb = fc.record({
  kind: fc.constant("list" as const),
  player,
  item: fc.nat({ max: ITEM_IDS.length - 1 }),
  amount: fc.integer({ min: 0, max: 60 }),
  units: fc.integer({ min: 0, max: 5_000 }),
  dust: fc.nat({ max: 999 }),
  currency,
  deadlineIn: fc.integer({ min: -60, max: 10 * DAY }),
});

/** An action by a party to a listing, biased towards the party entitled to it. */
function byParty(kind: "cancel" | "reclaim" | "confirm" | "dispute" | "settle", who: Who[]) {
  return fc.record({ kind: fc.constant(kind), pick, who: fc.constantFrom(...who), other: player });
}

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 2, arbitrary: listArb },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("buy" as const), pick, player, exact: mostly(5) }) },
  { weight: 1, arbitrary: byParty("cancel", ["seller", "seller", "other"]) },
  { weight: 1, arbitrary: byParty("reclaim", ["seller", "buyer", "other"]) },
  { weight: 3, arbitrary: byParty("confirm", ["buyer", "buyer", "seller", "other"]) },
  { weight: 3, arbitrary: byParty("dispute", ["buyer", "buyer", "seller", "other"]) },
  { weight: 2, arbitrary: byParty("settle", ["seller", "buyer", "other"]) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("resolve" as const),
      pick,
      asArbiter: mostly(5),
      other: player,
      refund: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("withdraw" as const),
      account: fc.nat({ max: PLAYERS }),
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
      player,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("gift" as const),
      player,
      item: fc.nat({ max: ITEM_IDS.length - 1 }),
      amount: fc.integer({ min: 1, max: 5 }),
      batch: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("setCommission" as const),
      bps: fc.integer({ min: 0, max: 1_200 }),
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
  commissionBps: bigint;
}

/** Accounts that can be owed: the players, then the treasury (index PLAYERS). */
interface Model {
  now: bigint;
  commissionBps: bigint;
  listings: ModelListing[];
  owed: Record<Currency, bigint[]>;
  items: bigint[][];
  stablecoins: bigint[];
}

interface Expected {
  contract: BaseContract;
  error: string;
  args?: unknown[];
}

interface ChainView {
  listings: {
    seller: string;
    state: bigint;
    buyer: string;
    confirmBy: bigint;
    token: string;
    currency: string;
    id: bigint;
    amount: bigint;
    price: bigint;
    deadline: bigint;
  }[];
  owed: Record<Currency, bigint[]>;
  escrowItems: bigint[];
  playerItems: bigint[];
  escrowNative: bigint;
  escrowStablecoins: bigint;
  stablecoins: bigint[];
  commissionBps: bigint;
}

const OPEN = new Set<bigint>([State.Listed, State.Paid, State.Disputed]);
const HOLDING_PAYMENT = new Set<bigint>([State.Paid, State.Disputed]);

describe("ItemEscrow invariants (randomized)", function () {
  this.timeout(300_000);

  let t: TradingSetup;
  let players: HardhatEthersSigner[];
  let accounts: string[];
  let escrowAddress: string;
  let itemsAddress: string;
  let currencyAddress: Record<Currency, string>;
  let arbiterRole: string;
  let restoreStart: () => Promise<void>;

  before(async () => {
    t = await deployTrading(ethers, PLAYERS);
    players = t.players;
    accounts = [...players.map((p) => p.address), t.treasury.address];
    escrowAddress = await t.escrow.getAddress();
    itemsAddress = await t.items.getAddress();
    currencyAddress = { native: NATIVE, erc20: await t.stablecoin.getAddress() };
    arbiterRole = await t.escrow.ARBITER_ROLE();
    const snapshot = await networkHelpers.takeSnapshot();
    restoreStart = () => snapshot.restore();
  });

  async function readChain(): Promise<ChainView> {
    const count = Number(await t.escrow.listingCount());
    const listingIds = Array.from({ length: count }, (_, i) => BigInt(i + 1));
    const owedOf = (c: Currency) => Promise.all(accounts.map((a) => t.escrow.owed(a, currencyAddress[c])));
    const [
      listings,
      owedNative,
      owedErc20,
      escrowItems,
      playerItems,
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
        players.flatMap((p) => ITEM_IDS.map(() => p.address)),
        players.flatMap(() => [...ITEM_IDS]),
      ),
      ethers.provider.getBalance(escrowAddress),
      t.stablecoin.balanceOf(escrowAddress),
      Promise.all(accounts.map((a) => t.stablecoin.balanceOf(a))),
    ]);
    return {
      listings: listings.map((l) => ({
        seller: l.seller,
        state: l.state,
        buyer: l.buyer,
        confirmBy: l.confirmBy,
        token: l.token,
        currency: l.currency,
        id: l.id,
        amount: l.amount,
        price: l.price,
        deadline: l.deadline,
      })),
      owed: { native: owedNative, erc20: owedErc20 },
      escrowItems: [...escrowItems],
      playerItems: [...playerItems],
      escrowNative,
      escrowStablecoins,
      stablecoins,
      commissionBps: await t.escrow.commissionBps(),
    };
  }

  /** The escrow holds exactly the open listings' items and the paid listings' prices plus everything owed. */
  function checkInvariants(view: ChainView) {
    ITEM_IDS.forEach((itemId, i) => {
      const listed = view.listings
        .filter((l) => l.id === itemId && OPEN.has(l.state))
        .reduce((sum, l) => sum + l.amount, 0n);
      expect(view.escrowItems[i], `escrowed units of item ${itemId}`).to.equal(listed);
    });
    for (const c of ["native", "erc20"] as const) {
      const held = view.listings
        .filter((l) => l.currency === currencyAddress[c] && HOLDING_PAYMENT.has(l.state))
        .reduce((sum, l) => sum + l.price, 0n);
      const owed = view.owed[c].reduce((sum, v) => sum + v, 0n);
      const balance = c === "native" ? view.escrowNative : view.escrowStablecoins;
      expect(balance, `escrow ${c} balance`).to.equal(held + owed);
    }
  }

  function checkAgainstModel(view: ChainView, model: Model) {
    expect(view.listings.length).to.equal(model.listings.length);
    model.listings.forEach((m, i) => {
      const l = view.listings[i]!;
      expect(l.state, `state of listing ${i + 1}`).to.equal(m.state);
      expect(l.seller).to.equal(players[m.seller]!.address);
      expect(l.buyer).to.equal(m.buyer < 0 ? ethers.ZeroAddress : players[m.buyer]!.address);
      expect(l.confirmBy).to.equal(m.confirmBy);
      expect(l.token).to.equal(itemsAddress);
      expect(l.currency).to.equal(currencyAddress[m.currency]);
      expect(l.id).to.equal(ITEM_IDS[m.item]);
      expect(l.amount).to.equal(m.amount);
      expect(l.price).to.equal(m.price);
      expect(l.deadline).to.equal(m.deadline);
    });
    expect(view.owed).to.deep.equal(model.owed);
    expect(view.playerItems).to.deep.equal(model.items.flat());
    expect(view.stablecoins).to.deep.equal(model.stablecoins);
    expect(view.commissionBps).to.equal(model.commissionBps);
  }

  function freshModel(now: bigint): Model {
    return {
      now,
      commissionBps: COMMISSION_BPS,
      listings: [],
      owed: { native: Array<bigint>(PLAYERS + 1).fill(0n), erc20: Array<bigint>(PLAYERS + 1).fill(0n) },
      items: players.map(() => ITEM_IDS.map(() => STARTING_ITEMS)),
      stablecoins: accounts.map((_, i) => (i < PLAYERS ? STARTING_STABLECOINS : 0n)),
    };
  }

  function listingIdFor(model: Model, pick: Pick, wanted: bigint) {
    const count = model.listings.length;
    if (!pick || count === 0) return count % 2 === 0 ? 0n : BigInt(count + 1);
    if ("id" in pick) return BigInt(pick.id);
    if (pick.fit) {
      const fitting = model.listings.flatMap((l, i) => (l.state === wanted ? [BigInt(i + 1)] : []));
      if (fitting.length > 0) return fitting[fitting.length - 1 - (pick.n % fitting.length)]!;
    }
    return BigInt(count - (pick.n % count));
  }

  /**
   * The natural next move for a listing at time `ts`: buy (by someone other than the seller), cancel or reclaim it
   * while listed; confirm, dispute, wait out or settle a sale; resolve a dispute; withdraw what a party is owed.
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
        const buyer = (m.seller + 1 + (action.player % (PLAYERS - 1))) % PLAYERS;
        return { kind: "buy", pick, player: buyer, exact: true };
      }
      case State.Paid:
        if (ts > m.confirmBy) return { kind: "settle", who: "other", ...party };
        if (action.variant === 0) return { kind: "confirm", who: "buyer", ...party };
        if (action.variant === 3) return { kind: "warp", seconds: CONFIRMATION_WINDOW };
        return { kind: "dispute", who: "buyer", ...party };
      case State.Disputed:
        return {
          kind: "resolve",
          pick,
          asArbiter: true,
          other: action.player,
          refund: action.variant % 2 === 0,
        };
      default: {
        const account = action.variant % 2 === 0 || m.buyer < 0 ? m.seller : m.buyer;
        return { kind: "withdraw", account, fit: false, currency: m.currency };
      }
    }
  }

  function callerFor(m: ModelListing | undefined, who: Who, other: number) {
    if (m && who === "seller") return m.seller;
    if (m && who === "buyer" && m.buyer >= 0) return m.buyer;
    return other;
  }

  function complete(model: Model, m: ModelListing) {
    const { commission, proceeds } = splitPrice(m.price, m.commissionBps);
    m.state = State.Completed;
    model.owed[m.currency][m.seller]! += proceeds;
    model.owed[m.currency][PLAYERS]! += commission;
    model.items[m.buyer]![m.item]! += m.amount;
  }

  /**
   * Applies `action` to the model and returns the call to make, or the revert the escrow must answer with
   * (in which case the model is left as it was).
   */
  function step(
    model: Model,
    action: Action,
    ts: bigint,
  ): { send: () => Promise<ContractTransactionResponse>; expected?: Expected } | undefined {
    const escrow = t.escrow;
    const opts = { gasLimit: GAS_LIMIT };
    const unknown = (id: bigint): Expected => ({ contract: escrow, error: "UnknownListing", args: [id] });
    const wrongState = (id: bigint, m: ModelListing): Expected => ({
      contract: escrow,
      error: "InvalidState",
      args: [id, m.state],
    });

    switch (action.kind) {
      case "advance":
        return step(model, advance(model, action, ts), ts);

      case "gift": {
        const sender = players[action.player]!;
        const items = t.items.connect(sender);
        const itemId = ITEM_IDS[action.item]!;
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
        const send = () => escrow.connect(t.admin).setCommission(action.bps, opts);
        if (action.bps > 1000) {
          return {
            send,
            expected: { contract: escrow, error: "CommissionTooHigh", args: [action.bps, 1000] },
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
          escrow
            .connect(players[action.player]!)
            .list(itemsAddress, itemId, amount, price, currencyAddress[action.currency], deadline, opts);
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
              args: [players[action.player]!.address, balance, amount, itemId],
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
          commissionBps: 0n,
        });
        return { send };
      }

      case "buy": {
        const id = listingIdFor(model, action.pick, State.Listed);
        const m = model.listings[Number(id) - 1];
        const buyer = players[action.player]!;
        const value = !m
          ? 0n
          : m.currency === "native"
            ? action.exact
              ? m.price
              : m.price + 1n
            : action.exact
              ? 0n
              : 1n;
        const send = () => escrow.connect(buyer).buy(id, { ...opts, value });
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
        m.commissionBps = model.commissionBps;
        if (m.currency === "erc20") model.stablecoins[action.player]! -= m.price;
        return { send };
      }

      case "cancel":
      case "reclaim":
      case "confirm":
      case "dispute":
      case "settle": {
        const needed = action.kind === "cancel" || action.kind === "reclaim" ? State.Listed : State.Paid;
        const id = listingIdFor(model, action.pick, needed);
        const m = model.listings[Number(id) - 1];
        const caller = callerFor(m, action.who, action.other);
        const signer = players[caller]!;
        const send = () => escrow.connect(signer)[action.kind](id, opts);
        if (!m) return { send, expected: unknown(id) };
        if (m.state !== needed) return { send, expected: wrongState(id, m) };
        switch (action.kind) {
          case "cancel":
            if (caller !== m.seller) {
              return { send, expected: { contract: escrow, error: "NotSeller", args: [id, signer.address] } };
            }
            m.state = State.Cancelled;
            model.items[m.seller]![m.item]! += m.amount;
            return { send };
          case "reclaim":
            if (ts <= m.deadline) {
              return {
                send,
                expected: { contract: escrow, error: "DeadlineNotReached", args: [id, m.deadline] },
              };
            }
            m.state = State.Expired;
            model.items[m.seller]![m.item]! += m.amount;
            return { send };
          case "confirm":
            if (caller !== m.buyer) {
              return { send, expected: { contract: escrow, error: "NotBuyer", args: [id, signer.address] } };
            }
            complete(model, m);
            return { send };
          case "dispute":
            if (caller !== m.buyer) {
              return { send, expected: { contract: escrow, error: "NotBuyer", args: [id, signer.address] } };
            }
            if (ts > m.confirmBy) {
              return { send, expected: { contract: escrow, error: "WindowClosed", args: [id, m.confirmBy] } };
            }
            m.state = State.Disputed;
            return { send };
          case "settle":
            if (ts <= m.confirmBy) {
              return { send, expected: { contract: escrow, error: "WindowOpen", args: [id, m.confirmBy] } };
            }
            complete(model, m);
            return { send };
        }
        throw new Error("unreachable");
      }

      case "resolve": {
        const id = listingIdFor(model, action.pick, State.Disputed);
        const m = model.listings[Number(id) - 1];
        const signer = action.asArbiter ? t.arbiter : players[action.other]!;
        const send = () => escrow.connect(signer).resolve(id, action.refund, opts);
        if (!action.asArbiter) {
          return {
            send,
            expected: {
              contract: escrow,
              error: "AccessControlUnauthorizedAccount",
              args: [signer.address, arbiterRole],
            },
          };
        }
        if (!m) return { send, expected: unknown(id) };
        if (m.state !== State.Disputed) return { send, expected: wrongState(id, m) };
        if (action.refund) {
          m.state = State.Refunded;
          model.owed[m.currency][m.buyer]! += m.price;
          model.items[m.seller]![m.item]! += m.amount;
        } else {
          complete(model, m);
        }
        return { send };
      }

      case "withdraw": {
        const owedTo = model.owed[action.currency].flatMap((v, i) => (v > 0n ? [i] : []));
        const account =
          action.fit && owedTo.length > 0 ? owedTo[action.account % owedTo.length]! : action.account;
        const signer = account < PLAYERS ? players[account]! : t.treasury;
        const currencyOf = currencyAddress[action.currency];
        const send = () => escrow.connect(signer).withdraw(currencyOf, opts);
        const owed = model.owed[action.currency][account]!;
        if (owed === 0n) {
          return {
            send,
            expected: { contract: escrow, error: "NothingToWithdraw", args: [signer.address, currencyOf] },
          };
        }
        model.owed[action.currency][account] = 0n;
        if (action.currency === "erc20") model.stablecoins[account]! += owed;
        return { send };
      }
    }
  }

  it("keeps escrowed items and funds equal to open listings and amounts owed through random trading", async () => {
    let reverts = 0;
    let successes = 0;
    await fc.assert(
      fc.asyncProperty(sequenceArb, async (actions) => {
        await restoreStart();
        const model = freshModel(BigInt(await time.latest()));
        let view = await readChain();
        for (const action of actions) {
          const ts = model.now + 1n;
          const before = structuredClone(model);
          const call = step(model, action, ts);
          if (!call) continue;
          model.now = ts;
          await time.setNextBlockTimestamp(ts);
          if (call.expected) {
            const assertion = expect(call.send()).to.be.revertedWithCustomError(
              call.expected.contract,
              call.expected.error,
            );
            await (call.expected.args ? assertion.withArgs(...call.expected.args) : assertion);
            expect({ ...model, now: before.now }, "the model predicted no change").to.deep.equal(before);
            const after = await readChain();
            expect(after, `rejected ${action.kind} must change nothing`).to.deep.equal(view);
            reverts++;
          } else {
            await (await call.send()).wait();
            successes++;
            view = await readChain();
          }
          checkInvariants(view);
          checkAgainstModel(view, model);
        }
      }),
      { numRuns: NUM_RUNS },
    );
    expect(successes, "successful actions").to.be.greaterThan(NUM_RUNS * 4);
    expect(reverts, "rejected actions").to.be.greaterThan(NUM_RUNS);
  });
});
