import { expect } from "chai";
import fc from "fast-check";
import { network } from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";
import {
  DevStablecoin__factory,
  PayoutSettlement__factory,
  RevenueSplit__factory,
  SplitFactory__factory,
} from "../../types/typechain/index.ts";

const { ethers, networkHelpers } = await network.create();
const { loadFixture } = networkHelpers;

const TREASURY_FUNDS = 1_000_000n * 10n ** 6n;
const MAX_PAYEES = 200;

/** Settlement paid from `treasury`, which holds 1,000,000 tUSD and approved it for everything; `settler` may settle. */
async function deploySettlement({ ethers }: NetworkConnection) {
  const [admin, settler, treasury, alice, bob, carol, stranger, newTreasury] = await ethers.getSigners();
  const stablecoin = await new DevStablecoin__factory(admin).deploy();
  const settlement = await new PayoutSettlement__factory(admin).deploy(
    admin!.address,
    await stablecoin.getAddress(),
    treasury!.address,
  );
  const settlementAddress = await settlement.getAddress();
  await settlement.grantRole(await settlement.SETTLER_ROLE(), settler!.address);
  await stablecoin.mint(treasury!.address, TREASURY_FUNDS);
  await stablecoin.connect(treasury).approve(settlementAddress, ethers.MaxUint256);
  return {
    stablecoin,
    settlement: settlement.connect(settler),
    settlementAddress,
    admin: admin!,
    settler: settler!,
    treasury: treasury!,
    alice: alice!,
    bob: bob!,
    carol: carol!,
    stranger: stranger!,
    newTreasury: newTreasury!,
  };
}

/** Addresses sorted ascending, as `settle` wants its payees. */
function ascending(addresses: string[]): string[] {
  return [...addresses].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
}

/** `count` distinct fresh addresses (never funded, never paid), sorted ascending. */
function freshPayees(count: number, label: string): string[] {
  return ascending(
    Array.from({ length: count }, (_, i) => ethers.getAddress(ethers.id(`${label}-${i}`).slice(0, 42))),
  );
}

const ref = (label: string) => ethers.id(`card-payment-${label}`);

describe("PayoutSettlement", function () {
  describe("deployment", function () {
    it("fixes the token, starts with the given treasury and announces it with TreasurySet", async function () {
      const { settlement, stablecoin, treasury, admin } = await loadFixture(deploySettlement);
      expect(await settlement.token()).to.equal(await stablecoin.getAddress());
      expect(await settlement.treasury()).to.equal(treasury.address);
      expect(await settlement.MAX_PAYEES()).to.equal(BigInt(MAX_PAYEES));
      expect(await settlement.SETTLER_ROLE()).to.equal(ethers.id("SETTLER_ROLE"));
      expect(await settlement.hasRole(await settlement.DEFAULT_ADMIN_ROLE(), admin.address)).to.equal(true);
      const fresh = await new PayoutSettlement__factory(admin).deploy(
        admin.address,
        await stablecoin.getAddress(),
        treasury.address,
      );
      await expect(fresh.deploymentTransaction()).to.emit(fresh, "TreasurySet").withArgs(treasury.address);
    });

    it("refuses a zero token with InvalidToken and a zero treasury with InvalidTreasury", async function () {
      const { stablecoin, admin, treasury } = await loadFixture(deploySettlement);
      const factory = new PayoutSettlement__factory(admin);
      await expect(factory.deploy(admin.address, ethers.ZeroAddress, treasury.address))
        .to.be.revertedWithCustomError(factory, "InvalidToken")
        .withArgs(ethers.ZeroAddress);
      await expect(factory.deploy(admin.address, await stablecoin.getAddress(), ethers.ZeroAddress))
        .to.be.revertedWithCustomError(factory, "InvalidTreasury")
        .withArgs(ethers.ZeroAddress);
    });
  });

  describe("settle", function () {
    it("moves exactly each amount from the treasury to its payee and emits SettlementPaid with every field", async function () {
      const { settlement, stablecoin, treasury, alice, bob, carol } = await loadFixture(deploySettlement);
      const payees = ascending([alice.address, bob.address, carol.address]);
      const amounts = [1_500_000n, 20_000_000n, 1n];
      const refs = [ref("a"), ref("b"), ref("c"), ref("d")];
      const id = ethers.id("settlement-1");
      const before = await Promise.all(payees.map((p) => stablecoin.balanceOf(p)));

      await expect(settlement.settle(id, payees, amounts, refs))
        .to.emit(settlement, "SettlementPaid")
        .withArgs(id, treasury.address, 21_500_001n, payees, amounts, refs);

      const after = await Promise.all(payees.map((p) => stablecoin.balanceOf(p)));
      expect(after.map((b, i) => b - before[i]!)).to.deep.equal(amounts);
      expect(await stablecoin.balanceOf(treasury.address)).to.equal(TREASURY_FUNDS - 21_500_001n);
      expect(await stablecoin.balanceOf(await settlement.getAddress())).to.equal(0n);
      expect(await settlement.isSettled(id)).to.equal(true);
      expect(await settlement.isSettled(ethers.id("settlement-2"))).to.equal(false);
    });

    it("pays a settlement that covers no card payment reference", async function () {
      const { settlement, stablecoin, alice } = await loadFixture(deploySettlement);
      await expect(settlement.settle(ethers.id("no-refs"), [alice.address], [7n], []))
        .to.emit(settlement, "SettlementPaid")
        .withArgs(ethers.id("no-refs"), await settlement.treasury(), 7n, [alice.address], [7n], []);
      expect(await stablecoin.balanceOf(alice.address)).to.equal(7n);
    });

    it("refuses a replayed settlement id with SettlementIdUsed and pays nobody twice", async function () {
      const { settlement, stablecoin, alice, bob } = await loadFixture(deploySettlement);
      const id = ethers.id("settlement-replayed");
      const payees = ascending([alice.address, bob.address]);
      await settlement.settle(id, payees, [5n, 6n], [ref("x")]);

      await expect(settlement.settle(id, payees, [5n, 6n], [ref("x")]))
        .to.be.revertedWithCustomError(settlement, "SettlementIdUsed")
        .withArgs(id);
      await expect(settlement.settle(id, [alice.address], [1n], []))
        .to.be.revertedWithCustomError(settlement, "SettlementIdUsed")
        .withArgs(id);
      const paid = await Promise.all(payees.map((p) => stablecoin.balanceOf(p)));
      expect(paid).to.deep.equal([5n, 6n]);
    });

    it("refuses the zero settlement id with SettlementIdUsed", async function () {
      const { settlement, alice } = await loadFixture(deploySettlement);
      await expect(settlement.settle(ethers.ZeroHash, [alice.address], [1n], []))
        .to.be.revertedWithCustomError(settlement, "SettlementIdUsed")
        .withArgs(ethers.ZeroHash);
    });

    it("refuses a settlement without payees with SettlementEmpty", async function () {
      const { settlement } = await loadFixture(deploySettlement);
      await expect(settlement.settle(ethers.id("empty"), [], [], [ref("a")])).to.be.revertedWithCustomError(
        settlement,
        "SettlementEmpty",
      );
    });

    it("refuses payees and amounts of different lengths with SettlementLengthMismatch", async function () {
      const { settlement, alice, bob } = await loadFixture(deploySettlement);
      const payees = ascending([alice.address, bob.address]);
      await expect(settlement.settle(ethers.id("short"), payees, [1n], []))
        .to.be.revertedWithCustomError(settlement, "SettlementLengthMismatch")
        .withArgs(2, 1);
      await expect(settlement.settle(ethers.id("long"), [alice.address], [1n, 2n], []))
        .to.be.revertedWithCustomError(settlement, "SettlementLengthMismatch")
        .withArgs(1, 2);
    });

    it("pays 200 payees at once and refuses 201 with SettlementTooLarge", async function () {
      const { settlement, stablecoin } = await loadFixture(deploySettlement);
      const payees = freshPayees(MAX_PAYEES + 1, "too-large");
      const amounts = payees.map(() => 3n);
      await expect(settlement.settle(ethers.id("too-large"), payees, amounts, []))
        .to.be.revertedWithCustomError(settlement, "SettlementTooLarge")
        .withArgs(MAX_PAYEES + 1, MAX_PAYEES);

      await settlement.settle(
        ethers.id("largest"),
        payees.slice(0, MAX_PAYEES),
        amounts.slice(0, MAX_PAYEES),
        [],
      );
      expect(await stablecoin.balanceOf(payees[MAX_PAYEES - 1]!)).to.equal(3n);
      expect(await stablecoin.balanceOf(payees[MAX_PAYEES]!)).to.equal(0n);
    });

    it("refuses payees out of order or repeated with PayeesNotAscending", async function () {
      const { settlement, alice, bob, carol } = await loadFixture(deploySettlement);
      const [low, middle, high] = ascending([alice.address, bob.address, carol.address]) as [
        string,
        string,
        string,
      ];
      await expect(settlement.settle(ethers.id("descending"), [low, high, middle], [1n, 1n, 1n], []))
        .to.be.revertedWithCustomError(settlement, "PayeesNotAscending")
        .withArgs(high, middle);
      await expect(settlement.settle(ethers.id("twice"), [low, middle, middle], [1n, 1n, 1n], []))
        .to.be.revertedWithCustomError(settlement, "PayeesNotAscending")
        .withArgs(middle, middle);
    });

    it("refuses the zero address, the treasury and the settlement contract as payees with InvalidPayee", async function () {
      const { settlement, settlementAddress, treasury, alice } = await loadFixture(deploySettlement);
      await expect(settlement.settle(ethers.id("zero"), [ethers.ZeroAddress, alice.address], [1n, 1n], []))
        .to.be.revertedWithCustomError(settlement, "InvalidPayee")
        .withArgs(ethers.ZeroAddress);
      for (const payee of [treasury.address, settlementAddress]) {
        const payees = ascending([alice.address, payee]);
        await expect(settlement.settle(ethers.id(`self-${payee}`), payees, [1n, 1n], []))
          .to.be.revertedWithCustomError(settlement, "InvalidPayee")
          .withArgs(payee);
      }
    });

    it("refuses a zero amount with ZeroAmount naming its payee", async function () {
      const { settlement, alice, bob } = await loadFixture(deploySettlement);
      const payees = ascending([alice.address, bob.address]);
      await expect(settlement.settle(ethers.id("zero-amount"), payees, [4n, 0n], []))
        .to.be.revertedWithCustomError(settlement, "ZeroAmount")
        .withArgs(payees[1]);
    });

    it("refuses callers without SETTLER_ROLE, the admin included, with AccessControlUnauthorizedAccount", async function () {
      const { settlement, stablecoin, admin, stranger, treasury, alice } =
        await loadFixture(deploySettlement);
      const role = await settlement.SETTLER_ROLE();
      for (const caller of [stranger, admin, treasury]) {
        await expect(settlement.connect(caller).settle(ethers.id("unauthorized"), [alice.address], [1n], []))
          .to.be.revertedWithCustomError(settlement, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, role);
      }
      expect(await stablecoin.balanceOf(alice.address)).to.equal(0n);
      expect(await settlement.isSettled(ethers.id("unauthorized"))).to.equal(false);
    });

    it("reverts as a whole when the treasury's allowance does not cover the total, and the id stays usable", async function () {
      const { settlement, settlementAddress, stablecoin, treasury, alice, bob } =
        await loadFixture(deploySettlement);
      const payees = ascending([alice.address, bob.address]);
      await stablecoin.connect(treasury).approve(settlementAddress, 10n);
      const id = ethers.id("short-allowance");

      await expect(settlement.settle(id, payees, [6n, 6n], []))
        .to.be.revertedWithCustomError(stablecoin, "ERC20InsufficientAllowance")
        .withArgs(settlementAddress, 4n, 6n);
      for (const payee of payees) expect(await stablecoin.balanceOf(payee)).to.equal(0n);
      expect(await stablecoin.balanceOf(treasury.address)).to.equal(TREASURY_FUNDS);
      expect(await settlement.isSettled(id)).to.equal(false);

      await stablecoin.connect(treasury).approve(settlementAddress, 12n);
      await settlement.settle(id, payees, [6n, 6n], []);
      expect(await stablecoin.balanceOf(treasury.address)).to.equal(TREASURY_FUNDS - 12n);
    });

    it("reverts as a whole when the treasury's balance does not cover the total", async function () {
      const { settlement, stablecoin, treasury, alice, bob, stranger } = await loadFixture(deploySettlement);
      await stablecoin.connect(treasury).transfer(stranger.address, TREASURY_FUNDS - 10n);
      const payees = ascending([alice.address, bob.address]);
      const id = ethers.id("short-balance");

      await expect(settlement.settle(id, payees, [6n, 6n], []))
        .to.be.revertedWithCustomError(stablecoin, "ERC20InsufficientBalance")
        .withArgs(treasury.address, 4n, 6n);
      for (const payee of payees) expect(await stablecoin.balanceOf(payee)).to.equal(0n);
      expect(await stablecoin.balanceOf(treasury.address)).to.equal(10n);
      expect(await settlement.isSettled(id)).to.equal(false);
    });

    it("pays a revenue split clone, whose recipients then release their shares of it", async function () {
      const { settlement, stablecoin, admin, alice, bob, carol } = await loadFixture(deploySettlement);
      const factory = await new SplitFactory__factory(admin).deploy();
      const recipients = [alice.address, bob.address];
      await factory.createSplit(recipients, [7000, 3000]);
      const splitAddress = await factory.predictSplit(recipients, [7000, 3000]);
      const split = RevenueSplit__factory.connect(splitAddress, carol);
      const token = await stablecoin.getAddress();

      const payees = ascending([splitAddress, carol.address]);
      const amounts = payees.map((p) => (p === splitAddress ? 1_000_001n : 5n));
      await settlement.settle(ethers.id("to-split"), payees, amounts, [ref("split")]);
      expect(await stablecoin.balanceOf(splitAddress)).to.equal(1_000_001n);

      await expect(split.release(token, alice.address))
        .to.emit(split, "PaymentReleased")
        .withArgs(token, alice.address, 700_001n);
      await expect(split.release(token, bob.address))
        .to.emit(split, "PaymentReleased")
        .withArgs(token, bob.address, 300_000n);
      expect(await stablecoin.balanceOf(alice.address)).to.equal(700_001n);
      expect(await stablecoin.balanceOf(bob.address)).to.equal(300_000n);
      expect(await stablecoin.balanceOf(splitAddress)).to.equal(0n);
    });

    it("pays 100 first-time payees with one payment reference each for at most 40,000 gas per payee", async function () {
      const { settlement } = await loadFixture(deploySettlement);
      const payees = freshPayees(100, "gas");
      const receipt = await (
        await settlement.settle(
          ethers.id("gas"),
          payees,
          payees.map((_, i) => 1_000_000n + BigInt(i)),
          payees.map((_, i) => ref(`gas-${i}`)),
        )
      ).wait();
      expect(Number(receipt!.gasUsed) / 100).to.be.at.most(40_000);
    });

    it("pays every payee its amount and takes exactly their sum from the treasury, for any settlement", async function () {
      this.timeout(120_000);
      const { settlement, stablecoin, treasury } = await loadFixture(deploySettlement);
      let round = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(fc.bigInt({ min: 1n, max: (1n << 160n) - 1n }), { minLength: 1, maxLength: 40 }),
          fc.array(fc.bigInt({ min: 1n, max: 10n ** 9n }), { minLength: 40, maxLength: 40 }),
          fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { maxLength: 5 }),
          async (numbers, amountPool, refBytes) => {
            round += 1;
            const payees = ascending(numbers.map((n) => ethers.getAddress(ethers.toBeHex(n, 20))));
            const amounts = payees.map((_, i) => amountPool[i]!);
            const refs = refBytes.map((bytes) => ethers.hexlify(bytes));
            const treasuryBefore = await stablecoin.balanceOf(treasury.address);
            const before = await Promise.all(payees.map((p) => stablecoin.balanceOf(p)));
            const sum = amounts.reduce((a, b) => a + b, 0n);

            const receipt = await (
              await settlement.settle(ethers.id(`property-${round}`), payees, amounts, refs)
            ).wait();
            const paid = receipt!.logs
              .map((log) => settlement.interface.parseLog(log))
              .find((parsed) => parsed?.name === "SettlementPaid")!;

            expect(paid.args.total).to.equal(sum);
            expect(treasuryBefore - (await stablecoin.balanceOf(treasury.address))).to.equal(sum);
            const after = await Promise.all(payees.map((p) => stablecoin.balanceOf(p)));
            expect(after.map((b, i) => b - before[i]!)).to.deep.equal(amounts);
          },
        ),
        { numRuns: 40 },
      );
    });
  });

  describe("setTreasury", function () {
    it("lets the admin move settlements to another treasury, announced with TreasurySet", async function () {
      const { settlement, settlementAddress, stablecoin, admin, newTreasury, treasury, alice } =
        await loadFixture(deploySettlement);
      await expect(settlement.connect(admin).setTreasury(newTreasury.address))
        .to.emit(settlement, "TreasurySet")
        .withArgs(newTreasury.address);
      expect(await settlement.treasury()).to.equal(newTreasury.address);

      await stablecoin.mint(newTreasury.address, 100n);
      await stablecoin.connect(newTreasury).approve(settlementAddress, 100n);
      await expect(settlement.settle(ethers.id("new-treasury"), [alice.address], [40n], []))
        .to.emit(settlement, "SettlementPaid")
        .withArgs(ethers.id("new-treasury"), newTreasury.address, 40n, [alice.address], [40n], []);
      expect(await stablecoin.balanceOf(newTreasury.address)).to.equal(60n);
      expect(await stablecoin.balanceOf(treasury.address)).to.equal(TREASURY_FUNDS);
    });

    it("refuses a zero treasury with InvalidTreasury", async function () {
      const { settlement, admin } = await loadFixture(deploySettlement);
      await expect(settlement.connect(admin).setTreasury(ethers.ZeroAddress))
        .to.be.revertedWithCustomError(settlement, "InvalidTreasury")
        .withArgs(ethers.ZeroAddress);
    });

    it("refuses anyone but the admin, the settler included, with AccessControlUnauthorizedAccount", async function () {
      const { settlement, settler, stranger, treasury } = await loadFixture(deploySettlement);
      for (const caller of [settler, stranger]) {
        await expect(settlement.connect(caller).setTreasury(caller.address))
          .to.be.revertedWithCustomError(settlement, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, ethers.ZeroHash);
      }
      expect(await settlement.treasury()).to.equal(treasury.address);
    });
  });
});
