import { expect } from "chai";
import type pg from "pg";
import { buildScaleDatabase } from "../../bench/lib/scale-data.ts";
import { scaleSizes, type ScaleOptions } from "../../bench/lib/scale-plan.ts";
import { migrateIndexerSchema } from "../../indexer/schema.ts";
import { migrateServerSchema } from "../../server/schema.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";

const CONTRACTS = {
  WorkRegistry: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
  LicenseToken: "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512",
  SplitFactory: "0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0",
  GameItems: "0xcf7ed3acca5a467e9e704c703e8d87f634fb0fc9",
  ItemEscrow: "0xdc64a140aa3e981100a9beca4e685f962f0cf6c9",
};
const SCALE = 0.001;
const OPTIONS: ScaleOptions = { scale: SCALE, seed: 7, chainId: 31337, contracts: CONTRACTS };

async function migrated(label: string): Promise<TestDatabase> {
  const db = await createTestDatabase(label);
  await migrateIndexerSchema(db.pool);
  await migrateServerSchema(db.pool);
  return db;
}

async function build(db: TestDatabase, options: ScaleOptions) {
  const client = await db.pool.connect();
  try {
    return await buildScaleDatabase(client, options);
  } finally {
    client.release();
  }
}

/** Every index's definition. */
const indexDefinitions = async (pool: pg.Pool) =>
  (
    await pool.query<{ d: string }>(
      `SELECT pg_get_indexdef(i.indexrelid) AS d
         FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
        WHERE c.relnamespace = 'public'::regnamespace ORDER BY 1`,
    )
  ).rows.map((r) => r.d);

/** A digest of the rows `sql` selects, in a stable order. */
const digest = async (pool: pg.Pool, sql: string) =>
  (
    await pool.query<{ md5: string }>(
      `SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) AS md5 FROM (${sql}) t`,
    )
  ).rows[0]!.md5;

describe("scale benchmark data generator", function () {
  let db: TestDatabase;
  let indexesBefore: string[];
  const sizes = scaleSizes(SCALE);

  before(async () => {
    db = await migrated("scale_data");
    indexesBefore = await indexDefinitions(db.pool);
    await build(db, OPTIONS);
  });
  after(async () => db.drop());

  const count = async (sql: string, params: unknown[] = []) =>
    (await db.pool.query<{ n: number }>(`SELECT (${sql})::int AS n`, params)).rows[0]!.n;

  it("fills the migrated schema with the planned rows and leaves its indexes as the migrations made them", async () => {
    expect(await indexDefinitions(db.pool)).to.deep.equal(indexesBefore);
    expect(await count("SELECT count(*) FROM chain_events")).to.equal(sizes.events);
    expect(await count("SELECT count(*) FROM works")).to.equal(sizes.works);
    expect(await count("SELECT count(*) FROM work_metadata")).to.equal(sizes.works);
    expect(
      await count(
        `SELECT count(*) FROM works w JOIN work_metadata m USING (metadata_uri) JOIN work_search s USING (work_id)
          WHERE s.title = lower(upper(m.title)) AND s.description = lower(upper(m.description))`,
      ),
    ).to.equal(sizes.works);
    expect(await count("SELECT count(*) FROM licenses")).to.equal(sizes.licenses);
    expect(await count("SELECT count(DISTINCT holder) FROM licenses")).to.be.within(
      sizes.holders / 4,
      sizes.holders,
    );
    expect(await count("SELECT count(*) FROM listings WHERE state = 'listed'")).to.equal(sizes.openListings);
    expect(await count("SELECT count(*) FROM licenses WHERE work_id = 1")).to.equal(sizes.hotWorkLicenses);
    expect(
      await count(
        "SELECT count(*) FROM offers o WHERE sold <> (SELECT count(*) FROM licenses l WHERE l.offer_id = o.offer_id)",
      ),
    ).to.equal(0);
    expect(
      await count(
        "SELECT count(*) FROM indexer_state WHERE block_number = (SELECT max(block_number) FROM chain_events)",
      ),
    ).to.equal(1);
  });

  it("gives every row the event that produced it, at its block and log", async () => {
    for (const [table, event] of [
      ["works", "WorkRegistered"],
      ["offers", "OfferCreated"],
      ["licenses", "LicenseIssued"],
      ["license_transfers", "Transfer"],
      ["revenue_payments", "RevenuePaid"],
      ["split_receipts", "PaymentReceived"],
      ["listing_states", null],
      ["item_transfers", "TransferSingle"],
    ] as const) {
      const orphans = await count(
        `SELECT count(*) FROM ${table} r WHERE NOT EXISTS (
           SELECT 1 FROM chain_events e WHERE e.block_number = r.block_number AND e.log_index = r.log_index
              AND e.tx_hash = r.tx_hash AND ($1::text IS NULL OR e.event_name = $1))`,
        [event],
      );
      expect(orphans, table).to.equal(0);
    }
  });

  it("orders what happens: offers after their work, licenses after their offer, transfers after the mint", async () => {
    expect(
      await count(
        "SELECT count(*) FROM offers o JOIN works w USING (work_id) WHERE o.block_number < w.block_number",
      ),
    ).to.equal(0);
    expect(
      await count(
        "SELECT count(*) FROM licenses l JOIN offers o USING (offer_id) WHERE l.block_number < o.block_number OR l.work_id <> o.work_id",
      ),
    ).to.equal(0);
    expect(
      await count(
        `SELECT count(*) FROM license_transfers t JOIN licenses l USING (token_id)
          WHERE t.from_address <> '0x0000000000000000000000000000000000000000' AND t.block_number < l.block_number`,
      ),
    ).to.equal(0);
    expect(
      await count(
        "SELECT count(*) FROM works v JOIN works p ON p.work_id = v.parent_id WHERE v.block_number < p.block_number",
      ),
    ).to.equal(0);
  });

  it("writes titles and descriptions in Latin, Cyrillic, Chinese and Japanese script", async () => {
    for (const pattern of ["[äöüß]", "[а-я]", "[\u4e00-\u9fff]", "[\u3040-\u30ff]"]) {
      const n = await count("SELECT count(*) FROM work_metadata WHERE title || description ~ $1", [pattern]);
      expect(n, pattern).to.be.greaterThan(sizes.works / 50);
    }
  });

  it("writes the same rows for the same seed, and a work registered on a real chain as work 1 when given", async () => {
    const again = await migrated("scale_data_again");
    try {
      const anchor = {
        contentHash: `0x${"ab".repeat(32)}`,
        creator: "0x9965507d1a55bcc2695c58ba16fb37d819b0a4dc",
        cid: "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
        metadataUri: "ipfs://bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
        txHash: `0x${"cd".repeat(32)}`,
        blockNumber: 9,
        logIndex: 1,
        blockHash: `0x${"ef".repeat(32)}`,
        blockTime: 1_700_000_000,
      };
      await build(again, { ...OPTIONS, anchor });
      const work1 = await again.pool.query(
        `SELECT w.content_hash, w.tx_hash, e.event_name, e.block_hash, m.title IS NOT NULL AS titled
           FROM works w JOIN chain_events e ON e.block_number = w.block_number AND e.log_index = w.log_index
           JOIN work_metadata m ON m.metadata_uri = w.metadata_uri WHERE w.work_id = 1`,
      );
      expect(work1.rows).to.deep.equal([
        {
          content_hash: anchor.contentHash,
          tx_hash: anchor.txHash,
          event_name: "WorkRegistered",
          block_hash: anchor.blockHash,
          titled: true,
        },
      ]);
      expect(
        await again.pool.query(
          "SELECT min(block_number)::int AS b FROM chain_events WHERE block_number <> 9",
        ),
      ).to.have.nested.property("rows[0].b", 10);
      // The anchor moves every generated block by 9 and names work 1's creator; every other value is the seed's alone.
      for (const sql of [
        "SELECT token_id, offer_id, work_id, holder, expires_at, revoked FROM licenses",
        "SELECT listing_id, seller, item_id, price, state, buyer FROM listings",
        "SELECT item_id, from_address, to_address, amount, log_index, tx_hash FROM item_transfers",
        "SELECT work_id, content_hash, creator, parent_id, cid FROM works WHERE work_id > 1",
        "SELECT m.metadata_uri, title, description FROM work_metadata m JOIN works w USING (metadata_uri) WHERE work_id > 1",
        `SELECT log_index, tx_hash, event_name, args - 'creator' - 'createdBy' - 'recipients' FROM chain_events
          WHERE NOT (event_name IN ('WorkCommitted', 'WorkRegistered') AND args->>'workId' = '1')`,
      ]) {
        expect(await digest(again.pool, sql), sql).to.equal(await digest(db.pool, sql));
      }
    } finally {
      await again.drop();
    }
  });
});
