import { expect } from "chai";
import fc from "fast-check";
import { network } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { deployLicensing, offerParams, PRICE, USDC_PRICE } from "../helpers/licensing.ts";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const { time } = networkHelpers;

const NUM_RUNS = 150;
const MAX_ACTIONS = 25;
const NATIVE = ethers.ZeroAddress;
const NO_REFERRER = ethers.ZeroAddress;

type Currency = "native" | "erc20";
/** Whom a purchase names as referrer: nobody, the approved referrer, or a second address of the buyer. */
type Referral = "none" | "approved" | "sybil";

type Action =
  | { kind: "purchase"; offer: number; buyer: number; referral: Referral }
  | { kind: "renew"; token: number; payer: number }
  | { kind: "mintForFiat"; offer: number; buyer: number }
  | { kind: "withdraw"; account: number; currency: Currency }
  | { kind: "setPlatformFee"; bps: number }
  | { kind: "createOffer"; currency: Currency; referrerBps: number; units: number }
  | { kind: "setReferrer"; offer: number; approved: boolean }
  | { kind: "warp"; days: number };

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("purchase" as const),
      offer: fc.nat(),
      buyer: fc.nat({ max: 1 }),
      referral: fc.constantFrom<Referral>("none", "approved", "sybil"),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant("renew" as const), token: fc.nat(), payer: fc.nat({ max: 1 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("mintForFiat" as const),
      offer: fc.nat(),
      buyer: fc.nat({ max: 1 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("withdraw" as const),
      account: fc.nat({ max: 3 }),
      currency: fc.constantFrom<Currency>("native", "erc20"),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("setPlatformFee" as const),
      bps: fc.integer({ min: 0, max: 2000 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("createOffer" as const),
      currency: fc.constantFrom<Currency>("native", "erc20"),
      referrerBps: fc.integer({ min: 0, max: 8000 }),
      units: fc.integer({ min: 1, max: 997 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("setReferrer" as const),
      offer: fc.nat(),
      approved: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("warp" as const), days: fc.integer({ min: 1, max: 40 }) }),
  },
);

interface ModelOffer {
  currency: Currency;
  price: bigint;
  referrerBps: bigint;
  feeBps: bigint;
  referrerApproved: boolean;
}

interface Model {
  feeBps: bigint;
  offers: ModelOffer[];
  tokens: number[];
  /** Owed per account (treasury, approved referrer, Sybil, buyer 0) and currency. */
  owed: Record<Currency, bigint[]>;
}

describe("LicenseToken solvency (randomized)", function () {
  this.timeout(600_000);

  let t: Awaited<ReturnType<typeof deployLicensing>>;
  let accounts: HardhatEthersSigner[];
  let buyers: HardhatEthersSigner[];
  let sybils: HardhatEthersSigner[];
  let currencyOf: Record<Currency, string>;
  let restoreStart: () => Promise<void>;

  before(async () => {
    t = await deployLicensing(connection);
    buyers = [t.buyer, t.buyer2];
    // Each buyer's second address: what a Sybil referrer is.
    sybils = [t.stranger, t.otherCreator];
    accounts = [t.treasury, t.referrer, t.stranger, t.buyer];
    currencyOf = { native: NATIVE, erc20: await t.stablecoin.getAddress() };
    const snapshot = await networkHelpers.takeSnapshot();
    restoreStart = () => snapshot.restore();
  });

  async function owedOnChain(): Promise<Record<Currency, bigint[]>> {
    const read = (c: Currency) => Promise.all(accounts.map((a) => t.license.owed(a.address, currencyOf[c])));
    const [native, erc20] = await Promise.all([read("native"), read("erc20")]);
    return { native, erc20 };
  }

  /** The contract holds at least, and in fact exactly, what it owes: revenue beyond that went to the split. */
  async function checkSolvency(model: Model) {
    const owed = await owedOnChain();
    expect(owed).to.deep.equal(model.owed);
    const licenseAddress = await t.license.getAddress();
    const balances = {
      native: await ethers.provider.getBalance(licenseAddress),
      erc20: await t.stablecoin.balanceOf(licenseAddress),
    };
    for (const c of ["native", "erc20"] as const) {
      const total = owed[c].reduce((sum, v) => sum + v, 0n);
      expect(balances[c], `${c} balance covers what is owed`).to.equal(total);
    }
  }

  async function apply(model: Model, action: Action): Promise<void> {
    const license = t.license;
    switch (action.kind) {
      case "warp":
        await time.increase(action.days * 24 * 3600);
        return;
      case "setPlatformFee":
        await license.connect(t.admin).setPlatformFee(action.bps);
        model.feeBps = BigInt(action.bps);
        return;
      case "createOffer": {
        const price =
          action.currency === "native"
            ? PRICE * BigInt(action.units) + 7n
            : USDC_PRICE + BigInt(action.units);
        await license.connect(t.creator).createOffer(
          offerParams(await t.split.getAddress(), {
            currency: currencyOf[action.currency],
            price,
            referrerBps: action.referrerBps,
          }),
        );
        model.offers.push({
          currency: action.currency,
          price,
          referrerBps: BigInt(action.referrerBps),
          feeBps: model.feeBps,
          referrerApproved: false,
        });
        return;
      }
      case "setReferrer": {
        if (model.offers.length === 0) return;
        const index = action.offer % model.offers.length;
        await license.connect(t.creator).setReferrer(index + 1, t.referrer.address, action.approved);
        model.offers[index]!.referrerApproved = action.approved;
        return;
      }
      case "purchase":
      case "mintForFiat": {
        if (model.offers.length === 0) return;
        const index = action.offer % model.offers.length;
        const offer = model.offers[index]!;
        const buyer = buyers[action.buyer]!;
        if (action.kind === "mintForFiat") {
          const paymentRef = ethers.id(`cs_${model.tokens.length}`);
          await license.connect(t.minter).mintForFiat(index + 1, buyer.address, paymentRef);
          model.tokens.push(index);
          return;
        }
        const referrer =
          action.referral === "approved"
            ? t.referrer.address
            : action.referral === "sybil"
              ? sybils[action.buyer]!.address
              : NO_REFERRER;
        const value = offer.currency === "native" ? offer.price : 0n;
        await license.connect(buyer).purchase(index + 1, buyer.address, referrer, { value });
        model.tokens.push(index);
        const fee = (offer.price * offer.feeBps) / 10_000n;
        model.owed[offer.currency][0]! += fee;
        if (action.referral === "approved" && offer.referrerApproved) {
          model.owed[offer.currency][1]! += (offer.price * offer.referrerBps) / 10_000n;
        }
        return;
      }
      case "renew": {
        if (model.tokens.length === 0) return;
        const tokenIndex = action.token % model.tokens.length;
        const offer = model.offers[model.tokens[tokenIndex]!]!;
        const value = offer.currency === "native" ? offer.price : 0n;
        await license.connect(buyers[action.payer]!).renew(tokenIndex + 1, { value });
        model.owed[offer.currency][0]! += (offer.price * offer.feeBps) / 10_000n;
        return;
      }
      case "withdraw": {
        const account = accounts[action.account]!;
        const owed = model.owed[action.currency][action.account]!;
        const call = license.connect(account).withdraw(currencyOf[action.currency]);
        if (owed === 0n) {
          await expect(call)
            .to.be.revertedWithCustomError(license, "NothingToWithdraw")
            .withArgs(account.address, currencyOf[action.currency]);
          return;
        }
        await call;
        model.owed[action.currency][action.account] = 0n;
        return;
      }
    }
  }

  it("holds exactly what it owes, and pays referrers only with the creator's approval", async () => {
    let actions = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(actionArb, { minLength: 1, maxLength: MAX_ACTIONS }), async (sequence) => {
        await restoreStart();
        const split = await t.split.getAddress();
        await t.license.connect(t.creator).createOffer(offerParams(split));
        await t.license
          .connect(t.creator)
          .createOffer(
            offerParams(split, { currency: currencyOf.erc20, price: USDC_PRICE, referrerBps: 8000 }),
          );
        const fee = await t.license.platformFeeBps();
        const model: Model = {
          feeBps: fee,
          offers: [
            { currency: "native", price: PRICE, referrerBps: 500n, feeBps: fee, referrerApproved: false },
            {
              currency: "erc20",
              price: USDC_PRICE,
              referrerBps: 8000n,
              feeBps: fee,
              referrerApproved: false,
            },
          ],
          tokens: [],
          owed: { native: [0n, 0n, 0n, 0n], erc20: [0n, 0n, 0n, 0n] },
        };
        for (const action of sequence) {
          await apply(model, action);
          await checkSolvency(model);
          actions++;
        }
        expect(model.owed.native[2]).to.equal(0n);
        expect(model.owed.erc20[2]).to.equal(0n);
      }),
      { numRuns: NUM_RUNS },
    );
    expect(actions).to.be.greaterThan(NUM_RUNS * 5);
  });
});
