import { expect } from "chai";
import { network } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import {
  FeeOnTransferToken__factory,
  HostileItems__factory,
  IItemEscrow__factory,
  IPullPayments__factory,
  ItemEscrow__factory,
  ReentrantTrader__factory,
  type ReentrantTrader,
} from "../../types/typechain/index.js";
import {
  ADMIN_DELAY,
  COMMISSION_BPS,
  CONFIRMATION_WINDOW,
  DAY,
  DISPUTE_WINDOW,
  HOUR,
  LISTING_PERIOD,
  NATIVE,
  POTION,
  SHIELD,
  STARTING_ITEMS,
  State,
  SWORD,
  deployTrading,
  interfaceIdOf,
  splitPrice,
} from "../helpers/trading.js";

const { ethers, networkHelpers } = await network.create();
const { time } = networkHelpers;

const PRICE = ethers.parseEther("1");
const USD_PRICE = 250n * 10n ** 6n;
const AMOUNT = 5n;
const USD_AMOUNT = 3n;

/** Mirrors `ReentrantTrader.Hook`. */
const Hook = { None: 0, OnItems: 1, OnNative: 2, RefuseNative: 3, RefuseItems: 4 } as const;

async function base() {
  const setup = await deployTrading(ethers);
  const [seller, buyer, other] = setup.players as [
    HardhatEthersSigner,
    HardhatEthersSigner,
    HardhatEthersSigner,
  ];
  return {
    ...setup,
    seller,
    buyer,
    other,
    escrowAddress: await setup.escrow.getAddress(),
    itemsAddress: await setup.items.getAddress(),
    stablecoinAddress: await setup.stablecoin.getAddress(),
  };
}

type Setup = Awaited<ReturnType<typeof base>>;

async function deadlineFromNow(period = LISTING_PERIOD) {
  return BigInt(await time.latest()) + BigInt(period);
}

/** Seller lists 5 swords for 1 ETH (listing 1). */
async function listedNative() {
  const t = await base();
  const deadline = await deadlineFromNow();
  await t.escrow.connect(t.seller).list(t.itemsAddress, SWORD, AMOUNT, PRICE, NATIVE, deadline);
  return { ...t, id: 1n, deadline, price: PRICE, amount: AMOUNT, item: SWORD, currency: NATIVE };
}

/** Seller lists 3 potions for 250 stablecoins (listing 1). */
async function listedErc20() {
  const t = await base();
  const deadline = await deadlineFromNow();
  await t.escrow
    .connect(t.seller)
    .list(t.itemsAddress, POTION, USD_AMOUNT, USD_PRICE, t.stablecoinAddress, deadline);
  return {
    ...t,
    id: 1n,
    deadline,
    price: USD_PRICE,
    amount: USD_AMOUNT,
    item: POTION,
    currency: t.stablecoinAddress,
  };
}

async function paidNative() {
  const t = await listedNative();
  await t.escrow.connect(t.buyer).buy(t.id, { value: t.price });
  const confirmBy = BigInt(await time.latest()) + BigInt(CONFIRMATION_WINDOW);
  return { ...t, confirmBy };
}

async function paidErc20() {
  const t = await listedErc20();
  await t.escrow.connect(t.buyer).buy(t.id);
  const confirmBy = BigInt(await time.latest()) + BigInt(CONFIRMATION_WINDOW);
  return { ...t, confirmBy };
}

async function disputedNative() {
  const t = await paidNative();
  await t.escrow.connect(t.buyer).dispute(t.id);
  const resolveBy = BigInt(await time.latest()) + BigInt(DISPUTE_WINDOW);
  return { ...t, resolveBy };
}

async function disputedErc20() {
  const t = await paidErc20();
  await t.escrow.connect(t.buyer).dispute(t.id);
  const resolveBy = BigInt(await time.latest()) + BigInt(DISPUTE_WINDOW);
  return { ...t, resolveBy };
}

async function refundedNative() {
  const t = await disputedNative();
  await t.escrow.connect(t.arbiter).resolve(t.id, true);
  return t;
}

async function completedNative() {
  const t = await paidNative();
  await t.escrow.connect(t.buyer).confirm(t.id);
  return t;
}

async function escrowedBalance(t: Setup, item: bigint) {
  return t.items.balanceOf(t.escrowAddress, item);
}

/** Deploys an escrow like the fixture's with some constructor arguments replaced. */
function deployEscrow(
  t: Setup,
  overrides: Partial<{
    treasury: string;
    arbiter: string;
    commissionBps: number;
    confirmationWindow: number;
    disputeWindow: number;
    itemTokens: string[];
  }> = {},
) {
  return new ItemEscrow__factory(t.admin).deploy(
    t.admin.address,
    ADMIN_DELAY,
    overrides.treasury ?? t.treasury.address,
    overrides.arbiter ?? t.arbiter.address,
    overrides.commissionBps ?? Number(COMMISSION_BPS),
    overrides.confirmationWindow ?? CONFIRMATION_WINDOW,
    overrides.disputeWindow ?? DISPUTE_WINDOW,
    overrides.itemTokens ?? [t.itemsAddress],
  );
}

/**
 * A trading contract (ReentrantTrader) that holds 10 shields, has approved the escrow and holds native currency,
 * so it can play either side of a trade and turn hostile mid-way.
 */
async function traderFixture() {
  const t = await listedNative();
  const trader = await new ReentrantTrader__factory(t.admin).deploy();
  const traderAddress = await trader.getAddress();
  await t.items.connect(t.studio).mint(traderAddress, SHIELD, 10, "0x");
  await trader.execute(
    t.itemsAddress,
    t.items.interface.encodeFunctionData("setApprovalForAll", [t.escrowAddress, true]),
  );
  const deadline = await deadlineFromNow();
  // Listing 2: a shield the trader could try to buy from the seller while re-entering.
  await t.escrow.connect(t.seller).list(t.itemsAddress, SHIELD, 1, PRICE, NATIVE, deadline);
  await t.admin.sendTransaction({ to: traderAddress, value: PRICE * 10n });
  return { ...t, trader, traderAddress };
}

type TraderSetup = Awaited<ReturnType<typeof traderFixture>>;

function escrowCall(t: Setup, data: string, trader: ReentrantTrader, value = 0n) {
  return trader.execute(t.escrowAddress, data, { value });
}

/** The trader bought listing 1 (5 swords from the seller). */
async function traderBoughtListingOne() {
  const t = await traderFixture();
  await escrowCall(t, t.escrow.interface.encodeFunctionData("buy", [1n]), t.trader, PRICE);
  return t;
}

/** The trader listed 2 shields (listing 3) and the buyer paid for them. */
async function traderSoldListingThree() {
  const t = await traderFixture();
  const deadline = await deadlineFromNow();
  await escrowCall(
    t,
    t.escrow.interface.encodeFunctionData("list", [t.itemsAddress, SHIELD, 2n, PRICE, NATIVE, deadline]),
    t.trader,
  );
  await t.escrow.connect(t.buyer).buy(3n, { value: PRICE });
  return t;
}

function traderCall(t: TraderSetup, method: "claimItems" | "claimFunds" | "confirm" | "dispute", id: bigint) {
  return escrowCall(t, t.escrow.interface.encodeFunctionData(method as "confirm", [id]), t.trader);
}

describe("ItemEscrow", () => {
  describe("deployment", () => {
    it("sets the admin, arbiter, treasury, commission, windows and allowed items, and emits the settings", async () => {
      const t = await networkHelpers.loadFixture(base);
      expect(await t.escrow.MAX_COMMISSION_BPS()).to.equal(1500n);
      expect(await t.escrow.defaultAdmin()).to.equal(t.admin.address);
      expect(await t.escrow.defaultAdminDelay()).to.equal(BigInt(ADMIN_DELAY));
      expect(await t.escrow.arbiter()).to.equal(t.arbiter.address);
      expect(await t.escrow.treasury()).to.equal(t.treasury.address);
      expect(await t.escrow.commissionBps()).to.equal(COMMISSION_BPS);
      expect(await t.escrow.confirmationWindow()).to.equal(BigInt(CONFIRMATION_WINDOW));
      expect(await t.escrow.disputeWindow()).to.equal(BigInt(DISPUTE_WINDOW));
      expect(await t.escrow.isItemToken(t.itemsAddress)).to.equal(true);
      expect(await t.escrow.isItemToken(t.stablecoinAddress)).to.equal(false);
      expect(await t.escrow.listingCount()).to.equal(0n);

      const fresh = await deployEscrow(t, {
        commissionBps: 100,
        confirmationWindow: HOUR,
        disputeWindow: DAY,
      });
      const deployment = fresh.deploymentTransaction()!;
      await expect(deployment).to.emit(fresh, "TreasurySet").withArgs(t.treasury.address);
      await expect(deployment).to.emit(fresh, "ArbiterSet").withArgs(t.arbiter.address);
      await expect(deployment).to.emit(fresh, "CommissionSet").withArgs(100);
      await expect(deployment).to.emit(fresh, "ConfirmationWindowSet").withArgs(HOUR);
      await expect(deployment).to.emit(fresh, "DisputeWindowSet").withArgs(DAY);
      await expect(deployment).to.emit(fresh, "ItemTokenSet").withArgs(t.itemsAddress, true);
    });

    it("accepts the window bounds and a commission of exactly 15%", async () => {
      const t = await networkHelpers.loadFixture(base);
      const short = await deployEscrow(t, {
        commissionBps: 1500,
        confirmationWindow: HOUR,
        disputeWindow: DAY,
      });
      const long = await deployEscrow(t, {
        commissionBps: 0,
        confirmationWindow: 30 * DAY,
        disputeWindow: 90 * DAY,
      });
      expect(await short.confirmationWindow()).to.equal(BigInt(HOUR));
      expect(await short.disputeWindow()).to.equal(BigInt(DAY));
      expect(await short.commissionBps()).to.equal(1500n);
      expect(await long.confirmationWindow()).to.equal(BigInt(30 * DAY));
      expect(await long.disputeWindow()).to.equal(BigInt(90 * DAY));
    });

    it("rejects a commission above 15% with CommissionTooHigh", async () => {
      const t = await networkHelpers.loadFixture(base);
      await expect(deployEscrow(t, { commissionBps: 1501 }))
        .to.be.revertedWithCustomError(t.escrow, "CommissionTooHigh")
        .withArgs(1501, 1500);
    });

    it("rejects windows outside their ranges with InvalidWindow", async () => {
      const t = await networkHelpers.loadFixture(base);
      for (const overrides of [
        { confirmationWindow: HOUR - 1 },
        { confirmationWindow: 30 * DAY + 1 },
        { disputeWindow: DAY - 1 },
        { disputeWindow: 90 * DAY + 1 },
      ]) {
        await expect(deployEscrow(t, overrides))
          .to.be.revertedWithCustomError(t.escrow, "InvalidWindow")
          .withArgs(Object.values(overrides)[0]);
      }
    });

    it("rejects a zero treasury, a zero arbiter and an item contract that is not ERC-1155", async () => {
      const t = await networkHelpers.loadFixture(base);
      await expect(deployEscrow(t, { treasury: ethers.ZeroAddress }))
        .to.be.revertedWithCustomError(t.escrow, "InvalidTreasury")
        .withArgs(ethers.ZeroAddress);
      await expect(deployEscrow(t, { arbiter: ethers.ZeroAddress }))
        .to.be.revertedWithCustomError(t.escrow, "InvalidArbiter")
        .withArgs(ethers.ZeroAddress);
      await expect(deployEscrow(t, { itemTokens: [t.stablecoinAddress] }))
        .to.be.revertedWithCustomError(t.escrow, "InvalidItemToken")
        .withArgs(t.stablecoinAddress);
    });
  });

  describe("list", () => {
    it("moves the items into escrow, records the listing with the commission in force and emits Listed", async () => {
      const t = await networkHelpers.loadFixture(base);
      const deadline = await deadlineFromNow();
      await expect(t.escrow.connect(t.seller).list(t.itemsAddress, SWORD, AMOUNT, PRICE, NATIVE, deadline))
        .to.emit(t.escrow, "Listed")
        .withArgs(
          1n,
          t.seller.address,
          t.itemsAddress,
          SWORD,
          AMOUNT,
          PRICE,
          NATIVE,
          deadline,
          COMMISSION_BPS,
        )
        .and.to.emit(t.items, "TransferSingle")
        .withArgs(t.escrowAddress, t.seller.address, t.escrowAddress, SWORD, AMOUNT);
      expect(await t.items.balanceOf(t.seller.address, SWORD)).to.equal(STARTING_ITEMS - AMOUNT);
      expect(await escrowedBalance(t, SWORD)).to.equal(AMOUNT);
      expect(await t.escrow.listingCount()).to.equal(1n);
      const listing = await t.escrow.getListing(1n);
      expect(listing.seller).to.equal(t.seller.address);
      expect(listing.deadline).to.equal(deadline);
      expect(listing.state).to.equal(State.Listed);
      expect(listing.commissionBps).to.equal(COMMISSION_BPS);
      expect(listing.buyer).to.equal(ethers.ZeroAddress);
      expect(listing.confirmBy).to.equal(0n);
      expect(listing.resolveBy).to.equal(0n);
      expect(listing.arbiter).to.equal(t.arbiter.address);
      expect(listing.token).to.equal(t.itemsAddress);
      expect(listing.currency).to.equal(NATIVE);
      expect(listing.id).to.equal(SWORD);
      expect(listing.amount).to.equal(AMOUNT);
      expect(listing.price).to.equal(PRICE);
      expect(listing.itemsClaimed).to.equal(false);
      expect(listing.fundsClaimed).to.equal(false);
    });

    it("numbers listings from 1 and escrows each listing's units separately", async () => {
      const t = await networkHelpers.loadFixture(listedNative);
      const deadline = await deadlineFromNow();
      const second = await t.escrow
        .connect(t.seller)
        .list.staticCall(t.itemsAddress, SWORD, 2, PRICE, t.stablecoinAddress, deadline);
      expect(second).to.equal(2n);
      await t.escrow.connect(t.seller).list(t.itemsAddress, SWORD, 2, PRICE, t.stablecoinAddress, deadline);
      expect(await t.escrow.listingCount()).to.equal(2n);
      expect(await escrowedBalance(t, SWORD)).to.equal(AMOUNT + 2n);
      expect((await t.escrow.getListing(2n)).amount).to.equal(2n);
    });

    it("rejects a zero amount with InvalidListing('amount')", async () => {
      const t = await networkHelpers.loadFixture(base);
      const deadline = await deadlineFromNow();
      await expect(t.escrow.connect(t.seller).list(t.itemsAddress, SWORD, 0, PRICE, NATIVE, deadline))
        .to.be.revertedWithCustomError(t.escrow, "InvalidListing")
        .withArgs("amount");
    });

    it("rejects a zero price with InvalidListing('price')", async () => {
      const t = await networkHelpers.loadFixture(base);
      const deadline = await deadlineFromNow();
      await expect(t.escrow.connect(t.seller).list(t.itemsAddress, SWORD, 1, 0, NATIVE, deadline))
        .to.be.revertedWithCustomError(t.escrow, "InvalidListing")
        .withArgs("price");
    });

    it("accepts an amount and a price of 2^96 - 1 and rejects more with InvalidListing", async () => {
      const t = await networkHelpers.loadFixture(base);
      const max = 2n ** 96n - 1n;
      const deadline = await deadlineFromNow();
      await t.items.connect(t.studio).mint(t.seller.address, POTION, max, "0x");
      await expect(t.escrow.connect(t.seller).list(t.itemsAddress, POTION, max + 1n, PRICE, NATIVE, deadline))
        .to.be.revertedWithCustomError(t.escrow, "InvalidListing")
        .withArgs("amount");
      await expect(t.escrow.connect(t.seller).list(t.itemsAddress, POTION, 1, max + 1n, NATIVE, deadline))
        .to.be.revertedWithCustomError(t.escrow, "InvalidListing")
        .withArgs("price");
      await t.escrow.connect(t.seller).list(t.itemsAddress, POTION, max, max, t.stablecoinAddress, deadline);
      const listing = await t.escrow.getListing(1n);
      expect(listing.amount).to.equal(max);
      expect(listing.price).to.equal(max);
      expect(await escrowedBalance(t, POTION)).to.equal(max);
    });

    it("rejects a deadline that is not in the future or beyond 2^40 - 1 with InvalidListing('deadline')", async () => {
      const t = await networkHelpers.loadFixture(base);
      const now = BigInt(await time.latest());
      await time.setNextBlockTimestamp(now + 10n);
      await expect(t.escrow.connect(t.seller).list(t.itemsAddress, SWORD, 1, PRICE, NATIVE, now + 10n))
        .to.be.revertedWithCustomError(t.escrow, "InvalidListing")
        .withArgs("deadline");
      await expect(t.escrow.connect(t.seller).list(t.itemsAddress, SWORD, 1, PRICE, NATIVE, 2n ** 40n))
        .to.be.revertedWithCustomError(t.escrow, "InvalidListing")
        .withArgs("deadline");
      await time.setNextBlockTimestamp(now + 20n);
      await t.escrow.connect(t.seller).list(t.itemsAddress, SWORD, 1, PRICE, NATIVE, now + 21n);
      expect((await t.escrow.getListing(1n)).deadline).to.equal(now + 21n);
    });

    it("rejects a currency that is neither native nor a contract with InvalidListing('currency')", async () => {
      const t = await networkHelpers.loadFixture(base);
      const deadline = await deadlineFromNow();
      await expect(
        t.escrow.connect(t.seller).list(t.itemsAddress, SWORD, 1, PRICE, t.outsider.address, deadline),
      )
        .to.be.revertedWithCustomError(t.escrow, "InvalidListing")
        .withArgs("currency");
    });

    it("rejects a token off the allowlist with ItemTokenNotAllowed", async () => {
      const t = await networkHelpers.loadFixture(base);
      const deadline = await deadlineFromNow();
      for (const token of [t.stablecoinAddress, t.outsider.address]) {
        await expect(t.escrow.connect(t.seller).list(token, SWORD, 1, PRICE, NATIVE, deadline))
          .to.be.revertedWithCustomError(t.escrow, "ItemTokenNotAllowed")
          .withArgs(token);
      }
      expect(await t.escrow.listingCount()).to.equal(0n);
    });

    it("fails without the seller's approval and leaves no listing", async () => {
      const t = await networkHelpers.loadFixture(base);
      await t.items.connect(t.seller).setApprovalForAll(t.escrowAddress, false);
      const deadline = await deadlineFromNow();
      await expect(t.escrow.connect(t.seller).list(t.itemsAddress, SWORD, 1, PRICE, NATIVE, deadline))
        .to.be.revertedWithCustomError(t.items, "ERC1155MissingApprovalForAll")
        .withArgs(t.escrowAddress, t.seller.address);
      expect(await t.escrow.listingCount()).to.equal(0n);
    });

    it("fails when the seller lacks the units", async () => {
      const t = await networkHelpers.loadFixture(base);
      const deadline = await deadlineFromNow();
      await expect(
        t.escrow.connect(t.seller).list(t.itemsAddress, SWORD, STARTING_ITEMS + 1n, PRICE, NATIVE, deadline),
      ).to.be.revertedWithCustomError(t.items, "ERC1155InsufficientBalance");
    });

    it("cannot list the same units twice: a second listing needs units the seller no longer has", async () => {
      const t = await networkHelpers.loadFixture(base);
      const deadline = await deadlineFromNow();
      await t.escrow.connect(t.seller).list(t.itemsAddress, SHIELD, STARTING_ITEMS, PRICE, NATIVE, deadline);
      await expect(t.escrow.connect(t.seller).list(t.itemsAddress, SHIELD, 1, PRICE, NATIVE, deadline))
        .to.be.revertedWithCustomError(t.items, "ERC1155InsufficientBalance")
        .withArgs(t.seller.address, 0, 1, SHIELD);
      expect(await escrowedBalance(t, SHIELD)).to.equal(STARTING_ITEMS);
    });
  });

  describe("unsolicited ERC-1155 transfers", () => {
    it("refuses a direct transfer of items with UnsolicitedTransfer", async () => {
      const t = await networkHelpers.loadFixture(listedNative);
      await expect(
        t.items.connect(t.other).safeTransferFrom(t.other.address, t.escrowAddress, SWORD, 1, "0x"),
      )
        .to.be.revertedWithCustomError(t.escrow, "UnsolicitedTransfer")
        .withArgs(t.itemsAddress, t.other.address);
      expect(await escrowedBalance(t, SWORD)).to.equal(AMOUNT);
    });

    it("refuses a batch transfer with UnsolicitedTransfer", async () => {
      const t = await networkHelpers.loadFixture(base);
      await expect(
        t.items
          .connect(t.other)
          .safeBatchTransferFrom(t.other.address, t.escrowAddress, [SWORD, POTION], [1, 1], "0x"),
      )
        .to.be.revertedWithCustomError(t.escrow, "UnsolicitedTransfer")
        .withArgs(t.itemsAddress, t.other.address);
    });

    it("refuses items minted straight to the escrow with UnsolicitedTransfer", async () => {
      const t = await networkHelpers.loadFixture(base);
      await expect(t.items.connect(t.studio).mint(t.escrowAddress, SWORD, 1, "0x"))
        .to.be.revertedWithCustomError(t.escrow, "UnsolicitedTransfer")
        .withArgs(t.itemsAddress, t.studio.address);
      expect(await escrowedBalance(t, SWORD)).to.equal(0n);
    });

    it("refuses a forged receipt that names the escrow as operator", async () => {
      const t = await networkHelpers.loadFixture(base);
      await expect(
        t.escrow.connect(t.other).onERC1155Received(t.escrowAddress, t.other.address, SWORD, 1, "0x"),
      )
        .to.be.revertedWithCustomError(t.escrow, "UnsolicitedTransfer")
        .withArgs(t.other.address, t.escrowAddress);
    });
  });

  describe("cancel", () => {
    it("returns the items to the seller, marks the listing Cancelled and emits Cancelled", async () => {
      const t = await networkHelpers.loadFixture(listedNative);
      await expect(t.escrow.connect(t.seller).cancel(t.id))
        .to.emit(t.escrow, "Cancelled")
        .withArgs(t.id, t.seller.address)
        .and.to.emit(t.items, "TransferSingle")
        .withArgs(t.escrowAddress, t.escrowAddress, t.seller.address, SWORD, AMOUNT);
      expect(await t.items.balanceOf(t.seller.address, SWORD)).to.equal(STARTING_ITEMS);
      expect(await escrowedBalance(t, SWORD)).to.equal(0n);
      const listing = await t.escrow.getListing(t.id);
      expect(listing.state).to.equal(State.Cancelled);
      expect(listing.itemsClaimed).to.equal(true);
    });

    it("lets the seller cancel after the deadline while the listing is unsold", async () => {
      const t = await networkHelpers.loadFixture(listedNative);
      await time.increaseTo(t.deadline + 1n);
      await t.escrow.connect(t.seller).cancel(t.id);
      expect((await t.escrow.getListing(t.id)).state).to.equal(State.Cancelled);
    });

    it("rejects anyone but the seller with NotSeller", async () => {
      const t = await networkHelpers.loadFixture(listedNative);
      await expect(t.escrow.connect(t.other).cancel(t.id))
        .to.be.revertedWithCustomError(t.escrow, "NotSeller")
        .withArgs(t.id, t.other.address);
    });

    it("rejects a paid listing with InvalidState", async () => {
      const t = await networkHelpers.loadFixture(paidNative);
      await expect(t.escrow.connect(t.seller).cancel(t.id))
        .to.be.revertedWithCustomError(t.escrow, "InvalidState")
        .withArgs(t.id, State.Paid);
    });

    it("rejects a second cancel with InvalidState", async () => {
      const t = await networkHelpers.loadFixture(listedNative);
      await t.escrow.connect(t.seller).cancel(t.id);
      await expect(t.escrow.connect(t.seller).cancel(t.id))
        .to.be.revertedWithCustomError(t.escrow, "InvalidState")
        .withArgs(t.id, State.Cancelled);
    });

    it("rejects an unknown listing with UnknownListing", async () => {
      const t = await networkHelpers.loadFixture(listedNative);
      for (const id of [0n, 2n]) {
        await expect(t.escrow.connect(t.seller).cancel(id))
          .to.be.revertedWithCustomError(t.escrow, "UnknownListing")
          .withArgs(id);
      }
    });
  });

  describe("reclaim", () => {
    it("lets anyone return unsold items to the seller after the deadline and emits Expired", async () => {
      const t = await networkHelpers.loadFixture(listedNative);
      await time.increaseTo(t.deadline + 1n);
      await expect(t.escrow.connect(t.other).reclaim(t.id))
        .to.emit(t.escrow, "Expired")
        .withArgs(t.id, t.seller.address)
        .and.to.emit(t.items, "TransferSingle")
        .withArgs(t.escrowAddress, t.escrowAddress, t.seller.address, SWORD, AMOUNT);
      expect(await t.items.balanceOf(t.seller.address, SWORD)).to.equal(STARTING_ITEMS);
      expect(await t.items.balanceOf(t.other.address, SWORD)).to.equal(STARTING_ITEMS);
      expect((await t.escrow.getListing(t.id)).state).to.equal(State.Expired);
    });

    it("rejects a reclaim at the deadline itself with DeadlineNotReached", async () => {
      const t = await networkHelpers.loadFixture(listedNative);
      await time.setNextBlockTimestamp(t.deadline);
      await expect(t.escrow.connect(t.other).reclaim(t.id))
        .to.be.revertedWithCustomError(t.escrow, "DeadlineNotReached")
        .withArgs(t.id, t.deadline);
    });

    it("rejects a paid listing with InvalidState even after the deadline", async () => {
      const t = await networkHelpers.loadFixture(paidNative);
      await time.increaseTo(t.deadline + 1n);
      await expect(t.escrow.connect(t.other).reclaim(t.id))
        .to.be.revertedWithCustomError(t.escrow, "InvalidState")
        .withArgs(t.id, State.Paid);
    });

    it("rejects an unknown listing with UnknownListing", async () => {
      const t = await networkHelpers.loadFixture(listedNative);
      await expect(t.escrow.reclaim(9n))
        .to.be.revertedWithCustomError(t.escrow, "UnknownListing")
        .withArgs(9n);
    });
  });

  describe("buy", () => {
    it("takes the exact native price into escrow, records the buyer and window, and emits Bought", async () => {
      const t = await networkHelpers.loadFixture(listedNative);
      const paidAt = BigInt(await time.latest()) + 5n;
      await time.setNextBlockTimestamp(paidAt);
      const confirmBy = paidAt + BigInt(CONFIRMATION_WINDOW);
      const purchase = t.escrow.connect(t.buyer).buy(t.id, { value: PRICE });
      await expect(purchase).to.emit(t.escrow, "Bought").withArgs(t.id, t.buyer.address, confirmBy);
      await expect(purchase).to.changeEtherBalances(ethers, [t.buyer, t.escrowAddress], [-PRICE, PRICE]);
      const listing = await t.escrow.getListing(t.id);
      expect(listing.state).to.equal(State.Paid);
      expect(listing.buyer).to.equal(t.buyer.address);
      expect(listing.confirmBy).to.equal(confirmBy);
      expect(listing.commissionBps).to.equal(COMMISSION_BPS);
      expect(await escrowedBalance(t, SWORD)).to.equal(AMOUNT);
    });

    it("pulls the exact ERC-20 price into escrow", async () => {
      const t = await networkHelpers.loadFixture(listedErc20);
      const purchase = t.escrow.connect(t.buyer).buy(t.id);
      await expect(purchase).to.emit(t.escrow, "Bought");
      await expect(purchase).to.changeTokenBalances(
        ethers,
        t.stablecoin,
        [t.buyer, t.escrowAddress],
        [-USD_PRICE, USD_PRICE],
      );
      expect((await t.escrow.getListing(t.id)).state).to.equal(State.Paid);
    });

    it("rejects a native payment that is short or over with WrongPayment", async () => {
      const t = await networkHelpers.loadFixture(listedNative);
      await expect(t.escrow.connect(t.buyer).buy(t.id, { value: PRICE - 1n }))
        .to.be.revertedWithCustomError(t.escrow, "WrongPayment")
        .withArgs(PRICE, PRICE - 1n);
      await expect(t.escrow.connect(t.buyer).buy(t.id, { value: PRICE + 1n }))
        .to.be.revertedWithCustomError(t.escrow, "WrongPayment")
        .withArgs(PRICE, PRICE + 1n);
      expect((await t.escrow.getListing(t.id)).state).to.equal(State.Listed);
    });

    it("rejects native currency sent for an ERC-20 listing with UnexpectedNativePayment", async () => {
      const t = await networkHelpers.loadFixture(listedErc20);
      await expect(t.escrow.connect(t.buyer).buy(t.id, { value: 1n }))
        .to.be.revertedWithCustomError(t.escrow, "UnexpectedNativePayment")
        .withArgs(1n);
    });

    it("fails an ERC-20 purchase without allowance", async () => {
      const t = await networkHelpers.loadFixture(listedErc20);
      await t.stablecoin.connect(t.buyer).approve(t.escrowAddress, USD_PRICE - 1n);
      await expect(t.escrow.connect(t.buyer).buy(t.id))
        .to.be.revertedWithCustomError(t.stablecoin, "ERC20InsufficientAllowance")
        .withArgs(t.escrowAddress, USD_PRICE - 1n, USD_PRICE);
      expect((await t.escrow.getListing(t.id)).state).to.equal(State.Listed);
    });

    it("rejects a currency that delivers less than the price with WrongPayment", async () => {
      const t = await networkHelpers.loadFixture(base);
      const feeToken = await new FeeOnTransferToken__factory(t.admin).deploy();
      const deadline = await deadlineFromNow();
      await t.escrow
        .connect(t.seller)
        .list(t.itemsAddress, SWORD, 1, 10_000n, await feeToken.getAddress(), deadline);
      await feeToken.mint(t.buyer.address, 10_000n);
      await feeToken.connect(t.buyer).approve(t.escrowAddress, 10_000n);
      await expect(t.escrow.connect(t.buyer).buy(1n))
        .to.be.revertedWithCustomError(t.escrow, "WrongPayment")
        .withArgs(10_000n, 9_900n);
    });

    it("accepts a purchase at the deadline itself", async () => {
      const t = await networkHelpers.loadFixture(listedNative);
      await time.setNextBlockTimestamp(t.deadline);
      await t.escrow.connect(t.buyer).buy(t.id, { value: PRICE });
      expect((await t.escrow.getListing(t.id)).state).to.equal(State.Paid);
    });

    it("rejects a purchase after the deadline with DeadlinePassed", async () => {
      const t = await networkHelpers.loadFixture(listedNative);
      await time.setNextBlockTimestamp(t.deadline + 1n);
      await expect(t.escrow.connect(t.buyer).buy(t.id, { value: PRICE }))
        .to.be.revertedWithCustomError(t.escrow, "DeadlinePassed")
        .withArgs(t.id, t.deadline);
    });

    it("rejects the seller buying their own listing with SellerCannotBuy", async () => {
      const t = await networkHelpers.loadFixture(listedNative);
      await expect(t.escrow.connect(t.seller).buy(t.id, { value: PRICE }))
        .to.be.revertedWithCustomError(t.escrow, "SellerCannotBuy")
        .withArgs(t.id);
    });

    it("rejects a second purchase with InvalidState", async () => {
      const t = await networkHelpers.loadFixture(paidNative);
      await expect(t.escrow.connect(t.other).buy(t.id, { value: PRICE }))
        .to.be.revertedWithCustomError(t.escrow, "InvalidState")
        .withArgs(t.id, State.Paid);
    });

    it("rejects a cancelled listing with InvalidState", async () => {
      const t = await networkHelpers.loadFixture(listedNative);
      await t.escrow.connect(t.seller).cancel(t.id);
      await expect(t.escrow.connect(t.buyer).buy(t.id, { value: PRICE }))
        .to.be.revertedWithCustomError(t.escrow, "InvalidState")
        .withArgs(t.id, State.Cancelled);
    });

    it("rejects an unknown listing with UnknownListing", async () => {
      const t = await networkHelpers.loadFixture(listedNative);
      await expect(t.escrow.connect(t.buyer).buy(2n, { value: PRICE }))
        .to.be.revertedWithCustomError(t.escrow, "UnknownListing")
        .withArgs(2n);
    });
  });

  describe("confirm", () => {
    it("completes the sale without moving anything, credits the treasury's commission and emits Completed", async () => {
      const t = await networkHelpers.loadFixture(paidNative);
      const { commission, proceeds } = splitPrice(PRICE);
      const confirmation = t.escrow.connect(t.buyer).confirm(t.id);
      await expect(confirmation)
        .to.emit(t.escrow, "Completed")
        .withArgs(t.id, t.seller.address, t.buyer.address, proceeds, commission, false)
        .and.not.to.emit(t.items, "TransferSingle");
      await expect(confirmation).to.changeEtherBalances(ethers, [t.escrowAddress, t.seller], [0n, 0n]);
      expect(commission).to.equal(ethers.parseEther("0.025"));
      expect(await escrowedBalance(t, SWORD)).to.equal(AMOUNT);
      expect(await t.escrow.owed(t.treasury.address, NATIVE)).to.equal(commission);
      expect(await t.escrow.owed(t.seller.address, NATIVE)).to.equal(0n);
      const listing = await t.escrow.getListing(t.id);
      expect(listing.state).to.equal(State.Completed);
      expect(listing.itemsClaimed).to.equal(false);
      expect(listing.fundsClaimed).to.equal(false);
    });

    it("credits an ERC-20 commission in the listing's currency", async () => {
      const t = await networkHelpers.loadFixture(paidErc20);
      const { commission, proceeds } = splitPrice(USD_PRICE);
      await expect(t.escrow.connect(t.buyer).confirm(t.id))
        .to.emit(t.escrow, "Completed")
        .withArgs(t.id, t.seller.address, t.buyer.address, proceeds, commission, false);
      expect(await t.escrow.owed(t.treasury.address, t.stablecoinAddress)).to.equal(commission);
      expect(await t.escrow.owed(t.treasury.address, NATIVE)).to.equal(0n);
    });

    it("lets the buyer confirm after the window lapsed if nobody settled", async () => {
      const t = await networkHelpers.loadFixture(paidNative);
      await time.increaseTo(t.confirmBy + 1n);
      const { commission, proceeds } = splitPrice(PRICE);
      await expect(t.escrow.connect(t.buyer).confirm(t.id))
        .to.emit(t.escrow, "Completed")
        .withArgs(t.id, t.seller.address, t.buyer.address, proceeds, commission, false);
    });

    it("rejects anyone but the buyer with NotBuyer", async () => {
      const t = await networkHelpers.loadFixture(paidNative);
      for (const caller of [t.seller, t.other]) {
        await expect(t.escrow.connect(caller).confirm(t.id))
          .to.be.revertedWithCustomError(t.escrow, "NotBuyer")
          .withArgs(t.id, caller.address);
      }
    });

    it("rejects an unpaid listing with InvalidState", async () => {
      const t = await networkHelpers.loadFixture(listedNative);
      await expect(t.escrow.connect(t.buyer).confirm(t.id))
        .to.be.revertedWithCustomError(t.escrow, "InvalidState")
        .withArgs(t.id, State.Listed);
    });

    it("rejects a second confirmation with InvalidState and credits nothing more", async () => {
      const t = await networkHelpers.loadFixture(completedNative);
      await expect(t.escrow.connect(t.buyer).confirm(t.id))
        .to.be.revertedWithCustomError(t.escrow, "InvalidState")
        .withArgs(t.id, State.Completed);
      expect(await t.escrow.owed(t.treasury.address, NATIVE)).to.equal(splitPrice(PRICE).commission);
    });

    it("rejects a disputed listing with InvalidState", async () => {
      const t = await networkHelpers.loadFixture(disputedNative);
      await expect(t.escrow.connect(t.buyer).confirm(t.id))
        .to.be.revertedWithCustomError(t.escrow, "InvalidState")
        .withArgs(t.id, State.Disputed);
    });

    it("rejects an unknown listing with UnknownListing", async () => {
      const t = await networkHelpers.loadFixture(paidNative);
      await expect(t.escrow.connect(t.buyer).confirm(0n))
        .to.be.revertedWithCustomError(t.escrow, "UnknownListing")
        .withArgs(0n);
    });

    it("credits no treasury entry when the listing's commission is zero", async () => {
      const t = await networkHelpers.loadFixture(base);
      await t.escrow.connect(t.admin).setCommission(0);
      const deadline = await deadlineFromNow();
      await t.escrow.connect(t.seller).list(t.itemsAddress, SWORD, 1, PRICE, NATIVE, deadline);
      await t.escrow.connect(t.buyer).buy(1n, { value: PRICE });
      await expect(t.escrow.connect(t.buyer).confirm(1n))
        .to.emit(t.escrow, "Completed")
        .withArgs(1n, t.seller.address, t.buyer.address, PRICE, 0n, false);
      expect(await t.escrow.owed(t.treasury.address, NATIVE)).to.equal(0n);
    });

    it("rounds the commission down, in the seller's favour", async () => {
      const t = await networkHelpers.loadFixture(base);
      const deadline = await deadlineFromNow();
      await t.escrow.connect(t.seller).list(t.itemsAddress, SWORD, 1, 39n, NATIVE, deadline);
      await t.escrow.connect(t.buyer).buy(1n, { value: 39n });
      await expect(t.escrow.connect(t.buyer).confirm(1n))
        .to.emit(t.escrow, "Completed")
        .withArgs(1n, t.seller.address, t.buyer.address, 39n, 0n, false);
    });
  });

  describe("dispute", () => {
    it("marks the listing Disputed, starts the arbiter's time and emits Disputed", async () => {
      const t = await networkHelpers.loadFixture(paidNative);
      const at = BigInt(await time.latest()) + 10n;
      await time.setNextBlockTimestamp(at);
      const resolveBy = at + BigInt(DISPUTE_WINDOW);
      await expect(t.escrow.connect(t.buyer).dispute(t.id))
        .to.emit(t.escrow, "Disputed")
        .withArgs(t.id, t.buyer.address, resolveBy);
      const listing = await t.escrow.getListing(t.id);
      expect(listing.state).to.equal(State.Disputed);
      expect(listing.resolveBy).to.equal(resolveBy);
      expect(listing.confirmBy).to.equal(t.confirmBy);
      expect(await escrowedBalance(t, SWORD)).to.equal(AMOUNT);
    });

    it("accepts a dispute at the end of the window itself", async () => {
      const t = await networkHelpers.loadFixture(paidNative);
      await time.setNextBlockTimestamp(t.confirmBy);
      await t.escrow.connect(t.buyer).dispute(t.id);
      expect((await t.escrow.getListing(t.id)).state).to.equal(State.Disputed);
    });

    it("rejects a dispute after the window with WindowClosed", async () => {
      const t = await networkHelpers.loadFixture(paidNative);
      await time.setNextBlockTimestamp(t.confirmBy + 1n);
      await expect(t.escrow.connect(t.buyer).dispute(t.id))
        .to.be.revertedWithCustomError(t.escrow, "WindowClosed")
        .withArgs(t.id, t.confirmBy);
    });

    it("rejects anyone but the buyer with NotBuyer", async () => {
      const t = await networkHelpers.loadFixture(paidNative);
      await expect(t.escrow.connect(t.seller).dispute(t.id))
        .to.be.revertedWithCustomError(t.escrow, "NotBuyer")
        .withArgs(t.id, t.seller.address);
    });

    it("rejects an unpaid or already disputed listing with InvalidState", async () => {
      const listed = await networkHelpers.loadFixture(listedNative);
      await expect(listed.escrow.connect(listed.buyer).dispute(listed.id))
        .to.be.revertedWithCustomError(listed.escrow, "InvalidState")
        .withArgs(listed.id, State.Listed);
      const disputed = await networkHelpers.loadFixture(disputedNative);
      await expect(disputed.escrow.connect(disputed.buyer).dispute(disputed.id))
        .to.be.revertedWithCustomError(disputed.escrow, "InvalidState")
        .withArgs(disputed.id, State.Disputed);
    });

    it("rejects an unknown listing with UnknownListing", async () => {
      const t = await networkHelpers.loadFixture(paidNative);
      await expect(t.escrow.connect(t.buyer).dispute(3n))
        .to.be.revertedWithCustomError(t.escrow, "UnknownListing")
        .withArgs(3n);
    });
  });

  describe("settle", () => {
    it("lets anyone complete the trade after the window, with settled = true", async () => {
      const t = await networkHelpers.loadFixture(paidNative);
      const { commission, proceeds } = splitPrice(PRICE);
      await time.increaseTo(t.confirmBy + 1n);
      await expect(t.escrow.connect(t.other).settle(t.id))
        .to.emit(t.escrow, "Completed")
        .withArgs(t.id, t.seller.address, t.buyer.address, proceeds, commission, true)
        .and.not.to.emit(t.items, "TransferSingle");
      expect(await t.escrow.owed(t.treasury.address, NATIVE)).to.equal(commission);
      expect(await t.escrow.owed(t.other.address, NATIVE)).to.equal(0n);
      expect((await t.escrow.getListing(t.id)).state).to.equal(State.Completed);
    });

    it("rejects a settlement at the end of the window itself with WindowOpen", async () => {
      const t = await networkHelpers.loadFixture(paidNative);
      await time.setNextBlockTimestamp(t.confirmBy);
      await expect(t.escrow.connect(t.other).settle(t.id))
        .to.be.revertedWithCustomError(t.escrow, "WindowOpen")
        .withArgs(t.id, t.confirmBy);
    });

    it("rejects a disputed listing with InvalidState even after the window", async () => {
      const t = await networkHelpers.loadFixture(disputedNative);
      await time.increaseTo(t.confirmBy + 1n);
      await expect(t.escrow.connect(t.seller).settle(t.id))
        .to.be.revertedWithCustomError(t.escrow, "InvalidState")
        .withArgs(t.id, State.Disputed);
    });

    it("rejects an unpaid listing with InvalidState", async () => {
      const t = await networkHelpers.loadFixture(listedNative);
      await expect(t.escrow.connect(t.seller).settle(t.id))
        .to.be.revertedWithCustomError(t.escrow, "InvalidState")
        .withArgs(t.id, State.Listed);
    });

    it("rejects an unknown listing with UnknownListing", async () => {
      const t = await networkHelpers.loadFixture(paidNative);
      await expect(t.escrow.settle(5n))
        .to.be.revertedWithCustomError(t.escrow, "UnknownListing")
        .withArgs(5n);
    });
  });

  describe("claimItems", () => {
    it("sends a completed trade's items to the buyer once and emits ItemsClaimed", async () => {
      const t = await networkHelpers.loadFixture(completedNative);
      await expect(t.escrow.connect(t.buyer).claimItems(t.id))
        .to.emit(t.escrow, "ItemsClaimed")
        .withArgs(t.id, t.buyer.address)
        .and.to.emit(t.items, "TransferSingle")
        .withArgs(t.escrowAddress, t.escrowAddress, t.buyer.address, SWORD, AMOUNT);
      expect(await t.items.balanceOf(t.buyer.address, SWORD)).to.equal(STARTING_ITEMS + AMOUNT);
      expect(await escrowedBalance(t, SWORD)).to.equal(0n);
      expect((await t.escrow.getListing(t.id)).itemsClaimed).to.equal(true);
      await expect(t.escrow.connect(t.buyer).claimItems(t.id))
        .to.be.revertedWithCustomError(t.escrow, "ItemsAlreadyClaimed")
        .withArgs(t.id);
    });

    it("sends a refunded trade's items back to the seller", async () => {
      const t = await networkHelpers.loadFixture(refundedNative);
      await expect(t.escrow.connect(t.seller).claimItems(t.id))
        .to.emit(t.escrow, "ItemsClaimed")
        .withArgs(t.id, t.seller.address);
      expect(await t.items.balanceOf(t.seller.address, SWORD)).to.equal(STARTING_ITEMS);
      expect(await escrowedBalance(t, SWORD)).to.equal(0n);
    });

    it("rejects anyone but the party entitled to the items with NotClaimant", async () => {
      const completed = await networkHelpers.loadFixture(completedNative);
      for (const caller of [completed.seller, completed.other]) {
        await expect(completed.escrow.connect(caller).claimItems(completed.id))
          .to.be.revertedWithCustomError(completed.escrow, "NotClaimant")
          .withArgs(completed.id, caller.address, completed.buyer.address);
      }
      const refunded = await networkHelpers.loadFixture(refundedNative);
      await expect(refunded.escrow.connect(refunded.buyer).claimItems(refunded.id))
        .to.be.revertedWithCustomError(refunded.escrow, "NotClaimant")
        .withArgs(refunded.id, refunded.buyer.address, refunded.seller.address);
    });

    it("rejects a trade that has not ended, or ended without a buyer, with InvalidState", async () => {
      const t = await networkHelpers.loadFixture(disputedNative);
      await expect(t.escrow.connect(t.buyer).claimItems(t.id))
        .to.be.revertedWithCustomError(t.escrow, "InvalidState")
        .withArgs(t.id, State.Disputed);
      const listed = await networkHelpers.loadFixture(listedNative);
      await listed.escrow.connect(listed.seller).cancel(listed.id);
      await expect(listed.escrow.connect(listed.seller).claimItems(listed.id))
        .to.be.revertedWithCustomError(listed.escrow, "InvalidState")
        .withArgs(listed.id, State.Cancelled);
      await expect(listed.escrow.claimItems(7n))
        .to.be.revertedWithCustomError(listed.escrow, "UnknownListing")
        .withArgs(7n);
    });
  });

  describe("claimFunds", () => {
    it("pays a completed trade's native proceeds to the seller once and emits FundsClaimed", async () => {
      const t = await networkHelpers.loadFixture(completedNative);
      const { proceeds } = splitPrice(PRICE);
      expect(await t.escrow.connect(t.seller).claimFunds.staticCall(t.id)).to.equal(proceeds);
      const claim = t.escrow.connect(t.seller).claimFunds(t.id);
      await expect(claim)
        .to.emit(t.escrow, "FundsClaimed")
        .withArgs(t.id, t.seller.address, NATIVE, proceeds);
      await expect(claim).to.changeEtherBalances(ethers, [t.seller, t.escrowAddress], [proceeds, -proceeds]);
      expect((await t.escrow.getListing(t.id)).fundsClaimed).to.equal(true);
      await expect(t.escrow.connect(t.seller).claimFunds(t.id))
        .to.be.revertedWithCustomError(t.escrow, "FundsAlreadyClaimed")
        .withArgs(t.id);
    });

    it("pays ERC-20 proceeds less the commission fixed at listing", async () => {
      const t = await networkHelpers.loadFixture(paidErc20);
      await t.escrow.connect(t.admin).setCommission(1500);
      await t.escrow.connect(t.buyer).confirm(t.id);
      const { proceeds } = splitPrice(USD_PRICE, COMMISSION_BPS);
      await expect(t.escrow.connect(t.seller).claimFunds(t.id)).to.changeTokenBalances(
        ethers,
        t.stablecoin,
        [t.seller, t.escrowAddress],
        [proceeds, -proceeds],
      );
    });

    it("pays a refunded trade's full price back to the buyer", async () => {
      const t = await networkHelpers.loadFixture(refundedNative);
      const claim = t.escrow.connect(t.buyer).claimFunds(t.id);
      await expect(claim).to.emit(t.escrow, "FundsClaimed").withArgs(t.id, t.buyer.address, NATIVE, PRICE);
      await expect(claim).to.changeEtherBalances(ethers, [t.buyer, t.escrowAddress], [PRICE, -PRICE]);
      expect(await t.escrow.owed(t.treasury.address, NATIVE)).to.equal(0n);
    });

    it("rejects anyone but the party entitled to the money with NotClaimant", async () => {
      const completed = await networkHelpers.loadFixture(completedNative);
      await expect(completed.escrow.connect(completed.buyer).claimFunds(completed.id))
        .to.be.revertedWithCustomError(completed.escrow, "NotClaimant")
        .withArgs(completed.id, completed.buyer.address, completed.seller.address);
      const refunded = await networkHelpers.loadFixture(refundedNative);
      await expect(refunded.escrow.connect(refunded.seller).claimFunds(refunded.id))
        .to.be.revertedWithCustomError(refunded.escrow, "NotClaimant")
        .withArgs(refunded.id, refunded.seller.address, refunded.buyer.address);
    });

    it("rejects a paid trade with InvalidState", async () => {
      const t = await networkHelpers.loadFixture(paidNative);
      await expect(t.escrow.connect(t.seller).claimFunds(t.id))
        .to.be.revertedWithCustomError(t.escrow, "InvalidState")
        .withArgs(t.id, State.Paid);
    });

    it("keeps the money claimable when the claimant refuses native currency", async () => {
      const t = await networkHelpers.loadFixture(traderSoldListingThree);
      await t.escrow.connect(t.buyer).confirm(3n);
      const { proceeds } = splitPrice(PRICE);
      await t.trader.arm(Hook.RefuseNative, ethers.ZeroAddress, "0x");
      await expect(traderCall(t, "claimFunds", 3n))
        .to.be.revertedWithCustomError(t.escrow, "NativeTransferFailed")
        .withArgs(t.traderAddress, proceeds);
      expect((await t.escrow.getListing(3n)).fundsClaimed).to.equal(false);
      await t.trader.arm(Hook.None, ethers.ZeroAddress, "0x");
      await expect(traderCall(t, "claimFunds", 3n)).to.changeEtherBalances(ethers, [t.trader], [proceeds]);
    });
  });

  describe("resolve", () => {
    it("refunds the buyer without moving anything, emitting Refunded", async () => {
      const t = await networkHelpers.loadFixture(disputedNative);
      const resolution = t.escrow.connect(t.arbiter).resolve(t.id, true);
      await expect(resolution)
        .to.emit(t.escrow, "Refunded")
        .withArgs(t.id, t.buyer.address, t.arbiter.address)
        .and.not.to.emit(t.items, "TransferSingle");
      await expect(resolution).to.changeEtherBalances(ethers, [t.escrowAddress], [0n]);
      expect((await t.escrow.getListing(t.id)).state).to.equal(State.Refunded);
      expect(await escrowedBalance(t, SWORD)).to.equal(AMOUNT);
      expect(await t.escrow.owed(t.treasury.address, NATIVE)).to.equal(0n);
    });

    it("refunds an ERC-20 buyer in full", async () => {
      const t = await networkHelpers.loadFixture(disputedErc20);
      await t.escrow.connect(t.arbiter).resolve(t.id, true);
      await expect(t.escrow.connect(t.buyer).claimFunds(t.id)).to.changeTokenBalances(
        ethers,
        t.stablecoin,
        [t.buyer, t.escrowAddress],
        [USD_PRICE, -USD_PRICE],
      );
      await t.escrow.connect(t.seller).claimItems(t.id);
      expect(await t.items.balanceOf(t.seller.address, POTION)).to.equal(STARTING_ITEMS);
    });

    it("completes the sale when the dispute is rejected, emitting DisputeRejected then Completed", async () => {
      const t = await networkHelpers.loadFixture(disputedNative);
      const { commission, proceeds } = splitPrice(PRICE);
      await expect(t.escrow.connect(t.arbiter).resolve(t.id, false))
        .to.emit(t.escrow, "DisputeRejected")
        .withArgs(t.id, t.arbiter.address)
        .and.to.emit(t.escrow, "Completed")
        .withArgs(t.id, t.seller.address, t.buyer.address, proceeds, commission, false);
      expect((await t.escrow.getListing(t.id)).state).to.equal(State.Completed);
      expect(await t.escrow.owed(t.treasury.address, NATIVE)).to.equal(commission);
    });

    it("resolves a dispute raised in time after the confirmation window closed, up to its deadline", async () => {
      const t = await networkHelpers.loadFixture(disputedNative);
      await time.setNextBlockTimestamp(t.resolveBy);
      await t.escrow.connect(t.arbiter).resolve(t.id, true);
      expect((await t.escrow.getListing(t.id)).state).to.equal(State.Refunded);
    });

    it("rejects a resolution after the dispute's deadline with ResolutionClosed", async () => {
      const t = await networkHelpers.loadFixture(disputedNative);
      await time.setNextBlockTimestamp(t.resolveBy + 1n);
      await expect(t.escrow.connect(t.arbiter).resolve(t.id, false))
        .to.be.revertedWithCustomError(t.escrow, "ResolutionClosed")
        .withArgs(t.id, t.resolveBy);
    });

    it("rejects anyone but the listing's arbiter with NotArbiter", async () => {
      const t = await networkHelpers.loadFixture(disputedNative);
      for (const caller of [t.admin, t.buyer, t.seller]) {
        await expect(t.escrow.connect(caller).resolve(t.id, true))
          .to.be.revertedWithCustomError(t.escrow, "NotArbiter")
          .withArgs(t.id, caller.address);
      }
    });

    it("rejects an undisputed or already resolved listing with InvalidState", async () => {
      const paid = await networkHelpers.loadFixture(paidNative);
      await expect(paid.escrow.connect(paid.arbiter).resolve(paid.id, true))
        .to.be.revertedWithCustomError(paid.escrow, "InvalidState")
        .withArgs(paid.id, State.Paid);
      const t = await networkHelpers.loadFixture(refundedNative);
      await expect(t.escrow.connect(t.arbiter).resolve(t.id, false))
        .to.be.revertedWithCustomError(t.escrow, "InvalidState")
        .withArgs(t.id, State.Refunded);
    });

    it("rejects an unknown listing with UnknownListing", async () => {
      const t = await networkHelpers.loadFixture(disputedNative);
      await expect(t.escrow.connect(t.arbiter).resolve(4n, false))
        .to.be.revertedWithCustomError(t.escrow, "UnknownListing")
        .withArgs(4n);
    });
  });

  describe("unwind", () => {
    it("lets anyone refund a dispute the arbiter left past its deadline, emitting Refunded with no arbiter", async () => {
      const t = await networkHelpers.loadFixture(disputedNative);
      await time.setNextBlockTimestamp(t.resolveBy + 1n);
      await expect(t.escrow.connect(t.other).unwind(t.id))
        .to.emit(t.escrow, "Refunded")
        .withArgs(t.id, t.buyer.address, ethers.ZeroAddress);
      expect((await t.escrow.getListing(t.id)).state).to.equal(State.Refunded);
      await expect(t.escrow.connect(t.buyer).claimFunds(t.id)).to.changeEtherBalances(
        ethers,
        [t.buyer],
        [PRICE],
      );
      await t.escrow.connect(t.seller).claimItems(t.id);
      expect(await t.items.balanceOf(t.seller.address, SWORD)).to.equal(STARTING_ITEMS);
    });

    it("rejects an unwind while the arbiter still has time with ResolutionOpen", async () => {
      const t = await networkHelpers.loadFixture(disputedNative);
      await time.setNextBlockTimestamp(t.resolveBy);
      await expect(t.escrow.connect(t.other).unwind(t.id))
        .to.be.revertedWithCustomError(t.escrow, "ResolutionOpen")
        .withArgs(t.id, t.resolveBy);
    });

    it("rejects a listing that is not disputed with InvalidState", async () => {
      const t = await networkHelpers.loadFixture(paidNative);
      await time.increaseTo(t.confirmBy + BigInt(DISPUTE_WINDOW) + 1n);
      await expect(t.escrow.unwind(t.id))
        .to.be.revertedWithCustomError(t.escrow, "InvalidState")
        .withArgs(t.id, State.Paid);
    });
  });

  describe("arbiters", () => {
    it("lets the admin hand one dispute to another arbiter, who alone may then resolve it", async () => {
      const t = await networkHelpers.loadFixture(disputedNative);
      await expect(t.escrow.connect(t.admin).assignArbiter(t.id, t.outsider.address))
        .to.emit(t.escrow, "ArbiterAssigned")
        .withArgs(t.id, t.outsider.address);
      expect((await t.escrow.getListing(t.id)).arbiter).to.equal(t.outsider.address);
      await expect(t.escrow.connect(t.arbiter).resolve(t.id, true))
        .to.be.revertedWithCustomError(t.escrow, "NotArbiter")
        .withArgs(t.id, t.arbiter.address);
      await t.escrow.connect(t.outsider).resolve(t.id, false);
      expect((await t.escrow.getListing(t.id)).state).to.equal(State.Completed);
    });

    it("keeps the dispute's deadline when its arbiter is reassigned", async () => {
      const t = await networkHelpers.loadFixture(disputedNative);
      await time.increaseTo(t.resolveBy - 10n);
      await t.escrow.connect(t.admin).assignArbiter(t.id, t.outsider.address);
      expect((await t.escrow.getListing(t.id)).resolveBy).to.equal(t.resolveBy);
    });

    it("sends disputes without an arbiter of their own to a new default arbiter", async () => {
      const t = await networkHelpers.loadFixture(disputedNative);
      await expect(t.escrow.connect(t.admin).setArbiter(t.outsider.address))
        .to.emit(t.escrow, "ArbiterSet")
        .withArgs(t.outsider.address);
      await t.escrow.connect(t.outsider).resolve(t.id, true);
      expect((await t.escrow.getListing(t.id)).state).to.equal(State.Refunded);
    });

    it("rejects reassigning a listing that is not disputed, a zero arbiter, and callers without the admin role", async () => {
      const t = await networkHelpers.loadFixture(disputedNative);
      await expect(t.escrow.connect(t.admin).assignArbiter(t.id, ethers.ZeroAddress))
        .to.be.revertedWithCustomError(t.escrow, "InvalidArbiter")
        .withArgs(ethers.ZeroAddress);
      await expect(t.escrow.connect(t.admin).assignArbiter(2n, t.outsider.address))
        .to.be.revertedWithCustomError(t.escrow, "UnknownListing")
        .withArgs(2n);
      await expect(t.escrow.connect(t.admin).setArbiter(ethers.ZeroAddress))
        .to.be.revertedWithCustomError(t.escrow, "InvalidArbiter")
        .withArgs(ethers.ZeroAddress);
      const role = await t.escrow.DEFAULT_ADMIN_ROLE();
      for (const attempt of [
        t.escrow.connect(t.arbiter).assignArbiter(t.id, t.arbiter.address),
        t.escrow.connect(t.arbiter).setArbiter(t.arbiter.address),
      ]) {
        await expect(attempt)
          .to.be.revertedWithCustomError(t.escrow, "AccessControlUnauthorizedAccount")
          .withArgs(t.arbiter.address, role);
      }
      const paid = await networkHelpers.loadFixture(paidNative);
      await expect(paid.escrow.connect(paid.admin).assignArbiter(paid.id, paid.outsider.address))
        .to.be.revertedWithCustomError(paid.escrow, "InvalidState")
        .withArgs(paid.id, State.Paid);
    });
  });

  describe("withdraw", () => {
    it("pays the treasury's native and ERC-20 commissions, emitting Withdrawn", async () => {
      const t = await networkHelpers.loadFixture(completedNative);
      const { commission } = splitPrice(PRICE);
      expect(await t.escrow.connect(t.treasury).withdraw.staticCall(NATIVE)).to.equal(commission);
      const pull = t.escrow.connect(t.treasury).withdraw(NATIVE);
      await expect(pull).to.emit(t.escrow, "Withdrawn").withArgs(t.treasury.address, NATIVE, commission);
      await expect(pull).to.changeEtherBalances(
        ethers,
        [t.treasury, t.escrowAddress],
        [commission, -commission],
      );
      expect(await t.escrow.owed(t.treasury.address, NATIVE)).to.equal(0n);
    });

    it("accumulates commissions across trades into one withdrawal", async () => {
      const t = await networkHelpers.loadFixture(completedNative);
      const deadline = await deadlineFromNow();
      await t.escrow.connect(t.seller).list(t.itemsAddress, SHIELD, 1, PRICE, NATIVE, deadline);
      await t.escrow.connect(t.other).buy(2n, { value: PRICE });
      await t.escrow.connect(t.other).confirm(2n);
      await expect(t.escrow.connect(t.treasury).withdraw(NATIVE))
        .to.emit(t.escrow, "Withdrawn")
        .withArgs(t.treasury.address, NATIVE, splitPrice(PRICE).commission * 2n);
    });

    it("rejects a withdrawal with nothing owed with NothingToWithdraw", async () => {
      const t = await networkHelpers.loadFixture(completedNative);
      await expect(t.escrow.connect(t.seller).withdraw(NATIVE))
        .to.be.revertedWithCustomError(t.escrow, "NothingToWithdraw")
        .withArgs(t.seller.address, NATIVE);
      await t.escrow.connect(t.treasury).withdraw(NATIVE);
      await expect(t.escrow.connect(t.treasury).withdraw(NATIVE))
        .to.be.revertedWithCustomError(t.escrow, "NothingToWithdraw")
        .withArgs(t.treasury.address, NATIVE);
    });
  });

  describe("admin", () => {
    it("sets the commission up to 15%, emitting CommissionSet", async () => {
      const t = await networkHelpers.loadFixture(base);
      await expect(t.escrow.connect(t.admin).setCommission(1500))
        .to.emit(t.escrow, "CommissionSet")
        .withArgs(1500);
      expect(await t.escrow.commissionBps()).to.equal(1500n);
      await expect(t.escrow.connect(t.admin).setCommission(1501))
        .to.be.revertedWithCustomError(t.escrow, "CommissionTooHigh")
        .withArgs(1501, 1500);
    });

    it("sets the confirmation and dispute windows within their ranges", async () => {
      const t = await networkHelpers.loadFixture(base);
      await expect(t.escrow.connect(t.admin).setConfirmationWindow(HOUR))
        .to.emit(t.escrow, "ConfirmationWindowSet")
        .withArgs(HOUR);
      await expect(t.escrow.connect(t.admin).setDisputeWindow(DAY))
        .to.emit(t.escrow, "DisputeWindowSet")
        .withArgs(DAY);
      expect(await t.escrow.confirmationWindow()).to.equal(BigInt(HOUR));
      expect(await t.escrow.disputeWindow()).to.equal(BigInt(DAY));
      for (const window of [0, HOUR - 1, 30 * DAY + 1]) {
        await expect(t.escrow.connect(t.admin).setConfirmationWindow(window))
          .to.be.revertedWithCustomError(t.escrow, "InvalidWindow")
          .withArgs(window);
      }
      for (const window of [DAY - 1, 90 * DAY + 1]) {
        await expect(t.escrow.connect(t.admin).setDisputeWindow(window))
          .to.be.revertedWithCustomError(t.escrow, "InvalidWindow")
          .withArgs(window);
      }
    });

    it("sets the treasury, emitting TreasurySet, and credits later commissions to it", async () => {
      const t = await networkHelpers.loadFixture(paidNative);
      await expect(t.escrow.connect(t.admin).setTreasury(t.outsider.address))
        .to.emit(t.escrow, "TreasurySet")
        .withArgs(t.outsider.address);
      expect(await t.escrow.treasury()).to.equal(t.outsider.address);
      await t.escrow.connect(t.buyer).confirm(t.id);
      expect(await t.escrow.owed(t.outsider.address, NATIVE)).to.equal(splitPrice(PRICE).commission);
      expect(await t.escrow.owed(t.treasury.address, NATIVE)).to.equal(0n);
      await expect(t.escrow.connect(t.admin).setTreasury(ethers.ZeroAddress))
        .to.be.revertedWithCustomError(t.escrow, "InvalidTreasury")
        .withArgs(ethers.ZeroAddress);
    });

    it("allows and disallows item contracts; open listings of a disallowed one still end normally", async () => {
      const t = await networkHelpers.loadFixture(paidNative);
      await expect(t.escrow.connect(t.admin).setItemToken(t.itemsAddress, false))
        .to.emit(t.escrow, "ItemTokenSet")
        .withArgs(t.itemsAddress, false);
      const deadline = await deadlineFromNow();
      await expect(t.escrow.connect(t.seller).list(t.itemsAddress, SHIELD, 1, PRICE, NATIVE, deadline))
        .to.be.revertedWithCustomError(t.escrow, "ItemTokenNotAllowed")
        .withArgs(t.itemsAddress);
      await t.escrow.connect(t.buyer).confirm(t.id);
      await t.escrow.connect(t.buyer).claimItems(t.id);
      await expect(t.escrow.connect(t.admin).setItemToken(t.stablecoinAddress, true))
        .to.be.revertedWithCustomError(t.escrow, "InvalidItemToken")
        .withArgs(t.stablecoinAddress);
    });

    it("rejects callers without DEFAULT_ADMIN_ROLE on every setting", async () => {
      const t = await networkHelpers.loadFixture(base);
      const role = await t.escrow.DEFAULT_ADMIN_ROLE();
      const asArbiter = t.escrow.connect(t.arbiter);
      for (const attempt of [
        asArbiter.setCommission(0),
        asArbiter.setConfirmationWindow(DAY),
        asArbiter.setDisputeWindow(DAY),
        asArbiter.setTreasury(t.arbiter.address),
        asArbiter.setItemToken(t.itemsAddress, false),
      ]) {
        await expect(attempt)
          .to.be.revertedWithCustomError(t.escrow, "AccessControlUnauthorizedAccount")
          .withArgs(t.arbiter.address, role);
      }
    });

    it("hands the admin role over only after the delay, never by grantRole", async () => {
      const t = await networkHelpers.loadFixture(base);
      const role = await t.escrow.DEFAULT_ADMIN_ROLE();
      await expect(
        t.escrow.connect(t.admin).grantRole(role, t.outsider.address),
      ).to.be.revertedWithCustomError(t.escrow, "AccessControlEnforcedDefaultAdminRules");
      await t.escrow.connect(t.admin).beginDefaultAdminTransfer(t.outsider.address);
      const [, schedule] = await t.escrow.pendingDefaultAdmin();
      await expect(t.escrow.connect(t.outsider).acceptDefaultAdminTransfer())
        .to.be.revertedWithCustomError(t.escrow, "AccessControlEnforcedDefaultAdminDelay")
        .withArgs(schedule);
      await time.increaseTo(schedule + 1n);
      await t.escrow.connect(t.outsider).acceptDefaultAdminTransfer();
      expect(await t.escrow.defaultAdmin()).to.equal(t.outsider.address);
    });

    it("keeps the commission fixed at listing when the admin changes it before the sale", async () => {
      const t = await networkHelpers.loadFixture(listedNative);
      await t.escrow.connect(t.admin).setCommission(1500);
      await t.escrow.connect(t.buyer).buy(t.id, { value: PRICE });
      const { commission, proceeds } = splitPrice(PRICE, COMMISSION_BPS);
      await expect(t.escrow.connect(t.buyer).confirm(t.id))
        .to.emit(t.escrow, "Completed")
        .withArgs(t.id, t.seller.address, t.buyer.address, proceeds, commission, false);
      expect(await t.escrow.owed(t.treasury.address, NATIVE)).to.equal(commission);
    });

    it("keeps the commission fixed at listing through a dispute the arbiter rejects", async () => {
      const t = await networkHelpers.loadFixture(disputedErc20);
      await t.escrow.connect(t.admin).setCommission(0);
      const { commission, proceeds } = splitPrice(USD_PRICE, COMMISSION_BPS);
      await expect(t.escrow.connect(t.arbiter).resolve(t.id, false))
        .to.emit(t.escrow, "Completed")
        .withArgs(t.id, t.seller.address, t.buyer.address, proceeds, commission, false);
    });

    it("applies a changed commission to listings made after the change", async () => {
      const t = await networkHelpers.loadFixture(base);
      await t.escrow.connect(t.admin).setCommission(1500);
      const deadline = await deadlineFromNow();
      await t.escrow.connect(t.seller).list(t.itemsAddress, SWORD, 1, PRICE, NATIVE, deadline);
      expect((await t.escrow.getListing(1n)).commissionBps).to.equal(1500n);
      await t.escrow.connect(t.buyer).buy(1n, { value: PRICE });
      const { commission, proceeds } = splitPrice(PRICE, 1500n);
      await expect(t.escrow.connect(t.buyer).confirm(1n))
        .to.emit(t.escrow, "Completed")
        .withArgs(1n, t.seller.address, t.buyer.address, proceeds, commission, false);
    });

    it("keeps the confirmation deadline fixed at purchase when the admin changes the window", async () => {
      const t = await networkHelpers.loadFixture(paidNative);
      await t.escrow.connect(t.admin).setConfirmationWindow(30 * DAY);
      expect((await t.escrow.getListing(t.id)).confirmBy).to.equal(t.confirmBy);
      await time.increaseTo(t.confirmBy + 1n);
      await t.escrow.connect(t.other).settle(t.id);
      expect((await t.escrow.getListing(t.id)).state).to.equal(State.Completed);
    });
  });

  describe("views", () => {
    it("rejects getListing of an unknown listing with UnknownListing", async () => {
      const t = await networkHelpers.loadFixture(listedNative);
      for (const id of [0n, 2n]) {
        await expect(t.escrow.getListing(id))
          .to.be.revertedWithCustomError(t.escrow, "UnknownListing")
          .withArgs(id);
      }
    });

    it("supports ERC-165, IItemEscrow, IERC1155Receiver, AccessControl and its delayed admin rules", async () => {
      const t = await networkHelpers.loadFixture(base);
      // Solidity's interface id leaves out inherited functions; typechain's ABI has them.
      const escrowId = ethers.toBeHex(
        BigInt(interfaceIdOf(IItemEscrow__factory.createInterface())) ^
          BigInt(interfaceIdOf(IPullPayments__factory.createInterface())),
        4,
      );
      for (const id of ["0x01ffc9a7", escrowId, "0x4e2312e0", "0x7965db0b", "0x31498786"]) {
        expect(await t.escrow.supportsInterface(id), id).to.equal(true);
      }
      expect(await t.escrow.supportsInterface("0xffffffff")).to.equal(false);
    });
  });

  describe("hostile counterparties", () => {
    it("a buyer contract that refuses items cannot stop the seller from being paid", async () => {
      const t = await networkHelpers.loadFixture(traderBoughtListingOne);
      await t.trader.arm(Hook.RefuseItems, ethers.ZeroAddress, "0x");
      await traderCall(t, "confirm", 1n);
      await expect(t.escrow.connect(t.seller).claimFunds(1n)).to.changeEtherBalances(
        ethers,
        [t.seller],
        [splitPrice(PRICE).proceeds],
      );
      await expect(traderCall(t, "claimItems", 1n)).to.be.revertedWithCustomError(t.trader, "ItemsRefused");
      expect(await escrowedBalance(t, SWORD)).to.equal(AMOUNT);
    });

    it("a buyer contract that turns hostile after paying cannot stop settlement or a rejected dispute", async () => {
      const settled = await networkHelpers.loadFixture(traderBoughtListingOne);
      await settled.trader.arm(Hook.RefuseItems, ethers.ZeroAddress, "0x");
      await time.increaseTo((await settled.escrow.getListing(1n)).confirmBy + 1n);
      await settled.escrow.connect(settled.other).settle(1n);
      await settled.escrow.connect(settled.seller).claimFunds(1n);

      const disputed = await networkHelpers.loadFixture(traderBoughtListingOne);
      await traderCall(disputed, "dispute", 1n);
      await disputed.trader.arm(Hook.RefuseItems, ethers.ZeroAddress, "0x");
      await disputed.escrow.connect(disputed.arbiter).resolve(1n, false);
      await disputed.escrow.connect(disputed.seller).claimFunds(1n);
      expect((await disputed.escrow.getListing(1n)).fundsClaimed).to.equal(true);
    });

    it("a seller contract that refuses its items back cannot stop the buyer's refund", async () => {
      const t = await networkHelpers.loadFixture(traderSoldListingThree);
      await t.escrow.connect(t.buyer).dispute(3n);
      await t.trader.arm(Hook.RefuseItems, ethers.ZeroAddress, "0x");
      await t.escrow.connect(t.arbiter).resolve(3n, true);
      await expect(t.escrow.connect(t.buyer).claimFunds(3n)).to.changeEtherBalances(
        ethers,
        [t.buyer],
        [PRICE],
      );
      await expect(traderCall(t, "claimItems", 3n)).to.be.revertedWithCustomError(t.trader, "ItemsRefused");
      await t.trader.arm(Hook.None, ethers.ZeroAddress, "0x");
      await traderCall(t, "claimItems", 3n);
      expect(await t.items.balanceOf(t.traderAddress, SHIELD)).to.equal(10n);
    });

    it("a seller contract that refuses native currency cannot stop the buyer from getting the items", async () => {
      const t = await networkHelpers.loadFixture(traderSoldListingThree);
      await t.trader.arm(Hook.RefuseNative, ethers.ZeroAddress, "0x");
      await t.escrow.connect(t.buyer).confirm(3n);
      await t.escrow.connect(t.buyer).claimItems(3n);
      expect(await t.items.balanceOf(t.buyer.address, SHIELD)).to.equal(STARTING_ITEMS + 2n);
      await expect(traderCall(t, "claimFunds", 3n)).to.be.revertedWithCustomError(
        t.escrow,
        "NativeTransferFailed",
      );
    });

    it("an absent arbiter locks nothing: after the deadline anyone unwinds the trade", async () => {
      const t = await networkHelpers.loadFixture(disputedErc20);
      await time.increaseTo(t.resolveBy + 1n);
      await t.escrow.connect(t.other).unwind(t.id);
      await t.escrow.connect(t.seller).claimItems(t.id);
      await t.escrow.connect(t.buyer).claimFunds(t.id);
      expect(await t.items.balanceOf(t.seller.address, POTION)).to.equal(STARTING_ITEMS);
      expect(await t.stablecoin.balanceOf(t.escrowAddress)).to.equal(0n);
    });

    it("a hostile ERC-1155 that claims the standard cannot be listed, so it can trap nothing", async () => {
      const t = await networkHelpers.loadFixture(base);
      const hostile = await new HostileItems__factory(t.admin).deploy();
      const hostileAddress = await hostile.getAddress();
      await hostile.mint(t.seller.address, 1n, 5n);
      await hostile.connect(t.seller).setApprovalForAll(t.escrowAddress, true);
      await hostile.trap(t.escrowAddress);
      expect(await hostile.supportsInterface("0xd9b67a26")).to.equal(true);
      const deadline = await deadlineFromNow();
      await expect(t.escrow.connect(t.seller).list(hostileAddress, 1n, 5n, PRICE, NATIVE, deadline))
        .to.be.revertedWithCustomError(t.escrow, "ItemTokenNotAllowed")
        .withArgs(hostileAddress);
    });
  });

  describe("re-entrancy", () => {
    const reentrancyError = ItemEscrow__factory.createInterface().encodeErrorResult(
      "ReentrancyGuardReentrantCall",
    );

    async function traderCompletedListingOne() {
      const t = await traderBoughtListingOne();
      await traderCall(t, "confirm", 1n);
      return t;
    }

    it("a buyer re-entering claimItems from onERC1155Received is stopped and receives the items once", async () => {
      const t = await networkHelpers.loadFixture(traderCompletedListingOne);
      const claim = t.escrow.interface.encodeFunctionData("claimItems", [1n]);
      await t.trader.arm(Hook.OnItems, t.escrowAddress, claim);
      await escrowCall(t, claim, t.trader);
      expect(await t.trader.reentryAttempted()).to.equal(true);
      expect(await t.trader.reentrySucceeded()).to.equal(false);
      expect(await t.trader.reentryResult()).to.equal(reentrancyError);
      expect(await t.items.balanceOf(t.traderAddress, SWORD)).to.equal(AMOUNT);
      expect(await escrowedBalance(t, SWORD)).to.equal(0n);
    });

    it("a buyer re-entering buy from onERC1155Received is stopped and the other listing stays open", async () => {
      const t = await networkHelpers.loadFixture(traderCompletedListingOne);
      await t.trader.arm(Hook.OnItems, t.escrowAddress, t.escrow.interface.encodeFunctionData("buy", [2n]));
      await traderCall(t, "claimItems", 1n);
      expect(await t.trader.reentryResult()).to.equal(reentrancyError);
      expect((await t.escrow.getListing(2n)).state).to.equal(State.Listed);
    });

    it("a seller re-entering cancel from onERC1155Received gets its items back once", async () => {
      const t = await networkHelpers.loadFixture(traderFixture);
      const deadline = await deadlineFromNow();
      const list = t.escrow.interface.encodeFunctionData("list", [
        t.itemsAddress,
        SHIELD,
        4n,
        PRICE,
        NATIVE,
        deadline,
      ]);
      await escrowCall(t, list, t.trader);
      const cancel = t.escrow.interface.encodeFunctionData("cancel", [3n]);
      await t.trader.arm(Hook.OnItems, t.escrowAddress, cancel);
      await escrowCall(t, cancel, t.trader);
      expect(await t.trader.reentryResult()).to.equal(reentrancyError);
      expect(await t.items.balanceOf(t.traderAddress, SHIELD)).to.equal(10n);
      expect(await escrowedBalance(t, SHIELD)).to.equal(1n);
    });

    it("a seller re-entering claimFunds from receive() is paid its proceeds exactly once", async () => {
      const t = await networkHelpers.loadFixture(traderSoldListingThree);
      await t.escrow.connect(t.buyer).confirm(3n);
      const { proceeds } = splitPrice(PRICE);
      const claim = t.escrow.interface.encodeFunctionData("claimFunds", [3n]);
      await t.trader.arm(Hook.OnNative, t.escrowAddress, claim);
      await expect(escrowCall(t, claim, t.trader)).to.changeEtherBalances(
        ethers,
        [t.traderAddress, t.escrowAddress],
        [proceeds, -proceeds],
      );
      expect(await t.trader.reentryAttempted()).to.equal(true);
      expect(await t.trader.reentryResult()).to.equal(reentrancyError);
    });

    it("a refunded buyer re-entering buy from receive() is stopped and gets exactly the refund", async () => {
      const t = await networkHelpers.loadFixture(traderBoughtListingOne);
      await traderCall(t, "dispute", 1n);
      await t.escrow.connect(t.arbiter).resolve(1n, true);
      await t.trader.arm(Hook.OnNative, t.escrowAddress, t.escrow.interface.encodeFunctionData("buy", [2n]));
      await expect(traderCall(t, "claimFunds", 1n)).to.changeEtherBalances(
        ethers,
        [t.traderAddress, t.escrowAddress],
        [PRICE, -PRICE],
      );
      expect(await t.trader.reentryResult()).to.equal(reentrancyError);
      expect((await t.escrow.getListing(2n)).state).to.equal(State.Listed);
    });
  });
});
