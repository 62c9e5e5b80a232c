import { expect } from "chai";
import type pg from "pg";
import { deleteRows, insertRows, restoreFromUndo } from "../../indexer/db/rows.ts";
import { works, type WorkRow } from "../../indexer/db/works.ts";
import { migrateIndexerSchema } from "../../indexer/schema.ts";
import { WorksRepository } from "../../server/repositories/works.ts";
import { recordMetadata } from "../../server/services/uploads.ts";
import { migrateServerSchema } from "../../server/schema.ts";
import { createEmbeddedDatabase, createTestDatabase, type TestDatabase } from "../helpers/database.ts";

const CHAIN_ID = 31337;

/** work_search as it is, and as the join it stands for says it should be, by work id. */
async function searchRows(db: pg.Pool) {
  const read = async (sql: string) =>
    (await db.query<{ work_id: string; title: string; description: string }>(sql)).rows;
  return {
    stored: await read(`SELECT work_id::text, title, description FROM work_search ORDER BY work_id`),
    joined: await read(
      `SELECT w.work_id::text, lower(m.title) AS title, lower(m.description) AS description
         FROM works w JOIN work_metadata m ON m.metadata_uri = w.metadata_uri ORDER BY w.work_id`,
    ),
  };
}

function work(id: number, metadataUri: string, block = id): WorkRow {
  return {
    work_id: String(id),
    content_hash: `0x${id.toString(16).padStart(64, "0")}`,
    creator: "0x00000000000000000000000000000000000000c1",
    parent_id: null,
    root_id: String(id),
    version: 1,
    cid: `bafy-content-${id}`,
    metadata_uri: metadataUri,
    co_authors: [],
    registered_at: null,
    superseded_by: null,
    value_notes: null,
    updated_block: block,
    block_number: block,
    log_index: 0,
    tx_hash: `0x${"ab".repeat(32)}`,
  };
}

async function upload(db: pg.Pool, n: number): Promise<string> {
  const contentHash = `0x${(1000 + n).toString(16).padStart(64, "0")}`;
  await db.query(
    `INSERT INTO uploads (content_hash, cid, size, visibility) VALUES ($1, $2, 1, 'public')
     ON CONFLICT DO NOTHING`,
    [contentHash, `bafy-upload-${n}`],
  );
  return contentHash;
}

async function metadata(db: pg.Pool, uri: string, n: number, title: string, description: string) {
  await recordMetadata(db, { metadataUri: uri, contentHash: await upload(db, n), title, description });
}

async function inTransaction(db: pg.Pool, write: (client: pg.PoolClient) => Promise<void>) {
  const client = await db.connect();
  try {
    await client.query("BEGIN");
    await write(client);
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK");
    throw err;
  } finally {
    client.release();
  }
}

function follows(label: string, create: () => Promise<TestDatabase>) {
  describe(`work_search on ${label}: the Explore page's text follows works and their metadata`, function () {
    let db: TestDatabase;

    beforeEach(async () => {
      db = await create();
      await migrateIndexerSchema(db.pool);
      await migrateServerSchema(db.pool);
    });
    afterEach(async () => db.drop());

    it("holds a work's case-folded text whether the work or its metadata was written first", async () => {
      await metadata(db.pool, "ipfs://meta-1", 1, "Grüße aus ÅLAND", "ΣΊΣΥΦΟΣ %_\\ 斑马");
      await inTransaction(db.pool, (c) =>
        insertRows(c, works, [
          work(1, "ipfs://meta-1"),
          work(2, "ipfs://meta-2"),
          work(3, "ipfs://elsewhere"),
        ]),
      );
      await metadata(db.pool, "ipfs://meta-2", 2, "Second", "Arrives after its work");
      const { stored, joined } = await searchRows(db.pool);
      expect(stored).to.deep.equal(joined);
      expect(stored.map((r) => r.work_id)).to.deep.equal(["1", "2"]);
      expect(stored[0]!.title).to.equal("grüße aus åland");
      expect(stored[0]!.description).to.equal("σίσυφοσ %_\\ 斑马");
      // A term is folded as the text was: a final sigma, typed or lower-cased, finds σ.
      for (const block of [1, 2, 3]) {
        await db.pool.query(
          `INSERT INTO chain_events (chain_id, block_number, log_index, block_hash, tx_hash, tx_index, contract, contract_name, event_name, args, block_time)
           VALUES ($1, $2, 0, $3, $3, 0, '0x00', 'WorkRegistry', 'WorkRegistered', '{}', now())`,
          [CHAIN_ID, block, `0x${"cd".repeat(32)}`],
        );
      }
      const search = new WorksRepository(db.pool, CHAIN_ID);
      for (const q of ["Σίσυφος", "σίσυφος", "ΣΊΣΥΦΟΣ", "ςυ", "åland", "GRÜ", "%_\\", "斑马"])
        expect(
          (await search.list({ q, limit: 20 })).items.map((w) => w.workId),
          q,
        ).to.deep.equal(["1"]);
      expect((await search.list({ q: "elsewhere", limit: 20 })).items).to.deep.equal([]);
    });

    it("drops a work rolled back by a reorg and takes the text of the claim that replaces it", async () => {
      await metadata(db.pool, "ipfs://old", 1, "Old fork", "gone after the reorg");
      await metadata(db.pool, "ipfs://new", 2, "New fork", "the canonical chain");
      await inTransaction(db.pool, (c) =>
        insertRows(c, works, [work(1, "ipfs://old", 10), work(2, "ipfs://old", 11)]),
      );
      // The indexer's reorg path: the works of blocks above 10 go, and the new chain's claim of
      // work 2 (other metadata) is written in the same transaction.
      await inTransaction(db.pool, async (c) => {
        await deleteRows(c, works, [{ work_id: "2" }]);
        await insertRows(c, works, [work(2, "ipfs://new", 11)]);
      });
      let { stored, joined } = await searchRows(db.pool);
      expect(stored).to.deep.equal(joined);
      expect(stored.find((r) => r.work_id === "2")!.title).to.equal("new fork");
      await inTransaction(db.pool, (c) => deleteRows(c, works, [{ work_id: "1" }, { work_id: "2" }]));
      ({ stored, joined } = await searchRows(db.pool));
      expect(stored).to.deep.equal([]);
      expect(joined).to.deep.equal([]);
      // Undo images restored (a reorg back onto the first chain) bring the text back with the rows.
      await inTransaction(db.pool, async (c) => {
        await c.query(
          `INSERT INTO indexer_undo (table_name, row_key, prior, block_number, seq)
           VALUES ('works', '{"work_id": "1"}', $1, 12, 0)`,
          [JSON.stringify(work(1, "ipfs://old", 10))],
        );
        await restoreFromUndo(c, works, 11);
      });
      ({ stored, joined } = await searchRows(db.pool));
      expect(stored).to.deep.equal(joined);
      expect(stored.map((r) => r.work_id)).to.deep.equal(["1"]);
    });

    it("follows metadata changed or removed, and a work's metadata URI changed", async () => {
      await metadata(db.pool, "ipfs://a", 1, "Alpha", "first text");
      await metadata(db.pool, "ipfs://b", 2, "Beta", "second text");
      await inTransaction(db.pool, (c) => insertRows(c, works, [work(1, "ipfs://a"), work(2, "ipfs://a")]));
      await db.pool.query(
        `UPDATE work_metadata SET title = 'ALPHA, RETITLED' WHERE metadata_uri = 'ipfs://a'`,
      );
      await db.pool.query(`UPDATE works SET metadata_uri = 'ipfs://b' WHERE work_id = 2`);
      let { stored, joined } = await searchRows(db.pool);
      expect(stored).to.deep.equal(joined);
      expect(stored.map((r) => r.title)).to.deep.equal(["alpha, retitled", "beta"]);
      await db.pool.query(`DELETE FROM work_metadata WHERE metadata_uri = 'ipfs://a'`);
      ({ stored, joined } = await searchRows(db.pool));
      expect(stored).to.deep.equal(joined);
      expect(stored.map((r) => r.work_id)).to.deep.equal(["2"]);
    });
  });
}

follows("PostgreSQL", () => createTestDatabase("work_search_table"));
follows("the embedded database", () => createEmbeddedDatabase("work-search"));

describe("work_search: the server's schema created before the indexer's", function () {
  let db: TestDatabase;

  before(async () => {
    db = await createTestDatabase("work_search_order");
  });
  after(async () => db.drop());

  it("takes metadata without the indexer's schema, then follows works once that schema is created", async () => {
    await migrateServerSchema(db.pool);
    await metadata(db.pool, "ipfs://early", 1, "Written Early", "before any work table existed");
    expect((await db.pool.query("SELECT * FROM work_search")).rows).to.deep.equal([]);
    await migrateIndexerSchema(db.pool);
    await inTransaction(db.pool, (c) =>
      insertRows(c, works, [work(1, "ipfs://early"), work(2, "ipfs://later")]),
    );
    await metadata(db.pool, "ipfs://later", 2, "Written Later", "after its work");
    const { stored, joined } = await searchRows(db.pool);
    expect(stored).to.deep.equal(joined);
    expect(stored.map((r) => r.title)).to.deep.equal(["written early", "written later"]);
  });
});

describe("work_search: a work and its metadata written at once in two transactions", function () {
  let db: TestDatabase;

  before(async () => {
    db = await createTestDatabase("work_search_race");
    await migrateIndexerSchema(db.pool);
    await migrateServerSchema(db.pool);
  });
  after(async () => db.drop());

  for (const first of ["work", "metadata"] as const) {
    it(`finds the work when its ${first} commits last, each transaction blind to the other's row`, async () => {
      const n = first === "work" ? 1 : 2;
      const uri = `ipfs://race-${n}`;
      const contentHash = await upload(db.pool, n);
      const workSide = await db.pool.connect();
      const metadataSide = await db.pool.connect();
      try {
        await workSide.query("BEGIN");
        await metadataSide.query("BEGIN");
        const writeWork = () => insertRows(workSide, works, [work(n, uri)]);
        const writeMetadata = () =>
          metadataSide.query(
            `INSERT INTO work_metadata (metadata_uri, content_hash, title, description) VALUES ($1, $2, 'Race', 'both at once')`,
            [uri, contentHash],
          );
        // Both rows are written before either transaction commits; the second writer waits for the
        // first to commit, then sees its row.
        const [earlier, later] = first === "work" ? [writeMetadata, writeWork] : [writeWork, writeMetadata];
        const [earlierSide, laterSide] =
          first === "work" ? [metadataSide, workSide] : [workSide, metadataSide];
        await earlier();
        const pending = later();
        await new Promise((resolve) => setTimeout(resolve, 200));
        await earlierSide.query("COMMIT");
        await pending;
        await laterSide.query("COMMIT");
      } finally {
        workSide.release();
        metadataSide.release();
      }
      const { stored, joined } = await searchRows(db.pool);
      expect(stored).to.deep.equal(joined);
      expect(stored.map((r) => r.work_id)).to.include(String(n));
    });
  }
});
