import { expect } from "chai";
import { network } from "hardhat";
import { ChainFactsPendingError, fetchChainFacts } from "../../server/evidence/chain-facts.ts";
import { deployEvidenceChain, registerFile, sampleFile } from "../helpers/evidence.ts";

const { ethers } = await network.create();

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a rejection");
}

describe("fetchChainFacts", function () {
  it("returns the node's raw receipt and the raw header of the receipt's block", async function () {
    const chain = await deployEvidenceChain(ethers);
    const reg = await registerFile(chain, sampleFile("chain facts"));
    const facts = await fetchChainFacts(ethers.provider, reg.txHash);
    expect(facts.receipt).to.deep.equal(
      await ethers.provider.send("eth_getTransactionReceipt", [reg.txHash]),
    );
    expect(facts.blockHeader).to.deep.equal(
      await ethers.provider.send("eth_getBlockByNumber", [facts.receipt.blockNumber, false]),
    );
    expect(facts.blockHeader.hash).to.equal(facts.receipt.blockHash);
  });

  it("reports a transaction without a receipt as pending", async function () {
    const err = await rejection(fetchChainFacts(ethers.provider, `0x${"12".repeat(32)}`));
    expect(err).to.be.instanceOf(ChainFactsPendingError);
    expect(err.message).to.match(/has no receipt yet/);
  });

  it("reports a block that changed between the two calls as a reorg", async function () {
    const receipt = { blockNumber: "0x5", blockHash: `0x${"aa".repeat(32)}` };
    const node = {
      send: (method: string) =>
        Promise.resolve(method === "eth_getTransactionReceipt" ? receipt : { hash: `0x${"bb".repeat(32)}` }),
    };
    const err = await rejection(fetchChainFacts(node, `0x${"12".repeat(32)}`));
    expect(err).to.be.instanceOf(ChainFactsPendingError);
    expect(err.message).to.match(/reorg/);
  });
});
