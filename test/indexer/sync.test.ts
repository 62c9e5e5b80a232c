import { expect } from "chai";
import {
  ADDRESS,
  createChain,
  HASH,
  createIndexerEnv,
  installEmitters,
  type Emitters,
  type IndexerEnv,
  type Request,
} from "../helpers/indexer.ts";
import type { HardhatEthersProvider } from "@nomicfoundation/hardhat-ethers/types";

describe("indexer sync engine", () => {
  let env: IndexerEnv;
  let request: Request;
  let provider: HardhatEthersProvider;
  let emitters: Emitters;

  before(async () => {
    env = await createIndexerEnv("sync");
    ({ request, provider } = await createChain());
    emitters = await installEmitters(request);
  });

  after(async () => {
    await env.close();
  });

  it("indexes a split created and paid within one block range, with the split discovered from SplitCreated", async () => {
    const split = ADDRESS(0x5b1);
    await emitters.installAt(split);
    await emitters.emit("WorkRegistry", "WorkRegistered", [
      1n,
      HASH(1),
      ADDRESS(0xc1),
      0n,
      1_700_000_000n,
      "cid1",
      "ipfs://m1",
    ]);
    await emitters.emit("SplitFactory", "SplitCreated", [
      split,
      ADDRESS(0xc1),
      [ADDRESS(0xc1), ADDRESS(0xc2)],
      [7000, 3000],
    ]);
    await emitters.emit("RevenueSplit", "PaymentReceived", [ADDRESS(0xb1), 1000n], split);
    await emitters.emit("RevenueSplit", "PaymentReleased", [ADDRESS(0), ADDRESS(0xc2), 300n], split);

    const indexer = env.indexer({ provider, deployment: emitters.deployment });
    await indexer.syncToHead();

    const db = env.database.pool;
    const { rows: splits } = await db.query("SELECT split, recipients, shares_bps FROM splits");
    expect(splits).to.deep.equal([
      { split, recipients: [ADDRESS(0xc1), ADDRESS(0xc2)], shares_bps: [7000, 3000] },
    ]);
    const { rows: receipts } = await db.query("SELECT split, sender, amount FROM split_receipts");
    expect(receipts).to.deep.equal([{ split, sender: ADDRESS(0xb1), amount: "1000" }]);
    const { rows: payouts } = await db.query("SELECT split, currency, account, amount FROM split_payouts");
    expect(payouts).to.deep.equal([{ split, currency: ADDRESS(0), account: ADDRESS(0xc2), amount: "300" }]);
    const { rows: works } = await db.query(
      "SELECT work_id, content_hash, creator, root_id, version FROM works",
    );
    expect(works).to.deep.equal([
      { work_id: "1", content_hash: HASH(1), creator: ADDRESS(0xc1), root_id: "1", version: 1 },
    ]);
    expect(indexer.indexedBlock()).to.equal(Number(await request("eth_blockNumber")));
  });
});
