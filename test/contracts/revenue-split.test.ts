import { expect } from "chai";
import fc from "fast-check";
import { network } from "hardhat";
import { deploySplits } from "../helpers/licensing.ts";
import {
  ReentrantReceiver__factory,
  RejectingReceiver__factory,
  RevenueSplit__factory,
} from "../../types/typechain/index.ts";
import type { RevenueSplit } from "../../types/typechain/index.ts";

const { ethers, networkHelpers } = await network.create();
const { loadFixture } = networkHelpers;
const NATIVE = ethers.ZeroAddress;

describe("SplitFactory", function () {
  it("deploys a locked implementation that cannot be initialized", async function () {
    const { factory, implementation, alice } = await loadFixture(deploySplits);
    expect(await ethers.provider.getCode(await factory.implementation())).to.not.equal("0x");
    await expect(implementation.initialize([alice.address], [10_000])).to.be.revertedWithCustomError(
      implementation,
      "AlreadyInitialized",
    );
  });

  it("creates a split at its predicted address, records it and emits SplitCreated", async function () {
    const { factory, deployer, alice, bob } = await loadFixture(deploySplits);
    const recipients = [alice.address, bob.address];
    const predicted = await factory.predictSplit(recipients, [6000, 4000]);
    expect(await factory.isSplit(predicted)).to.equal(false);

    await expect(factory.createSplit(recipients, [6000, 4000]))
      .to.emit(factory, "SplitCreated")
      .withArgs(predicted, deployer.address, recipients, [6000, 4000]);

    expect(await factory.isSplit(predicted)).to.equal(true);
    const split = RevenueSplit__factory.connect(predicted, deployer);
    const [accounts, shares] = await split.recipients();
    expect(accounts).to.deep.equal(recipients);
    expect(shares).to.deep.equal([6000n, 4000n]);
  });

  it("returns the existing split for the same terms without deploying or emitting again", async function () {
    const { factory, alice, bob, other } = await loadFixture(deploySplits);
    const recipients = [alice.address, bob.address];
    await factory.createSplit(recipients, [5000, 5000]);
    const existing = await factory.predictSplit(recipients, [5000, 5000]);

    expect(await factory.connect(other).createSplit.staticCall(recipients, [5000, 5000])).to.equal(existing);
    await expect(factory.connect(other).createSplit(recipients, [5000, 5000])).to.not.emit(
      factory,
      "SplitCreated",
    );
  });

  it("derives different splits for different orders or shares", async function () {
    const { factory, alice, bob } = await loadFixture(deploySplits);
    const forward = await factory.predictSplit([alice.address, bob.address], [5000, 5000]);
    const reversed = await factory.predictSplit([bob.address, alice.address], [5000, 5000]);
    const reshared = await factory.predictSplit([alice.address, bob.address], [5001, 4999]);
    expect(new Set([forward, reversed, reshared]).size).to.equal(3);
  });

  it("does not recognise addresses it did not deploy", async function () {
    const { factory, implementation, alice } = await loadFixture(deploySplits);
    expect(await factory.isSplit(alice.address)).to.equal(false);
    expect(await factory.isSplit(await implementation.getAddress())).to.equal(false);
  });

  it("rejects shares that do not sum to 10,000 with InvalidSplit", async function () {
    const { factory, implementation, alice, bob } = await loadFixture(deploySplits);
    await expect(factory.createSplit([alice.address, bob.address], [5000, 4999]))
      .to.be.revertedWithCustomError(implementation, "InvalidSplit")
      .withArgs(2, 9999);
  });

  it("rejects an empty split, more than 50 recipients, mismatched lengths and zero shares with InvalidSplit", async function () {
    const { factory, implementation, alice, bob } = await loadFixture(deploySplits);
    await expect(factory.createSplit([], []))
      .to.be.revertedWithCustomError(implementation, "InvalidSplit")
      .withArgs(0, 0);

    const many = Array.from({ length: 51 }, (_, i) => ethers.getAddress(ethers.toBeHex(i + 1, 20)));
    const manyShares = Array.from({ length: 51 }, (_, i) => (i === 0 ? 10_000 - 50 * 196 : 196));
    await expect(factory.createSplit(many, manyShares))
      .to.be.revertedWithCustomError(implementation, "InvalidSplit")
      .withArgs(51, 10_000);

    await expect(factory.createSplit([alice.address, bob.address], [10_000]))
      .to.be.revertedWithCustomError(implementation, "InvalidSplit")
      .withArgs(2, 10_000);
    await expect(factory.createSplit([alice.address, bob.address], [10_000, 0]))
      .to.be.revertedWithCustomError(implementation, "InvalidSplit")
      .withArgs(2, 10_000);
  });

  it("accepts exactly 50 recipients", async function () {
    const { factory } = await loadFixture(deploySplits);
    const many = Array.from({ length: 50 }, (_, i) => ethers.getAddress(ethers.toBeHex(i + 1, 20)));
    const shares = Array.from({ length: 50 }, () => 200);
    await factory.createSplit(many, shares);
    expect(await factory.isSplit(await factory.predictSplit(many, shares))).to.equal(true);
  });

  it("rejects the zero address and duplicate recipients with InvalidRecipient", async function () {
    const { factory, implementation, alice } = await loadFixture(deploySplits);
    await expect(factory.createSplit([alice.address, ethers.ZeroAddress], [5000, 5000]))
      .to.be.revertedWithCustomError(implementation, "InvalidRecipient")
      .withArgs(ethers.ZeroAddress);
    await expect(factory.createSplit([alice.address, alice.address], [5000, 5000]))
      .to.be.revertedWithCustomError(implementation, "InvalidRecipient")
      .withArgs(alice.address);
  });
});

/** A split between alice, bob and carol (50/30/20), and helpers to pay into it. */
async function deployThreeWaySplit(connection: Parameters<typeof deploySplits>[0]) {
  const base = await deploySplits(connection);
  const { factory, alice, bob, carol, deployer } = base;
  const recipients = [alice.address, bob.address, carol.address];
  await factory.createSplit(recipients, [5000, 3000, 2000]);
  const split = RevenueSplit__factory.connect(
    await factory.predictSplit(recipients, [5000, 3000, 2000]),
    deployer,
  );
  return { ...base, split, splitAddress: await split.getAddress() };
}

async function splitWith(
  fixture: Awaited<ReturnType<typeof deploySplits>>,
  recipients: string[],
  shares: number[],
): Promise<RevenueSplit> {
  await fixture.factory.createSplit(recipients, shares);
  return RevenueSplit__factory.connect(
    await fixture.factory.predictSplit(recipients, shares),
    fixture.deployer,
  );
}

describe("RevenueSplit", function () {
  describe("receiving", function () {
    it("accepts native currency, emits PaymentReceived and counts it as received", async function () {
      const { split, splitAddress, payer } = await loadFixture(deployThreeWaySplit);
      await expect(payer.sendTransaction({ to: splitAddress, value: 1000n }))
        .to.emit(split, "PaymentReceived")
        .withArgs(payer.address, 1000n);
      expect(await split.totalReceived(NATIVE)).to.equal(1000n);
      expect(await split.totalReleased(NATIVE)).to.equal(0n);
    });

    it("receives native currency without writing storage", async function () {
      const { splitAddress, payer } = await loadFixture(deployThreeWaySplit);
      await payer.sendTransaction({ to: splitAddress, value: 1n });
      const receipt = await (await payer.sendTransaction({ to: splitAddress, value: 1000n })).wait();
      // 21,000 intrinsic + the proxy's delegatecall and one log: a storage write alone would cost 2,900+.
      expect(receipt!.gasUsed).to.be.lessThan(21_000n + 6_000n);
    });

    it("counts ERC-20 transfers as received without any hook", async function () {
      const { split, splitAddress, stablecoin, alice } = await loadFixture(deployThreeWaySplit);
      await stablecoin.mint(splitAddress, 5_000_000n);
      const token = await stablecoin.getAddress();
      expect(await split.totalReceived(token)).to.equal(5_000_000n);
      expect(await split.releasable(token, alice.address)).to.equal(2_500_000n);
    });
  });

  describe("release", function () {
    it("pays a recipient its native share and records it", async function () {
      const { split, splitAddress, payer, bob, other } = await loadFixture(deployThreeWaySplit);
      await payer.sendTransaction({ to: splitAddress, value: 10_000n });
      expect(await split.releasable(NATIVE, bob.address)).to.equal(3000n);

      const tx = split.connect(other).release(NATIVE, bob.address);
      await expect(tx).to.emit(split, "PaymentReleased").withArgs(NATIVE, bob.address, 3000n);
      await expect(tx).to.changeEtherBalances(ethers, [split, bob], [-3000n, 3000n]);
      expect(await split.released(NATIVE, bob.address)).to.equal(3000n);
      expect(await split.totalReleased(NATIVE)).to.equal(3000n);
      expect(await split.totalReceived(NATIVE)).to.equal(10_000n);
      expect(await split.releasable(NATIVE, bob.address)).to.equal(0n);
    });

    it("pays a recipient its ERC-20 share", async function () {
      const { split, splitAddress, stablecoin, carol } = await loadFixture(deployThreeWaySplit);
      const token = await stablecoin.getAddress();
      await stablecoin.mint(splitAddress, 1_000_000n);

      await expect(split.release(token, carol.address))
        .to.emit(split, "PaymentReleased")
        .withArgs(token, carol.address, 200_000n);
      expect(await stablecoin.balanceOf(carol.address)).to.equal(200_000n);
      expect(await stablecoin.balanceOf(splitAddress)).to.equal(800_000n);
      expect(await split.released(token, carol.address)).to.equal(200_000n);
      expect(await split.totalReleased(token)).to.equal(200_000n);
      expect(await split.totalReceived(token)).to.equal(1_000_000n);
    });

    it("pays only what arrived since the last release", async function () {
      const { split, splitAddress, payer, alice } = await loadFixture(deployThreeWaySplit);
      await payer.sendTransaction({ to: splitAddress, value: 1000n });
      await split.release(NATIVE, alice.address);
      await payer.sendTransaction({ to: splitAddress, value: 3000n });
      await expect(split.release(NATIVE, alice.address)).to.changeEtherBalance(ethers, alice, 1500n);
      expect(await split.released(NATIVE, alice.address)).to.equal(2000n);
    });

    it("rejects accounts that are not recipients with NotRecipient", async function () {
      const { split, splitAddress, payer, other } = await loadFixture(deployThreeWaySplit);
      await payer.sendTransaction({ to: splitAddress, value: 1000n });
      await expect(split.release(NATIVE, other.address))
        .to.be.revertedWithCustomError(split, "NotRecipient")
        .withArgs(other.address);
      expect(await split.releasable(NATIVE, other.address)).to.equal(0n);
    });

    it("rejects a release with nothing owed with NothingToRelease", async function () {
      const { split, splitAddress, payer, stablecoin, alice } = await loadFixture(deployThreeWaySplit);
      const token = await stablecoin.getAddress();
      await expect(split.release(token, alice.address))
        .to.be.revertedWithCustomError(split, "NothingToRelease")
        .withArgs(token, alice.address);
      await payer.sendTransaction({ to: splitAddress, value: 1000n });
      await split.release(NATIVE, alice.address);
      await expect(split.release(NATIVE, alice.address))
        .to.be.revertedWithCustomError(split, "NothingToRelease")
        .withArgs(NATIVE, alice.address);
    });

    it("reverts with NativeTransferFailed when the recipient refuses native currency, leaving others unaffected", async function () {
      const fixture = await loadFixture(deploySplits);
      const { deployer, alice, payer } = fixture;
      const rejecting = await new RejectingReceiver__factory(deployer).deploy();
      const rejectingAddress = await rejecting.getAddress();
      const split = await splitWith(fixture, [alice.address, rejectingAddress], [5000, 5000]);
      await payer.sendTransaction({ to: await split.getAddress(), value: 100n });

      await expect(split.release(NATIVE, rejectingAddress))
        .to.be.revertedWithCustomError(split, "NativeTransferFailed")
        .withArgs(rejectingAddress, 50n);
      await expect(split.distribute(NATIVE))
        .to.be.revertedWithCustomError(split, "NativeTransferFailed")
        .withArgs(rejectingAddress, 50n);
      await expect(split.release(NATIVE, alice.address)).to.changeEtherBalance(ethers, alice, 50n);
    });
  });

  describe("distribute", function () {
    it("pays every recipient what it is owed in native currency", async function () {
      const { split, splitAddress, payer, alice, bob, carol } = await loadFixture(deployThreeWaySplit);
      await payer.sendTransaction({ to: splitAddress, value: 10_000n });
      const tx = split.distribute(NATIVE);
      await expect(tx).to.emit(split, "PaymentReleased").withArgs(NATIVE, alice.address, 5000n);
      await expect(tx).to.emit(split, "PaymentReleased").withArgs(NATIVE, bob.address, 3000n);
      await expect(tx).to.emit(split, "PaymentReleased").withArgs(NATIVE, carol.address, 2000n);
      await expect(tx).to.changeEtherBalances(
        ethers,
        [split, alice, bob, carol],
        [-10_000n, 5000n, 3000n, 2000n],
      );
      expect(await split.totalReleased(NATIVE)).to.equal(10_000n);
    });

    it("pays only recipients with something owed, in ERC-20", async function () {
      const { split, splitAddress, stablecoin, alice, bob, carol } = await loadFixture(deployThreeWaySplit);
      const token = await stablecoin.getAddress();
      await stablecoin.mint(splitAddress, 1000n);
      await split.release(token, bob.address);
      const receipt = await (await split.distribute(token)).wait();
      const payouts = receipt!.logs
        .filter((log) => log.address === splitAddress)
        .map((log) => split.interface.parseLog(log)!.args.toArray());
      expect(payouts).to.deep.equal([
        [token, alice.address, 500n],
        [token, carol.address, 200n],
      ]);
      expect(await stablecoin.balanceOf(alice.address)).to.equal(500n);
      expect(await stablecoin.balanceOf(bob.address)).to.equal(300n);
      expect(await stablecoin.balanceOf(carol.address)).to.equal(200n);
      expect(await stablecoin.balanceOf(splitAddress)).to.equal(0n);
    });

    it("does nothing when nothing is owed", async function () {
      const { split } = await loadFixture(deployThreeWaySplit);
      await expect(split.distribute(NATIVE)).to.not.emit(split, "PaymentReleased");
      expect(await split.totalReleased(NATIVE)).to.equal(0n);
    });
  });

  describe("rounding", function () {
    for (const amount of [1n, 7n, 10n ** 18n + 3n]) {
      it(`pays out exactly ${amount} wei received by a 3,333/3,333/3,334 split, leaving no dust`, async function () {
        const fixture = await loadFixture(deploySplits);
        const { alice, bob, carol, payer } = fixture;
        const split = await splitWith(
          fixture,
          [alice.address, bob.address, carol.address],
          [3333, 3333, 3334],
        );
        const splitAddress = await split.getAddress();
        await payer.sendTransaction({ to: splitAddress, value: amount });

        const owed = await Promise.all([alice, bob, carol].map((r) => split.releasable(NATIVE, r.address)));
        expect(owed.reduce((a, b) => a + b, 0n)).to.equal(amount);
        await expect(split.distribute(NATIVE)).to.changeEtherBalances(ethers, [alice, bob, carol], owed);
        expect(await ethers.provider.getBalance(splitAddress)).to.equal(0n);
        expect(await split.totalReleased(NATIVE)).to.equal(amount);
      });
    }

    it("gives recipient 0 the rounding remainder first", async function () {
      const fixture = await loadFixture(deploySplits);
      const { alice, bob, carol, payer } = fixture;
      const split = await splitWith(fixture, [alice.address, bob.address, carol.address], [3333, 3333, 3334]);
      await payer.sendTransaction({ to: await split.getAddress(), value: 7n });
      expect(await split.releasable(NATIVE, alice.address)).to.equal(3n);
      expect(await split.releasable(NATIVE, bob.address)).to.equal(2n);
      expect(await split.releasable(NATIVE, carol.address)).to.equal(2n);
    });

    it("keeps every recipient paid in full when recipient 0 pulls a remainder before more arrives", async function () {
      const fixture = await loadFixture(deploySplits);
      const { alice, bob, carol, payer } = fixture;
      const split = await splitWith(fixture, [alice.address, bob.address, carol.address], [2, 4999, 4999]);
      const splitAddress = await split.getAddress();
      await payer.sendTransaction({ to: splitAddress, value: 2n });
      await split.release(NATIVE, alice.address);
      await payer.sendTransaction({ to: splitAddress, value: 1n });

      const owed = await Promise.all([alice, bob, carol].map((r) => split.releasable(NATIVE, r.address)));
      const released = await split.released(NATIVE, alice.address);
      expect(released + owed.reduce((a, b) => a + b, 0n)).to.equal(3n);
      await split.distribute(NATIVE);
      expect(await ethers.provider.getBalance(splitAddress)).to.equal(0n);
    });
  });

  describe("reentrancy", function () {
    async function attackerSplit() {
      const fixture = await loadFixture(deploySplits);
      const { deployer, alice, payer } = fixture;
      const attacker = await new ReentrantReceiver__factory(deployer).deploy();
      const attackerAddress = await attacker.getAddress();
      const split = await splitWith(fixture, [attackerAddress, alice.address], [5000, 5000]);
      await payer.sendTransaction({ to: await split.getAddress(), value: 1000n });
      return { ...fixture, attacker, attackerAddress, split };
    }

    it("blocks a recipient re-entering release from its receive hook; it gets its share once", async function () {
      const { attacker, attackerAddress, split } = await attackerSplit();
      await attacker.arm(
        await split.getAddress(),
        split.interface.encodeFunctionData("release", [NATIVE, attackerAddress]),
        0,
      );

      await expect(split.release(NATIVE, attackerAddress)).to.changeEtherBalance(
        ethers,
        attackerAddress,
        500n,
      );
      expect(await attacker.attempted()).to.equal(true);
      expect(await attacker.reentrySucceeded()).to.equal(false);
      expect(await attacker.reentryError()).to.equal(
        split.interface.getError("ReentrancyGuardReentrantCall")!.selector,
      );
      expect(await split.released(NATIVE, attackerAddress)).to.equal(500n);
      expect(await split.totalReleased(NATIVE)).to.equal(500n);
    });

    it("blocks a recipient re-entering distribute from its receive hook", async function () {
      const { attacker, attackerAddress, split, alice } = await attackerSplit();
      await attacker.arm(
        await split.getAddress(),
        split.interface.encodeFunctionData("distribute", [NATIVE]),
        0,
      );

      await expect(split.distribute(NATIVE)).to.changeEtherBalances(
        ethers,
        [attackerAddress, alice],
        [500n, 500n],
      );
      expect(await attacker.reentrySucceeded()).to.equal(false);
      expect(await attacker.reentryError()).to.equal(
        split.interface.getError("ReentrancyGuardReentrantCall")!.selector,
      );
      expect(await split.totalReleased(NATIVE)).to.equal(1000n);
    });
  });

  describe("accounting invariants (randomized)", function () {
    type Step =
      | { kind: "pay"; erc20: boolean; amount: bigint }
      | { kind: "release"; erc20: boolean; who: number }
      | { kind: "distribute"; erc20: boolean };

    const amount = fc.oneof(
      fc.bigInt({ min: 1n, max: 3n }),
      fc.bigInt({ min: 1n, max: 10n }),
      fc.bigInt({ min: 1n, max: 10n ** 6n }),
      fc.bigInt({ min: 1n, max: 10n ** 24n }),
    );
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({ kind: fc.constant("pay" as const), erc20: fc.boolean(), amount }),
      fc.record({ kind: fc.constant("release" as const), erc20: fc.boolean(), who: fc.nat({ max: 5 }) }),
      fc.record({ kind: fc.constant("distribute" as const), erc20: fc.boolean() }),
    );
    // n - 1 distinct cut points in (0, 10,000) give n positive shares summing to 10,000.
    const toShares = (cuts: number[]) => {
      const points = [0, ...cuts.sort((a, b) => a - b), 10_000];
      return points.slice(1).map((point, i) => point - points[i]!);
    };
    const shares = fc
      .oneof(
        fc.uniqueArray(fc.integer({ min: 1, max: 9999 }), { maxLength: 5 }),
        // A tiny first share makes rounding a large part of recipient 0's entitlement.
        fc
          .tuple(
            fc.integer({ min: 1, max: 10 }),
            fc.uniqueArray(fc.integer({ min: 11, max: 9999 }), { minLength: 1, maxLength: 4 }),
          )
          .map(([first, rest]) => [first, ...rest]),
      )
      .map(toShares);

    it("keeps balance + released == received, sum(released + releasable) == received and entitlements non-decreasing after every step", async function () {
      this.timeout(120_000);
      const fixture = await loadFixture(deploySplits);
      const { payer, stablecoin } = fixture;
      await networkHelpers.setBalance(payer.address, 10n ** 30n);
      const tokenAddress = await stablecoin.getAddress();

      await fc.assert(
        fc.asyncProperty(
          shares,
          fc.array(step, { minLength: 1, maxLength: 10 }),
          fc.nat(),
          async (bps, steps, seed) => {
            const snapshot = await networkHelpers.takeSnapshot();
            try {
              const recipients = bps.map((_, i) =>
                ethers.getAddress(ethers.id(`recipient-${seed}-${i}`).slice(0, 42)),
              );
              const split = await splitWith(fixture, recipients, bps);
              const splitAddress = await split.getAddress();
              const received = { native: 0n, erc20: 0n };
              const entitledBefore = { native: bps.map(() => 0n), erc20: bps.map(() => 0n) };

              const balanceOf = (erc20: boolean, account: string) =>
                erc20 ? stablecoin.balanceOf(account) : ethers.provider.getBalance(account);

              for (const s of steps) {
                const token = s.erc20 ? tokenAddress : NATIVE;
                const key = s.erc20 ? "erc20" : "native";
                if (s.kind === "pay") {
                  if (s.erc20) await stablecoin.mint(splitAddress, s.amount);
                  else await payer.sendTransaction({ to: splitAddress, value: s.amount });
                  received[key] += s.amount;
                } else if (s.kind === "release") {
                  const account = recipients[s.who % recipients.length]!;
                  const owed = await split.releasable(token, account);
                  const before = await balanceOf(s.erc20, account);
                  if (owed === 0n) {
                    await expect(split.release(token, account)).to.be.revertedWithCustomError(
                      split,
                      "NothingToRelease",
                    );
                  } else {
                    await split.release(token, account);
                  }
                  expect((await balanceOf(s.erc20, account)) - before).to.equal(owed);
                } else {
                  const owed = await Promise.all(recipients.map((r) => split.releasable(token, r)));
                  const before = await Promise.all(recipients.map((r) => balanceOf(s.erc20, r)));
                  await split.distribute(token);
                  const after = await Promise.all(recipients.map((r) => balanceOf(s.erc20, r)));
                  expect(after.map((b, i) => b - before[i]!)).to.deep.equal(owed);
                }

                const [balance, totalReleased, totalReceived, released, releasable] = await Promise.all([
                  balanceOf(s.erc20, splitAddress),
                  split.totalReleased(token),
                  split.totalReceived(token),
                  Promise.all(recipients.map((r) => split.released(token, r))),
                  Promise.all(recipients.map((r) => split.releasable(token, r))),
                ]);
                expect(totalReceived).to.equal(received[key]);
                expect(balance + totalReleased).to.equal(totalReceived);
                const entitlements = released.map((r, i) => r + releasable[i]!);
                expect(entitlements.reduce((a, b) => a + b, 0n)).to.equal(totalReceived);
                entitlements.forEach((e, i) => expect(e).to.be.at.least(entitledBefore[key][i]!));
                entitledBefore[key] = entitlements;
                // Rounding moves less than one unit per recipient away from the exact share.
                entitlements.forEach((e, i) => {
                  const exact = totalReceived * BigInt(bps[i]!);
                  const diff = e * 10_000n - exact;
                  expect(diff < 0n ? -diff : diff).to.be.lessThan(BigInt(recipients.length) * 10_000n);
                });
              }
            } finally {
              await snapshot.restore();
            }
          },
        ),
        { numRuns: 300 },
      );
    });
  });
});
