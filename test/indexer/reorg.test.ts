import type { HardhatEthersProvider } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import { ZeroAddress } from "ethers";
import { createTestDatabase } from "../helpers/database.ts";
import { deployAll, type Deployed } from "../helpers/deployed.ts";
import {
  createChain,
  createIndexerEnv,
  dumpTables,
  metricValue,
  type IndexerEnv,
  type Request,
} from "../helpers/indexer.ts";
import { commitmentOf } from "../../lib/evidence/registry.ts";
import { commitAndReveal, committedWorkId, sha256Hex } from "../helpers/registry.ts";

const PRICE = 10n ** 15n;

describe("indexer reorgs on the deployed contracts", () => {
  let env: IndexerEnv;
  let request: Request;
  let provider: HardhatEthersProvider;
  let d: Deployed;
  let nonce = 0;
  let itemsAddress: string;
  /** Work ids committed up front, by `${variant}-${n}`, so a registration in `activity` is its one reveal. */
  const committed = new Map<string, bigint>();

  /** One transaction of a mix of registrations, purchases, transfers and trades; `variant` changes its content. */
  async function activity(variant: string): Promise<void> {
    const n = nonce++;
    const buyers = [d.buyer, d.buyer2];
    switch (n % 5) {
      case 0:
        await (
          await d.registry
            .connect(d.creator)
            .reveal(
              committed.get(`${variant}-${n}`)!,
              sha256Hex(`${variant}-${n}`),
              BigInt(n + 1),
              `cid-${n}`,
              `ipfs://${variant}`,
              0,
            )
        ).wait();
        break;
      case 1:
        await (
          await d.licenses
            .connect(buyers[n % 2]!)
            .purchase(1, buyers[n % 2]!.address, ZeroAddress, { value: PRICE })
        ).wait();
        break;
      case 2: {
        const tokenId = 1n;
        const owner = await d.licenses.ownerOf(tokenId);
        const from = buyers.find((b) => b.address === owner)!;
        const to = buyers.find((b) => b.address !== owner)!;
        await (await d.licenses.connect(from).transferFrom(owner, to.address, tokenId)).wait();
        break;
      }
      case 3:
        await (await d.items.mint(buyers[n % 2]!.address, 1 + (n % 2), 3, "0x")).wait();
        break;
      default:
        await (
          await d.escrow.connect(d.buyer).list(itemsAddress, 1, 1, PRICE, ZeroAddress, 4_000_000_000)
        ).wait();
    }
  }

  before(async () => {
    env = await createIndexerEnv("reorg");
    const chain = await createChain();
    request = chain.request;
    provider = chain.provider;
    d = await deployAll(chain.conn);
    itemsAddress = await d.items.getAddress();
    await commitAndReveal(d.registry, d.creator, sha256Hex("work"), {
      cid: "cid",
      metadataURI: "ipfs://work",
    });
    for (let n = 0; n < 120; n += 5) {
      for (const variant of ["old", "new"]) {
        const hash = sha256Hex(`${variant}-${n}`);
        const tx = await d.registry
          .connect(d.creator)
          .commit(commitmentOf(d.creator.address, hash, BigInt(n + 1)));
        committed.set(`${variant}-${n}`, await committedWorkId(tx));
      }
    }
    await (await d.splits.createSplit([d.creator.address], [10_000])).wait();
    const split = await d.splits.predictSplit([d.creator.address], [10_000]);
    await (
      await d.licenses.createOffer({
        workId: 1,
        currency: ZeroAddress,
        price: PRICE,
        duration: 0,
        maxSupply: 0,
        transferable: true,
        commercialUse: false,
        referrerBps: 0,
        royaltyBps: 0,
        split,
        territory: "WORLD",
        revocable: false,
      })
    ).wait();
    await (
      await d.licenses.connect(d.buyer).purchase(1, d.buyer.address, ZeroAddress, { value: PRICE })
    ).wait();
    for (const id of [1, 2]) await (await d.items.defineItem(id, `ipfs://item-${id}`, 0)).wait();
    await (await d.items.mint(d.buyer.address, 1, 100, "0x")).wait();
    await (await d.items.connect(d.buyer).setApprovalForAll(await d.escrow.getAddress(), true)).wait();
  });

  after(async () => {
    await env.close();
  });

  for (const depth of [1, 3, 10]) {
    it(`equals a fresh index of the new chain after a ${depth}-block reorg with different transactions`, async () => {
      const followed = await createTestDatabase(`reorg_${depth}_a`);
      const fresh = await createTestDatabase(`reorg_${depth}_b`);
      try {
        const indexer = env.indexer({ provider, deployment: d.deployment, db: followed.pool });
        const snapshots: string[] = [];
        for (let i = 0; i < 12; i++) {
          snapshots.push((await request("evm_snapshot")) as string);
          await activity("old");
          if (i % 4 === 3) await indexer.syncToHead();
        }
        await indexer.syncToHead();
        const before = await dumpTables(followed.pool);

        await request("evm_revert", [snapshots[snapshots.length - depth]]);
        nonce += 2;
        for (let i = 0; i < depth + 1; i++) await activity("new");
        await indexer.syncToHead();

        const reference = env.indexer({ provider, deployment: d.deployment, db: fresh.pool });
        await reference.syncToHead();
        const after = await dumpTables(followed.pool);
        expect(after).to.deep.equal(await dumpTables(fresh.pool));
        expect(after).to.not.deep.equal(before);
        expect(await metricValue(indexer, "indexer_reorgs_total")).to.equal(1);
      } finally {
        await Promise.all([followed.drop(), fresh.drop()]);
      }
    });
  }
});
