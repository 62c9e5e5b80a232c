import { expect } from "chai";
import { network } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import {
  FeeOnTransferToken__factory,
  IItemEscrow__factory,
  ItemEscrow__factory,
  ReentrantTrader__factory,
  type ReentrantTrader,
} from "../../types/typechain/index.js";
import {
  COMMISSION_BPS,
  CONFIRMATION_WINDOW,
  DAY,
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
const Hook = { None: 0, OnItems: 1, OnNative: 2, RefuseNative: 3 } as const;

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
  return t;
}

async function disputedErc20() {
  const t = await paidErc20();
  await t.escrow.connect(t.buyer).dispute(t.id);
  return t;
}

async function completedNative() {
  const t = await paidNative();
  await t.escrow.connect(t.buyer).confirm(t.id);
  return t;
}

async function completedErc20() {
  const t = await paidErc20();
  await t.escrow.connect(t.buyer).confirm(t.id);
  return t;
}

async function escrowedBalance(t: Setup, item: bigint) {
  return t.items.balanceOf(t.escrowAddress, item);
}

describe("ItemEscrow", () => {
  describe("deployment", () => {
    it("sets roles, constants, treasury, commission and window, and emits the settings", async () => {
      const t = await networkHelpers.loadFixture(base);
      expect(await t.escrow.ARBITER_ROLE()).to.equal(ethers.id("ARBITER_ROLE"));
      expect(await t.escrow.MAX_COMMISSION_BPS()).to.equal(1000n);
      expect(await t.escrow.hasRole(await t.escrow.DEFAULT_ADMIN_ROLE(), t.admin.address)).to.equal(true);
      expect(await t.escrow.hasRole(await t.escrow.ARBITER_ROLE(), t.arbiter.address)).to.equal(true);
      expect(await t.escrow.treasury()).to.equal(t.treasury.address);
      expect(await t.escrow.commissionBps()).to.equal(COMMISSION_BPS);
      expect(await t.escrow.confirmationWindow()).to.equal(BigInt(CONFIRMATION_WINDOW));
      expect(await t.escrow.listingCount()).to.equal(0n);

      const fresh = await new ItemEscrow__factory(t.admin).deploy(
        t.admin.address,
        t.treasury.address,
        100,
        HOUR,
      );
      const deployment = fresh.deploymentTransaction()!;
      await expect(deployment).to.emit(fresh, "TreasurySet").withArgs(t.treasury.address);
      await expect(deployment).to.emit(fresh, "CommissionSet").withArgs(100);
      await expect(deployment).to.emit(fresh, "ConfirmationWindowSet").withArgs(HOUR);
    });

    it("accepts the window bounds of exactly 1 hour and 30 days and a commission of exactly 10%", async () => {
      const t = await networkHelpers.loadFixture(base);
      const factory = new ItemEscrow__factory(t.admin);
      const short = await factory.deploy(t.admin.address, t.treasury.address, 1000, HOUR);
      const long = await factory.deploy(t.admin.address, t.treasury.address, 0, 30 * DAY);
      expect(await short.confirmationWindow()).to.equal(BigInt(HOUR));
      expect(await short.commissionBps()).to.equal(1000n);
      expect(await long.confirmationWindow()).to.equal(BigInt(30 * DAY));
    });

    it("rejects a commission above 10% with CommissionTooHigh", async () => {
      const t = await networkHelpers.loadFixture(base);
      await expect(new ItemEscrow__factory(t.admin).deploy(t.admin.address, t.treasury.address, 1001, DAY))
        .to.be.revertedWithCustomError(t.escrow, "CommissionTooHigh")
        .withArgs(1001, 1000);
    });

    it("rejects a window outside 1 hour to 30 days with InvalidWindow", async () => {
      const t = await networkHelpers.loadFixture(base);
      const factory = new ItemEscrow__factory(t.admin);
      await expect(factory.deploy(t.admin.address, t.treasury.address, 0, HOUR - 1))
        .to.be.revertedWithCustomError(t.escrow, "InvalidWindow")
        .withArgs(HOUR - 1);
      await expect(factory.deploy(t.admin.address, t.treasury.address, 0, 30 * DAY + 1))
        .to.be.revertedWithCustomError(t.escrow, "InvalidWindow")
        .withArgs(30 * DAY + 1);
    });

    it("rejects a zero treasury with InvalidTreasury", async () => {
      const t = await networkHelpers.loadFixture(base);
      await expect(new ItemEscrow__factory(t.admin).deploy(t.admin.address, ethers.ZeroAddress, 0, DAY))
        .to.be.revertedWithCustomError(t.escrow, "InvalidTreasury")
        .withArgs(ethers.ZeroAddress);
    });
  });

  describe("list", () => {
    it("moves the items into escrow, records the listing and emits Listed", async () => {
      const t = await networkHelpers.loadFixture(base);
      const deadline = await deadlineFromNow();
      await expect(t.escrow.connect(t.seller).list(t.itemsAddress, SWORD, AMOUNT, PRICE, NATIVE, deadline))
        .to.emit(t.escrow, "Listed")
        .withArgs(1n, t.seller.address, t.itemsAddress, SWORD, AMOUNT, PRICE, NATIVE, deadline)
        .and.to.emit(t.items, "TransferSingle")
        .withArgs(t.escrowAddress, t.seller.address, t.escrowAddress, SWORD, AMOUNT);
      expect(await t.items.balanceOf(t.seller.address, SWORD)).to.equal(STARTING_ITEMS - AMOUNT);
      expect(await escrowedBalance(t, SWORD)).to.equal(AMOUNT);
      expect(await t.escrow.listingCount()).to.equal(1n);
      const listing = await t.escrow.getListing(1n);
      expect(listing.seller).to.equal(t.seller.address);
      expect(listing.deadline).to.equal(deadline);
      expect(listing.state).to.equal(State.Listed);
      expect(listing.buyer).to.equal(ethers.ZeroAddress);
      expect(listing.confirmBy).to.equal(0n);
      expect(listing.token).to.equal(t.itemsAddress);
      expect(listing.currency).to.equal(NATIVE);
      expect(listing.id).to.equal(SWORD);
      expect(listing.amount).to.equal(AMOUNT);
      expect(listing.price).to.equal(PRICE);
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

    it("rejects a deadline that is not in the future with InvalidListing('deadline')", async () => {
      const t = await networkHelpers.loadFixture(base);
      const now = BigInt(await time.latest());
      await time.setNextBlockTimestamp(now + 10n);
      await expect(t.escrow.connect(t.seller).list(t.itemsAddress, SWORD, 1, PRICE, NATIVE, now + 10n))
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

    it("rejects a token that does not report ERC-1155 support with InvalidListing('token')", async () => {
      const t = await networkHelpers.loadFixture(base);
      const deadline = await deadlineFromNow();
      for (const token of [t.stablecoinAddress, t.outsider.address]) {
        await expect(t.escrow.connect(t.seller).list(token, SWORD, 1, PRICE, NATIVE, deadline))
          .to.be.revertedWithCustomError(t.escrow, "InvalidListing")
          .withArgs("token");
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
      expect((await t.escrow.getListing(t.id)).state).to.equal(State.Cancelled);
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
      expect(await t.escrow.commissionBpsOf(t.id)).to.equal(COMMISSION_BPS);
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
    it("delivers the items, credits seller proceeds and treasury commission, and emits Completed", async () => {
      const t = await networkHelpers.loadFixture(paidNative);
      const { commission, proceeds } = splitPrice(PRICE);
      const confirmation = t.escrow.connect(t.buyer).confirm(t.id);
      await expect(confirmation)
        .to.emit(t.escrow, "Completed")
        .withArgs(t.id, t.seller.address, t.buyer.address, proceeds, commission, false)
        .and.to.emit(t.items, "TransferSingle")
        .withArgs(t.escrowAddress, t.escrowAddress, t.buyer.address, SWORD, AMOUNT);
      await expect(confirmation).to.changeEtherBalances(ethers, [t.escrowAddress, t.seller], [0n, 0n]);
      expect(commission).to.equal(ethers.parseEther("0.025"));
      expect(await t.items.balanceOf(t.buyer.address, SWORD)).to.equal(STARTING_ITEMS + AMOUNT);
      expect(await escrowedBalance(t, SWORD)).to.equal(0n);
      expect(await t.escrow.owed(t.seller.address, NATIVE)).to.equal(proceeds);
      expect(await t.escrow.owed(t.treasury.address, NATIVE)).to.equal(commission);
      expect((await t.escrow.getListing(t.id)).state).to.equal(State.Completed);
    });

    it("credits ERC-20 proceeds and commission in the listing's currency", async () => {
      const t = await networkHelpers.loadFixture(paidErc20);
      const { commission, proceeds } = splitPrice(USD_PRICE);
      await expect(t.escrow.connect(t.buyer).confirm(t.id))
        .to.emit(t.escrow, "Completed")
        .withArgs(t.id, t.seller.address, t.buyer.address, proceeds, commission, false);
      expect(await t.escrow.owed(t.seller.address, t.stablecoinAddress)).to.equal(proceeds);
      expect(await t.escrow.owed(t.treasury.address, t.stablecoinAddress)).to.equal(commission);
      expect(await t.escrow.owed(t.seller.address, NATIVE)).to.equal(0n);
      expect(await t.items.balanceOf(t.buyer.address, POTION)).to.equal(STARTING_ITEMS + USD_AMOUNT);
    });

    it("lets the buyer confirm after the window lapsed if nobody settled", async () => {
      const t = await networkHelpers.loadFixture(paidNative);
      await time.increaseTo(t.confirmBy + 1n);
      await expect(t.escrow.connect(t.buyer).confirm(t.id))
        .to.emit(t.escrow, "Completed")
        .withArgs(
          t.id,
          t.seller.address,
          t.buyer.address,
          splitPrice(PRICE).proceeds,
          splitPrice(PRICE).commission,
          false,
        );
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
      expect(await t.escrow.owed(t.seller.address, NATIVE)).to.equal(splitPrice(PRICE).proceeds);
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

    it("credits no treasury entry when the commission is zero", async () => {
      const t = await networkHelpers.loadFixture(listedNative);
      await t.escrow.connect(t.admin).setCommission(0);
      await t.escrow.connect(t.buyer).buy(t.id, { value: PRICE });
      await expect(t.escrow.connect(t.buyer).confirm(t.id))
        .to.emit(t.escrow, "Completed")
        .withArgs(t.id, t.seller.address, t.buyer.address, PRICE, 0n, false);
      expect(await t.escrow.owed(t.seller.address, NATIVE)).to.equal(PRICE);
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
    it("marks the listing Disputed and emits Disputed", async () => {
      const t = await networkHelpers.loadFixture(paidNative);
      await expect(t.escrow.connect(t.buyer).dispute(t.id))
        .to.emit(t.escrow, "Disputed")
        .withArgs(t.id, t.buyer.address);
      expect((await t.escrow.getListing(t.id)).state).to.equal(State.Disputed);
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
        .and.to.emit(t.items, "TransferSingle")
        .withArgs(t.escrowAddress, t.escrowAddress, t.buyer.address, SWORD, AMOUNT);
      expect(await t.escrow.owed(t.seller.address, NATIVE)).to.equal(proceeds);
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

  describe("resolve", () => {
    it("refunds a native buyer in full, returns the items to the seller and emits Refunded", async () => {
      const t = await networkHelpers.loadFixture(disputedNative);
      await expect(t.escrow.connect(t.arbiter).resolve(t.id, true))
        .to.emit(t.escrow, "Refunded")
        .withArgs(t.id, t.buyer.address, t.arbiter.address)
        .and.to.emit(t.items, "TransferSingle")
        .withArgs(t.escrowAddress, t.escrowAddress, t.seller.address, SWORD, AMOUNT);
      expect((await t.escrow.getListing(t.id)).state).to.equal(State.Refunded);
      expect(await t.items.balanceOf(t.seller.address, SWORD)).to.equal(STARTING_ITEMS);
      expect(await t.escrow.owed(t.buyer.address, NATIVE)).to.equal(PRICE);
      expect(await t.escrow.owed(t.seller.address, NATIVE)).to.equal(0n);
      expect(await t.escrow.owed(t.treasury.address, NATIVE)).to.equal(0n);
      await expect(t.escrow.connect(t.buyer).withdraw(NATIVE)).to.changeEtherBalances(
        ethers,
        [t.buyer, t.escrowAddress],
        [PRICE, -PRICE],
      );
    });

    it("refunds an ERC-20 buyer in full", async () => {
      const t = await networkHelpers.loadFixture(disputedErc20);
      await t.escrow.connect(t.arbiter).resolve(t.id, true);
      expect(await t.escrow.owed(t.buyer.address, t.stablecoinAddress)).to.equal(USD_PRICE);
      await expect(t.escrow.connect(t.buyer).withdraw(t.stablecoinAddress)).to.changeTokenBalances(
        ethers,
        t.stablecoin,
        [t.buyer, t.escrowAddress],
        [USD_PRICE, -USD_PRICE],
      );
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
      expect(await t.items.balanceOf(t.buyer.address, SWORD)).to.equal(STARTING_ITEMS + AMOUNT);
      expect(await t.escrow.owed(t.seller.address, NATIVE)).to.equal(proceeds);
      expect(await t.escrow.owed(t.treasury.address, NATIVE)).to.equal(commission);
      expect(await t.escrow.owed(t.buyer.address, NATIVE)).to.equal(0n);
    });

    it("resolves a dispute raised in time even after the window closed", async () => {
      const t = await networkHelpers.loadFixture(disputedNative);
      await time.increaseTo(t.confirmBy + 30n * BigInt(DAY));
      await t.escrow.connect(t.arbiter).resolve(t.id, true);
      expect((await t.escrow.getListing(t.id)).state).to.equal(State.Refunded);
    });

    it("rejects callers without ARBITER_ROLE", async () => {
      const t = await networkHelpers.loadFixture(disputedNative);
      const role = await t.escrow.ARBITER_ROLE();
      for (const caller of [t.admin, t.buyer, t.seller]) {
        await expect(t.escrow.connect(caller).resolve(t.id, true))
          .to.be.revertedWithCustomError(t.escrow, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, role);
      }
    });

    it("rejects an undisputed or already resolved listing with InvalidState", async () => {
      const paid = await networkHelpers.loadFixture(paidNative);
      await expect(paid.escrow.connect(paid.arbiter).resolve(paid.id, true))
        .to.be.revertedWithCustomError(paid.escrow, "InvalidState")
        .withArgs(paid.id, State.Paid);
      const t = await networkHelpers.loadFixture(disputedNative);
      await t.escrow.connect(t.arbiter).resolve(t.id, true);
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

  describe("withdraw", () => {
    it("pays the seller's native proceeds and the treasury's commission, emitting Withdrawn", async () => {
      const t = await networkHelpers.loadFixture(completedNative);
      const { commission, proceeds } = splitPrice(PRICE);
      expect(await t.escrow.connect(t.seller).withdraw.staticCall(NATIVE)).to.equal(proceeds);
      const sellerPull = t.escrow.connect(t.seller).withdraw(NATIVE);
      await expect(sellerPull).to.emit(t.escrow, "Withdrawn").withArgs(t.seller.address, NATIVE, proceeds);
      await expect(sellerPull).to.changeEtherBalances(
        ethers,
        [t.seller, t.escrowAddress],
        [proceeds, -proceeds],
      );
      const treasuryPull = t.escrow.connect(t.treasury).withdraw(NATIVE);
      await expect(treasuryPull)
        .to.emit(t.escrow, "Withdrawn")
        .withArgs(t.treasury.address, NATIVE, commission);
      await expect(treasuryPull).to.changeEtherBalances(
        ethers,
        [t.treasury, t.escrowAddress],
        [commission, -commission],
      );
      expect(await t.escrow.owed(t.seller.address, NATIVE)).to.equal(0n);
      expect(await ethers.provider.getBalance(t.escrowAddress)).to.equal(0n);
    });

    it("pays ERC-20 proceeds and commission", async () => {
      const t = await networkHelpers.loadFixture(completedErc20);
      const { commission, proceeds } = splitPrice(USD_PRICE);
      await expect(t.escrow.connect(t.seller).withdraw(t.stablecoinAddress))
        .to.emit(t.escrow, "Withdrawn")
        .withArgs(t.seller.address, t.stablecoinAddress, proceeds);
      await expect(t.escrow.connect(t.treasury).withdraw(t.stablecoinAddress)).to.changeTokenBalances(
        ethers,
        t.stablecoin,
        [t.treasury, t.escrowAddress],
        [commission, -commission],
      );
      expect(await t.stablecoin.balanceOf(t.seller.address)).to.equal(
        (await t.stablecoin.balanceOf(t.buyer.address)) + proceeds + USD_PRICE,
      );
      expect(await t.stablecoin.balanceOf(t.escrowAddress)).to.equal(0n);
    });

    it("accumulates proceeds across trades into one withdrawal", async () => {
      const t = await networkHelpers.loadFixture(completedNative);
      const deadline = await deadlineFromNow();
      await t.escrow.connect(t.seller).list(t.itemsAddress, SHIELD, 1, PRICE, NATIVE, deadline);
      await t.escrow.connect(t.other).buy(2n, { value: PRICE });
      await t.escrow.connect(t.other).confirm(2n);
      const { proceeds } = splitPrice(PRICE);
      await expect(t.escrow.connect(t.seller).withdraw(NATIVE))
        .to.emit(t.escrow, "Withdrawn")
        .withArgs(t.seller.address, NATIVE, proceeds * 2n);
    });

    it("rejects a withdrawal with nothing owed with NothingToWithdraw", async () => {
      const t = await networkHelpers.loadFixture(completedNative);
      await expect(t.escrow.connect(t.buyer).withdraw(NATIVE))
        .to.be.revertedWithCustomError(t.escrow, "NothingToWithdraw")
        .withArgs(t.buyer.address, NATIVE);
      await expect(t.escrow.connect(t.seller).withdraw(t.stablecoinAddress))
        .to.be.revertedWithCustomError(t.escrow, "NothingToWithdraw")
        .withArgs(t.seller.address, t.stablecoinAddress);
      await t.escrow.connect(t.seller).withdraw(NATIVE);
      await expect(t.escrow.connect(t.seller).withdraw(NATIVE))
        .to.be.revertedWithCustomError(t.escrow, "NothingToWithdraw")
        .withArgs(t.seller.address, NATIVE);
    });

    it("rejects a native payout the recipient refuses with NativeTransferFailed and keeps it owed", async () => {
      const t = await networkHelpers.loadFixture(disputedNative);
      const trader = await new ReentrantTrader__factory(t.admin).deploy();
      const traderAddress = await trader.getAddress();
      await trader.execute(
        t.itemsAddress,
        t.items.interface.encodeFunctionData("setApprovalForAll", [t.escrowAddress, true]),
      );
      await t.items.connect(t.studio).mint(traderAddress, SHIELD, 1, "0x");
      const deadline = await deadlineFromNow();
      await trader.execute(
        t.escrowAddress,
        t.escrow.interface.encodeFunctionData("list", [t.itemsAddress, SHIELD, 1n, PRICE, NATIVE, deadline]),
      );
      await t.escrow.connect(t.buyer).buy(2n, { value: PRICE });
      await t.escrow.connect(t.buyer).confirm(2n);
      const { proceeds } = splitPrice(PRICE);
      await trader.arm(Hook.RefuseNative, ethers.ZeroAddress, "0x");
      const pull = t.escrow.interface.encodeFunctionData("withdraw", [NATIVE]);
      await expect(trader.execute(t.escrowAddress, pull))
        .to.be.revertedWithCustomError(t.escrow, "NativeTransferFailed")
        .withArgs(traderAddress, proceeds);
      expect(await t.escrow.owed(traderAddress, NATIVE)).to.equal(proceeds);
      await trader.arm(Hook.None, ethers.ZeroAddress, "0x");
      await expect(trader.execute(t.escrowAddress, pull)).to.changeEtherBalances(
        ethers,
        [trader],
        [proceeds],
      );
    });
  });

  describe("admin", () => {
    it("sets the commission, emitting CommissionSet", async () => {
      const t = await networkHelpers.loadFixture(base);
      await expect(t.escrow.connect(t.admin).setCommission(1000))
        .to.emit(t.escrow, "CommissionSet")
        .withArgs(1000);
      expect(await t.escrow.commissionBps()).to.equal(1000n);
    });

    it("rejects a commission above MAX_COMMISSION_BPS with CommissionTooHigh", async () => {
      const t = await networkHelpers.loadFixture(base);
      await expect(t.escrow.connect(t.admin).setCommission(1001))
        .to.be.revertedWithCustomError(t.escrow, "CommissionTooHigh")
        .withArgs(1001, 1000);
    });

    it("sets the confirmation window, emitting ConfirmationWindowSet", async () => {
      const t = await networkHelpers.loadFixture(base);
      await expect(t.escrow.connect(t.admin).setConfirmationWindow(HOUR))
        .to.emit(t.escrow, "ConfirmationWindowSet")
        .withArgs(HOUR);
      expect(await t.escrow.confirmationWindow()).to.equal(BigInt(HOUR));
    });

    it("rejects a window outside 1 hour to 30 days with InvalidWindow", async () => {
      const t = await networkHelpers.loadFixture(base);
      for (const window of [0, HOUR - 1, 30 * DAY + 1]) {
        await expect(t.escrow.connect(t.admin).setConfirmationWindow(window))
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
    });

    it("rejects a zero treasury with InvalidTreasury", async () => {
      const t = await networkHelpers.loadFixture(base);
      await expect(t.escrow.connect(t.admin).setTreasury(ethers.ZeroAddress))
        .to.be.revertedWithCustomError(t.escrow, "InvalidTreasury")
        .withArgs(ethers.ZeroAddress);
    });

    it("rejects callers without DEFAULT_ADMIN_ROLE on every setting", async () => {
      const t = await networkHelpers.loadFixture(base);
      const role = await t.escrow.DEFAULT_ADMIN_ROLE();
      const asArbiter = t.escrow.connect(t.arbiter);
      for (const attempt of [
        asArbiter.setCommission(0),
        asArbiter.setConfirmationWindow(DAY),
        asArbiter.setTreasury(t.arbiter.address),
      ]) {
        await expect(attempt)
          .to.be.revertedWithCustomError(t.escrow, "AccessControlUnauthorizedAccount")
          .withArgs(t.arbiter.address, role);
      }
    });

    it("keeps the commission fixed at purchase when the admin changes it mid-trade", async () => {
      const t = await networkHelpers.loadFixture(paidNative);
      await t.escrow.connect(t.admin).setCommission(1000);
      const { commission, proceeds } = splitPrice(PRICE, COMMISSION_BPS);
      await expect(t.escrow.connect(t.buyer).confirm(t.id))
        .to.emit(t.escrow, "Completed")
        .withArgs(t.id, t.seller.address, t.buyer.address, proceeds, commission, false);
      expect(await t.escrow.owed(t.treasury.address, NATIVE)).to.equal(commission);
    });

    it("keeps the commission fixed at purchase through a dispute the arbiter rejects", async () => {
      const t = await networkHelpers.loadFixture(disputedErc20);
      await t.escrow.connect(t.admin).setCommission(0);
      const { commission, proceeds } = splitPrice(USD_PRICE, COMMISSION_BPS);
      await expect(t.escrow.connect(t.arbiter).resolve(t.id, false))
        .to.emit(t.escrow, "Completed")
        .withArgs(t.id, t.seller.address, t.buyer.address, proceeds, commission, false);
    });

    it("applies a changed commission to listings bought after the change", async () => {
      const t = await networkHelpers.loadFixture(listedNative);
      await t.escrow.connect(t.admin).setCommission(1000);
      await t.escrow.connect(t.buyer).buy(t.id, { value: PRICE });
      expect(await t.escrow.commissionBpsOf(t.id)).to.equal(1000n);
      const { commission, proceeds } = splitPrice(PRICE, 1000n);
      await expect(t.escrow.connect(t.buyer).confirm(t.id))
        .to.emit(t.escrow, "Completed")
        .withArgs(t.id, t.seller.address, t.buyer.address, proceeds, commission, false);
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
    it("rejects getListing and commissionBpsOf of an unknown listing with UnknownListing", async () => {
      const t = await networkHelpers.loadFixture(listedNative);
      for (const id of [0n, 2n]) {
        await expect(t.escrow.getListing(id))
          .to.be.revertedWithCustomError(t.escrow, "UnknownListing")
          .withArgs(id);
        await expect(t.escrow.commissionBpsOf(id))
          .to.be.revertedWithCustomError(t.escrow, "UnknownListing")
          .withArgs(id);
      }
    });

    it("reports no commission on a listing nobody has bought", async () => {
      const t = await networkHelpers.loadFixture(listedNative);
      expect(await t.escrow.commissionBpsOf(t.id)).to.equal(0n);
    });

    it("supports ERC-165, IItemEscrow, IERC1155Receiver and AccessControl", async () => {
      const t = await networkHelpers.loadFixture(base);
      const escrowId = interfaceIdOf(IItemEscrow__factory.createInterface());
      for (const id of ["0x01ffc9a7", escrowId, "0x4e2312e0", "0x7965db0b"]) {
        expect(await t.escrow.supportsInterface(id), id).to.equal(true);
      }
      expect(await t.escrow.supportsInterface("0xffffffff")).to.equal(false);
    });
  });

  describe("re-entrancy", () => {
    const reentrancyError = ItemEscrow__factory.createInterface().encodeErrorResult(
      "ReentrancyGuardReentrantCall",
    );

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

    function escrowCall(t: Setup, data: string, trader: ReentrantTrader, value = 0n) {
      return trader.execute(t.escrowAddress, data, { value });
    }

    async function traderBoughtListingOne() {
      const t = await traderFixture();
      await escrowCall(t, t.escrow.interface.encodeFunctionData("buy", [1n]), t.trader, PRICE);
      return t;
    }

    it("a buyer re-entering confirm from onERC1155Received is stopped and receives the items once", async () => {
      const t = await networkHelpers.loadFixture(traderBoughtListingOne);
      const confirm = t.escrow.interface.encodeFunctionData("confirm", [1n]);
      await t.trader.arm(Hook.OnItems, t.escrowAddress, confirm);
      await escrowCall(t, confirm, t.trader);
      expect(await t.trader.reentryAttempted()).to.equal(true);
      expect(await t.trader.reentrySucceeded()).to.equal(false);
      expect(await t.trader.reentryResult()).to.equal(reentrancyError);
      expect(await t.items.balanceOf(t.traderAddress, SWORD)).to.equal(AMOUNT);
      expect(await escrowedBalance(t, SWORD)).to.equal(0n);
      expect(await t.escrow.owed(t.seller.address, NATIVE)).to.equal(splitPrice(PRICE).proceeds);
    });

    it("a buyer re-entering withdraw from onERC1155Received is stopped", async () => {
      const t = await networkHelpers.loadFixture(traderBoughtListingOne);
      await t.trader.arm(
        Hook.OnItems,
        t.escrowAddress,
        t.escrow.interface.encodeFunctionData("withdraw", [NATIVE]),
      );
      await escrowCall(t, t.escrow.interface.encodeFunctionData("confirm", [1n]), t.trader);
      expect(await t.trader.reentrySucceeded()).to.equal(false);
      expect(await t.trader.reentryResult()).to.equal(reentrancyError);
      expect(await t.escrow.owed(t.traderAddress, NATIVE)).to.equal(0n);
    });

    it("a buyer re-entering buy from onERC1155Received is stopped and the other listing stays open", async () => {
      const t = await networkHelpers.loadFixture(traderBoughtListingOne);
      await t.trader.arm(Hook.OnItems, t.escrowAddress, t.escrow.interface.encodeFunctionData("buy", [2n]));
      await escrowCall(t, t.escrow.interface.encodeFunctionData("confirm", [1n]), t.trader);
      expect(await t.trader.reentryResult()).to.equal(reentrancyError);
      expect((await t.escrow.getListing(2n)).state).to.equal(State.Listed);
    });

    it("a buyer re-entering dispute during delivery finds the trade already Completed", async () => {
      const t = await networkHelpers.loadFixture(traderBoughtListingOne);
      await t.trader.arm(
        Hook.OnItems,
        t.escrowAddress,
        t.escrow.interface.encodeFunctionData("dispute", [1n]),
      );
      await escrowCall(t, t.escrow.interface.encodeFunctionData("confirm", [1n]), t.trader);
      expect(await t.trader.reentrySucceeded()).to.equal(false);
      expect(await t.trader.reentryResult()).to.equal(
        t.escrow.interface.encodeErrorResult("InvalidState", [1n, State.Completed]),
      );
      expect((await t.escrow.getListing(1n)).state).to.equal(State.Completed);
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

    it("a seller re-entering withdraw from receive() is paid its proceeds exactly once", async () => {
      const t = await networkHelpers.loadFixture(traderFixture);
      const deadline = await deadlineFromNow();
      const list = t.escrow.interface.encodeFunctionData("list", [
        t.itemsAddress,
        SHIELD,
        2n,
        PRICE,
        NATIVE,
        deadline,
      ]);
      await escrowCall(t, list, t.trader);
      await t.escrow.connect(t.buyer).buy(3n, { value: PRICE });
      await t.escrow.connect(t.buyer).confirm(3n);
      const { proceeds } = splitPrice(PRICE);
      const withdraw = t.escrow.interface.encodeFunctionData("withdraw", [NATIVE]);
      await t.trader.arm(Hook.OnNative, t.escrowAddress, withdraw);
      await expect(escrowCall(t, withdraw, t.trader)).to.changeEtherBalances(
        ethers,
        [t.traderAddress, t.escrowAddress],
        [proceeds, -proceeds],
      );
      expect(await t.trader.reentryAttempted()).to.equal(true);
      expect(await t.trader.reentryResult()).to.equal(reentrancyError);
      expect(await t.escrow.owed(t.traderAddress, NATIVE)).to.equal(0n);
    });

    it("a refunded buyer re-entering buy from receive() is stopped and gets exactly the refund", async () => {
      const t = await networkHelpers.loadFixture(traderBoughtListingOne);
      await escrowCall(t, t.escrow.interface.encodeFunctionData("dispute", [1n]), t.trader);
      await t.escrow.connect(t.arbiter).resolve(1n, true);
      await t.trader.arm(Hook.OnNative, t.escrowAddress, t.escrow.interface.encodeFunctionData("buy", [2n]));
      await expect(
        escrowCall(t, t.escrow.interface.encodeFunctionData("withdraw", [NATIVE]), t.trader),
      ).to.changeEtherBalances(ethers, [t.traderAddress, t.escrowAddress], [PRICE, -PRICE]);
      expect(await t.trader.reentryResult()).to.equal(reentrancyError);
      expect((await t.escrow.getListing(2n)).state).to.equal(State.Listed);
    });
  });
});
