import { expect } from "chai";
import { network } from "hardhat";
import { blockHashOf, encodeBlockHeader } from "../../lib/evidence/block-header.ts";
import { deployEvidenceChain, registerFile, sampleFile } from "../helpers/evidence.ts";

type RpcBlock = Record<string, unknown> & { hash: string; number: string };

/** Ethereum mainnet's genesis block, as any archive node returns it (fields before London only). */
const MAINNET_GENESIS = {
  hash: "0xd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3",
  parentHash: `0x${"00".repeat(32)}`,
  sha3Uncles: "0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347",
  miner: `0x${"00".repeat(20)}`,
  stateRoot: "0xd7f8974fb5ac78d9ac099b9ad5018bedc2ce0a72dad1827a1709da30580f0544",
  transactionsRoot: "0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421",
  receiptsRoot: "0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421",
  logsBloom: `0x${"00".repeat(256)}`,
  difficulty: "0x400000000",
  number: "0x0",
  gasLimit: "0x1388",
  gasUsed: "0x0",
  timestamp: "0x0",
  extraData: "0x11bbe8db4e347b4e8c937c1c8370e4b5ed33adb3db69cbdb7a38e1e50b1b82fa",
  mixHash: `0x${"00".repeat(32)}`,
  nonce: "0x0000000000000042",
  totalDifficulty: "0x400000000",
  size: "0x21c",
  transactions: [],
  uncles: [],
};

describe("block header hashing", function () {
  it("reproduces Ethereum mainnet's genesis block hash", function () {
    expect(blockHashOf(MAINNET_GENESIS)).to.equal(MAINNET_GENESIS.hash);
  });

  describe("on a Hardhat chain (Prague)", function () {
    const blocks: RpcBlock[] = [];

    before(async function () {
      const { ethers } = await network.create();
      const chain = await deployEvidenceChain(ethers);
      await registerFile(chain, sampleFile("header test"));
      await ethers.provider.send("evm_mine", []);
      await ethers.provider.send("evm_setAutomine", [false]);
      for (const other of chain.others.slice(0, 3))
        await chain.creator.sendTransaction({ to: other.address, value: 1n });
      await ethers.provider.send("evm_mine", []);
      await ethers.provider.send("evm_setAutomine", [true]);
      const head = await ethers.provider.getBlockNumber();
      for (let n = 0; n <= head; n++)
        blocks.push(await ethers.provider.send("eth_getBlockByNumber", [`0x${n.toString(16)}`, false]));
    });

    it("reproduces the hash of every block: genesis, deployments, a registration, an empty block and a block of three transactions", function () {
      const txCounts = blocks.map((b) => (b.transactions as unknown[]).length);
      expect(txCounts[0]).to.equal(0);
      expect(txCounts).to.include(0, "an empty block");
      expect(txCounts[txCounts.length - 1]).to.equal(3);
      for (const block of blocks) expect(blockHashOf(block), `block ${block.number}`).to.equal(block.hash);
    });

    it("hashes a different value when any header field changes", function () {
      const block = blocks[blocks.length - 1]!;
      const fields = [
        "parentHash",
        "stateRoot",
        "receiptsRoot",
        "gasUsed",
        "timestamp",
        "baseFeePerGas",
        "parentBeaconBlockRoot",
        "requestsHash",
      ];
      for (const field of fields) {
        const value = block[field] as string;
        const changed =
          value.length === 66
            ? `${value.slice(0, -1)}${value.endsWith("0") ? "1" : "0"}`
            : `0x${(BigInt(value) + 1n).toString(16)}`;
        expect(blockHashOf({ ...block, [field]: changed }), field).to.not.equal(block.hash);
      }
    });

    it("ignores fields that are not part of the header (transactions, size, totalDifficulty)", function () {
      const block = blocks[blocks.length - 1]!;
      expect(blockHashOf({ ...block, transactions: [], size: "0x1", totalDifficulty: "0x0" })).to.equal(
        block.hash,
      );
    });

    it("rejects a header with a later fork's field but without an earlier one", function () {
      const { baseFeePerGas: _dropped, ...withoutBaseFee } = blocks[1]!;
      expect(() => encodeBlockHeader(withoutBaseFee)).to.throw(
        /has withdrawalsRoot but lacks baseFeePerGas \(London\)/,
      );
    });

    it("rejects malformed fields", function () {
      expect(() => encodeBlockHeader({ ...blocks[1]!, nonce: "0x00" })).to.throw(/8-byte/);
      expect(() => encodeBlockHeader({ ...blocks[1]!, gasUsed: "0x01" })).to.throw(/quantity/);
    });
  });

  for (const [hardfork, lastField, nextField] of [
    ["berlin", "nonce", "baseFeePerGas"],
    ["london", "baseFeePerGas", "withdrawalsRoot"],
    ["shanghai", "withdrawalsRoot", "blobGasUsed"],
    ["cancun", "parentBeaconBlockRoot", "requestsHash"],
    ["prague", "requestsHash", undefined],
  ] as const) {
    it(`reproduces block hashes of a ${hardfork} chain, whose header ends with ${lastField}`, async function () {
      const { ethers } = await network.create({ override: { hardfork } });
      const [sender] = await ethers.getSigners();
      await (await sender!.sendTransaction({ to: sender!.address, value: 1n })).wait();
      await ethers.provider.send("evm_mine", []);
      for (const n of ["0x0", "0x1", "0x2"]) {
        const block = (await ethers.provider.send("eth_getBlockByNumber", [n, false])) as RpcBlock;
        expect(block[lastField], `${hardfork} block ${n} has ${lastField}`).to.be.a("string");
        if (nextField)
          expect(block[nextField], `${hardfork} block ${n} lacks ${nextField}`).to.equal(undefined);
        expect(blockHashOf(block), `${hardfork} block ${n}`).to.equal(block.hash);
      }
    });
  }
});
