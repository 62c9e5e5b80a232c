import type { HardhatEthersProvider } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import { deployAll, type Deployed } from "../helpers/deployed.ts";
import {
  createChain,
  createIndexerEnv,
  dumpTables,
  indexerState,
  interceptProvider,
  type IndexerEnv,
} from "../helpers/indexer.ts";
import { commitAndReveal, sha256Hex } from "../helpers/registry.ts";

describe("chain identity: a database mirrors one chain", () => {
  let env: IndexerEnv;
  let a: { provider: HardhatEthersProvider; d: Deployed };
  let b: { provider: HardhatEthersProvider; d: Deployed };

  /** A chain with the same chain id and contract addresses, its blocks differing from `emptyBlocks` on. */
  async function chainWith(work: string, emptyBlocks: number) {
    const { conn, provider, request } = await createChain();
    if (emptyBlocks > 0) await request("hardhat_mine", [`0x${emptyBlocks.toString(16)}`]);
    const d = await deployAll(conn);
    await commitAndReveal(d.registry, d.creator, sha256Hex(work), {
      cid: work,
      metadataURI: `ipfs://${work}`,
    });
    return { provider: provider as HardhatEthersProvider, d };
  }

  before(async () => {
    env = await createIndexerEnv("chain_identity");
    a = await chainWith("on chain a", 0);
    b = await chainWith("on chain b", 3);
    expect(b.d.deployment.contracts.WorkRegistry.address).to.equal(
      a.d.deployment.contracts.WorkRegistry.address,
    );
    await env.indexer({ provider: a.provider, deployment: a.d.deployment }).syncToHead();
  });

  after(async () => {
    await env.close();
  });

  it("records the chain id and the hash of the first block it indexes", async () => {
    const { rows } = await env.database.pool.query(
      "SELECT chain_id::int, anchor_block::int, anchor_hash FROM indexer_state",
    );
    const start = a.d.deployment.contracts.WorkRegistry.blockNumber;
    const block = await a.provider.getBlock(start);
    expect(rows).to.deep.equal([{ chain_id: 31337, anchor_block: start, anchor_hash: block!.hash }]);
  });

  it("stops with a clear error naming both hashes when started on another chain, database untouched", async () => {
    const before = await dumpTables(env.database.pool);
    const state = await indexerState(env.database.pool);
    const start = a.d.deployment.contracts.WorkRegistry.blockNumber;
    const [ours, theirs] = await Promise.all([a.provider.getBlock(start), b.provider.getBlock(start)]);
    const error = await env
      .indexer({ provider: b.provider, deployment: b.d.deployment })
      .syncToHead()
      .then(
        () => null,
        (err: Error) => err,
      );
    expect(error?.name).to.equal("ChainIdentityError");
    expect(error?.message)
      .to.include(ours!.hash)
      .and.include(theirs!.hash)
      .and.include(`block ${start}`)
      .and.include("CHAIN_RPC_URL");
    expect(await dumpTables(env.database.pool)).to.deep.equal(before);
    expect(await indexerState(env.database.pool)).to.deep.equal(state);
  });

  it("stops, rather than rolling back into it, when the node behind the URL changes to another chain", async () => {
    let current = a.provider;
    const switching = interceptProvider(a.provider, (method, params) => current.send(method, params));
    const indexer = env.indexer({ provider: switching, deployment: a.d.deployment });
    await indexer.syncToHead();
    const before = await dumpTables(env.database.pool);
    current = b.provider;
    await commitAndReveal(b.d.registry, b.d.creator, sha256Hex("more on b"), {
      cid: "more",
      metadataURI: "ipfs://more",
    });
    const error = await indexer.syncToHead().then(
      () => null,
      (err: Error) => err,
    );
    expect(error?.name).to.equal("ChainIdentityError");
    expect(await dumpTables(env.database.pool)).to.deep.equal(before);
    const { rows } = await env.database.pool.query("SELECT cid FROM works");
    expect(rows.map((r) => r.cid)).to.deep.equal(["on chain a"]);
  });
});
