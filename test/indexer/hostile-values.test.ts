import type { HardhatEthersProvider } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import { AbiCoder, concat, keccak256, MaxUint256 } from "ethers";
import type pg from "pg";
import { MAX_STORED_ITEMS, MAX_TEXT_BYTES } from "../../indexer/untrusted.ts";
import { deployAll, type Deployed } from "../helpers/deployed.ts";
import { createChain, createIndexerEnv, type IndexerEnv } from "../helpers/indexer.ts";
import { commitAndReveal, committedWorkId, sha256Hex } from "../helpers/registry.ts";

/** Calldata of `reveal(workId, hash, nonce, cid, metadataURI, 0)` with the strings given as raw bytes, valid UTF-8 or not. */
function revealCalldata(
  d: Deployed,
  workId: bigint,
  hash: string,
  nonce: bigint,
  cid: Uint8Array,
  metadataURI: Uint8Array,
): string {
  const selector = d.registry.interface.getFunction("reveal")!.selector;
  const args = AbiCoder.defaultAbiCoder().encode(
    ["uint256", "bytes32", "uint256", "bytes", "bytes", "uint256"],
    [workId, hash, nonce, cid, metadataURI, 0],
  );
  return concat([selector, args]);
}

describe("hostile values in events sent from an ordinary wallet", () => {
  let env: IndexerEnv;
  let db: pg.Pool;
  let d: Deployed;
  const long = Buffer.from("x".repeat(MAX_TEXT_BYTES * 10));
  const invalid = Buffer.from([0x61, 0x80, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0x62]);
  const bidi = "ipfs://\u202Egpj.exe\u202C\u0007\u001b[2J";

  const work = async (hash: string) =>
    (
      await db.query<{ cid: string; metadata_uri: string; value_notes: Record<string, unknown> | null }>(
        "SELECT cid, metadata_uri, value_notes FROM works WHERE content_hash = $1",
        [hash],
      )
    ).rows[0];

  before(async () => {
    env = await createIndexerEnv("hostile_values");
    db = env.database.pool;
    const { conn, provider } = await createChain();
    d = await deployAll(conn);
    const registry = d.registry.connect(d.buyer);
    await commitAndReveal(registry, d.buyer, sha256Hex("nul"), { cid: "a\u0000b", metadataURI: "ipfs://x" });
    const nonce = 7n;
    const commitTx = await registry.commit(
      await registry.commitmentOf(d.buyer.address, sha256Hex("invalid"), nonce),
    );
    const workId = await committedWorkId(commitTx);
    await (
      await d.buyer.sendTransaction({
        to: await registry.getAddress(),
        data: revealCalldata(d, workId, sha256Hex("invalid"), nonce, invalid, long),
      })
    ).wait();
    await commitAndReveal(registry, d.buyer, sha256Hex("bidi"), { cid: bidi, metadataURI: "ipfs://y" });
    // Any holder may move zero of any item id: a batch of the largest ids, longer than an array is stored.
    const ids = Array.from({ length: MAX_STORED_ITEMS + 44 }, (_, i) => MaxUint256 - BigInt(i));
    await (
      await d.items.connect(d.buyer).safeBatchTransferFrom(
        d.buyer.address,
        d.buyer2.address,
        ids,
        ids.map(() => 0n),
        "0x",
      )
    ).wait();
    await commitAndReveal(registry, d.buyer, sha256Hex("honest"), {
      cid: "bafy-honest",
      metadataURI: "ipfs://honest",
    });
    const indexer = env.indexer({ provider: provider as HardhatEthersProvider, deployment: d.deployment });
    await indexer.syncToHead();
  });

  after(async () => {
    await env.close();
  });

  it("stores a string with NUL with U+FFFD in its place and keeps the raw data of the event", async () => {
    const row = await work(sha256Hex("nul"));
    expect(row?.cid).to.equal("a\uFFFDb");
    expect(row?.value_notes).to.deep.equal({
      cid: { length: 3, keccak256: keccak256(Buffer.from("a\0b")), cut: false, replaced: true },
    });
    const { rows } = await db.query<{ raw_data: Buffer; args: { cid: string } }>(
      "SELECT e.raw_data, e.args FROM chain_events e JOIN works w USING (block_number, log_index) WHERE w.content_hash = $1",
      [sha256Hex("nul")],
    );
    expect(rows[0]?.args.cid).to.equal("a\uFFFDb");
    expect(rows[0]?.raw_data.includes(Buffer.from("a\0b"))).to.equal(true);
  });

  it("stores invalid UTF-8 replaced and a very long string as a prefix with the whole value's hash", async () => {
    const row = await work(sha256Hex("invalid"));
    expect(row?.cid).to.match(/^a\uFFFD+b$/);
    expect(row?.metadata_uri).to.equal("x".repeat(MAX_TEXT_BYTES));
    expect(row?.value_notes).to.deep.equal({
      cid: { length: invalid.length, keccak256: keccak256(invalid), cut: false, replaced: true },
      metadata_uri: { length: long.length, keccak256: keccak256(long), cut: true, replaced: false },
    });
  });

  it("stores control and bidirectional characters as they are, with no note", async () => {
    const row = await work(sha256Hex("bidi"));
    expect(row?.cid).to.equal(bidi);
    expect(row?.value_notes).to.equal(null);
  });

  it("records every id of a long batch of the largest ids, and cuts only the raw log's copy", async () => {
    const { rows } = await db.query<{ n: string; top: string }>(
      "SELECT count(*)::text AS n, max(item_id)::text AS top FROM item_transfers",
    );
    expect(rows[0]).to.deep.equal({ n: String(MAX_STORED_ITEMS + 44), top: MaxUint256.toString() });
    const event = await db.query<{ ids: number; notes: { ids: { length: number; cut: boolean } } }>(
      `SELECT jsonb_array_length(args->'ids') AS ids, value_notes AS notes FROM chain_events
        WHERE event_name = 'TransferBatch'`,
    );
    expect(event.rows[0]?.ids).to.equal(MAX_STORED_ITEMS);
    expect(event.rows[0]?.notes.ids).to.include({ length: MAX_STORED_ITEMS + 44, cut: true });
  });

  it("indexes the honest registration that follows them", async () => {
    expect((await work(sha256Hex("honest")))?.cid).to.equal("bafy-honest");
  });
});
