import { expect } from "chai";
import { network } from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";
import { randomBytes, randomUUID } from "node:crypto";
import { CodeCommitments__factory } from "../../types/typechain/index.ts";
import {
  codeBatchIdOf,
  codeHashOf,
  codeLeafOf,
  codeLeafValues,
  codeTreeOf,
} from "../../lib/code-commitments.ts";

const { ethers, networkHelpers } = await network.create();
const { loadFixture } = networkHelpers;

async function deployCommitments({ ethers }: NetworkConnection) {
  const [admin, committer, stranger] = await ethers.getSigners();
  const commitments = await new CodeCommitments__factory(admin).deploy(admin!.address);
  await commitments.grantRole(await commitments.COMMITTER_ROLE(), committer!.address);
  return {
    commitments: commitments.connect(committer),
    admin: admin!,
    committer: committer!,
    stranger: stranger!,
  };
}

/** A batch of `n` codes of `offerId`: their leaf values and tree. */
function batchOf(offerId: string, n: number) {
  const codes = Array.from({ length: n }, (_, i) => `CODE-${i}-${randomBytes(4).toString("hex")}`);
  const leaves = codes.map((code) => codeLeafValues(offerId, randomBytes(32), code));
  return { id: codeBatchIdOf(randomUUID()), codes, leaves, tree: codeTreeOf(leaves) };
}

describe("CodeCommitments", () => {
  const fixture = () => deployCommitments({ ethers } as NetworkConnection);

  it("commits a batch's root once, for the committer only, and names each refusal", async () => {
    const { commitments, stranger } = await loadFixture(fixture);
    const batch = batchOf("7", 5);
    await expect(commitments.connect(stranger).commitCodes(7, batch.id, batch.tree.root, 5))
      .to.be.revertedWithCustomError(commitments, "AccessControlUnauthorizedAccount")
      .withArgs(stranger.address, await commitments.COMMITTER_ROLE());
    await expect(commitments.commitCodes(7, batch.id, ethers.ZeroHash, 5))
      .to.be.revertedWithCustomError(commitments, "EmptyCodeBatch")
      .withArgs(batch.id);
    await expect(commitments.commitCodes(7, batch.id, batch.tree.root, 0)).to.be.revertedWithCustomError(
      commitments,
      "EmptyCodeBatch",
    );
    await expect(
      commitments.commitCodes(7, ethers.ZeroHash, batch.tree.root, 5),
    ).to.be.revertedWithCustomError(commitments, "EmptyCodeBatch");
    await expect(commitments.commitCodes(7, batch.id, batch.tree.root, 5))
      .to.emit(commitments, "CodesCommitted")
      .withArgs(7, batch.id, batch.tree.root, 5);
    const other = batchOf("7", 2);
    await expect(commitments.commitCodes(7, batch.id, other.tree.root, 2))
      .to.be.revertedWithCustomError(commitments, "CodeBatchCommitted")
      .withArgs(batch.id);
    const [offerId, root, committedAt, count] = await commitments.getCodeBatch(batch.id);
    expect([offerId, root, count]).to.deep.equal([7n, batch.tree.root, 5n]);
    expect(committedAt).to.be.greaterThan(0n);
    await expect(commitments.getCodeBatch(other.id))
      .to.be.revertedWithCustomError(commitments, "UnknownCodeBatch")
      .withArgs(other.id);
  });

  it("verifies every code of a batch, and no code outside it, with another salt or of another offer", async () => {
    const { commitments } = await loadFixture(fixture);
    const batch = batchOf("7", 9);
    const sameCodesOtherOffer = codeTreeOf(
      batch.codes.map((c, i) => codeLeafValues("8", batch.leaves[i]![1], c)),
    );
    await commitments.commitCodes(7, batch.id, batch.tree.root, 9);
    for (const [i, [, salt, codeHash]] of batch.tree.entries()) {
      expect(await commitments.verifyCode(batch.id, salt, codeHash, batch.tree.getProof(i))).to.equal(true);
      expect(await commitments.leafOf(7, salt, codeHash)).to.equal(codeLeafOf("7", salt, codeHash));
    }
    const [, salt] = batch.leaves[0]!;
    const proof = batch.tree.getProof(0);
    expect(await commitments.verifyCode(batch.id, salt, codeHashOf("NOT-IN-THE-BATCH"), proof)).to.equal(
      false,
    );
    expect(
      await commitments.verifyCode(batch.id, ethers.hexlify(randomBytes(32)), batch.leaves[0]![2], proof),
    ).to.equal(false);
    expect(
      await commitments.verifyCode(batch.id, salt, batch.leaves[0]![2], sameCodesOtherOffer.getProof(0)),
    ).to.equal(false);
    await expect(
      commitments.verifyCode(codeBatchIdOf(randomUUID()), salt, batch.leaves[0]![2], proof),
    ).to.be.revertedWithCustomError(commitments, "UnknownCodeBatch");
  });
});
