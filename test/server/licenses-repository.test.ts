import { expect } from "chai";
import { NO_HEADS } from "../../lib/finality.ts";
import { migrateIndexerSchema } from "../../indexer/schema.ts";
import { LicensesRepository } from "../../server/repositories/licenses.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";

const HOLDER = "0x00000000000000000000000000000000000000aa";
const OTHER = "0x00000000000000000000000000000000000000bb";

describe("licenses repository: orders of token ids and expiries of any number of digits", function () {
  let db: TestDatabase;
  let licenses: LicensesRepository;

  /** A license of `holder` to `workId`, issued in block 1. */
  const insert = (tokenId: string, holder: string, workId: string, expiresAt: string) =>
    db.pool.query(
      `INSERT INTO licenses (token_id, offer_id, work_id, holder, payer, expires_at, renewals, revoked,
                             block_number, log_index, tx_hash, updated_block)
       VALUES ($1::numeric, 1, $2, $3, $3, $4, 0, false, 1, ($1::numeric % 1000000)::int, '0x' || lpad($1::text, 64, '0'), 1)`,
      [tokenId, workId, holder, expiresAt],
    );

  before(async () => {
    db = await createTestDatabase("licenses_repository");
    await migrateIndexerSchema(db.pool);
    licenses = new LicensesRepository(db.pool);
  });
  after(async () => db.drop());

  it("lists a holder's licenses newest token first, numerically, each once across pages", async () => {
    const held = ["7", "8", "9", "10", "11", "99", "100", "101", "1000", "123456789012345678901234567890"];
    for (const id of held) await insert(id, HOLDER, "1", "0");
    await insert("12", OTHER, "1", "0");
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await licenses.byHolder({ holder: HOLDER, cursor, limit: 3 }, NO_HEADS, 0);
      seen.push(...page.items.map((l) => l.tokenId));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).to.deep.equal([...held].reverse());
  });

  it("verifies with the license that lasts longest, then the lowest token, compared as numbers", async () => {
    await insert("20", HOLDER, "2", "999999999");
    await insert("21", HOLDER, "2", "1000000000");
    expect((await licenses.bestValid("2", HOLDER, 1))?.tokenId).to.equal("21");
    await insert("30", HOLDER, "3", "0");
    await insert("9000", HOLDER, "3", "0");
    await insert("100000", HOLDER, "3", "0");
    expect((await licenses.bestValid("3", HOLDER, 1))?.tokenId).to.equal("30");
  });
});
