import { expect } from "chai";
import { getAddress } from "ethers";
import { migrateIndexerSchema } from "../../indexer/schema.ts";
import { LicenseShapeError, listLicenses, type LicenseInput } from "../../server/evidence/license-listing.ts";
import { REPORT_LICENSES } from "../../server/evidence/license-listing.ts";
import { EvidenceFactsRepository } from "../../server/repositories/evidence-facts.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";

const MAX_UINT256 = (2n ** 256n - 1n).toString();
const HOSTILE_TERRITORY =
  'EU, "UK"\n\\ end\u2028\u2029 \u0001\u001f\t 日本 🎨 ],"holder":"0x' + "a".repeat(40) + '"}';

/** The licenses of `workId` read and joined as the listing read them before it was read as rows. */
async function licenseObjects(db: TestDatabase, workId: string): Promise<LicenseInput[]> {
  const { rows } = await db.pool.query<{
    token_id: string;
    offer_id: string;
    holder: string;
    expires_at: string;
    revoked: boolean;
    tx_hash: string;
    issued_at: Date | null;
    commercial_use: boolean;
    territory: string;
  }>(
    `SELECT l.token_id::text, l.offer_id::text, l.holder, l.expires_at::text, l.revoked, l.tx_hash, l.issued_at,
            o.commercial_use, o.territory
       FROM licenses l JOIN offers o ON o.offer_id = l.offer_id AND o.work_id = l.work_id
      WHERE l.work_id = $1
      ORDER BY l.token_id`,
    [workId],
  );
  return rows.map((row) => ({
    tokenId: row.token_id,
    offerId: row.offer_id,
    holder: row.holder,
    expiresAt: row.expires_at,
    revoked: row.revoked,
    txHash: row.tx_hash,
    issuedAt: row.issued_at,
    commercialUse: row.commercial_use,
    territory: row.territory,
  }));
}

describe("EvidenceFactsRepository.licenseListing", function () {
  let db: TestDatabase;
  let facts: EvidenceFactsRepository;

  async function offer(offerId: number, workId: number, territory: string, commercialUse: boolean) {
    await db.pool.query(
      `INSERT INTO offers (offer_id, work_id, creator, currency, price, duration, max_supply, sold, transferable,
                           commercial_use, referrer_bps, royalty_bps, split, territory, active, block_number,
                           log_index, tx_hash, updated_block)
       VALUES ($1, $2, $3, $3, 1, 0, 0, 0, true, $4, 0, 0, $3, $5, true, 1, 0, $6, 1)`,
      [offerId, workId, `0x${"c".repeat(40)}`, commercialUse, territory, `0x${"a".repeat(64)}`],
    );
  }

  async function license(
    workId: number,
    l: { tokenId: string; offerId: number; holder: string; expiresAt: string; revoked?: boolean },
    txHash: string,
    issuedAt: string | null,
  ) {
    await db.pool.query(
      `INSERT INTO licenses (token_id, offer_id, work_id, holder, payer, expires_at, renewals, revoked,
                             block_number, log_index, tx_hash, updated_block, issued_at)
       VALUES ($1, $2, $3, $4, $4, $5, 0, $6, 1, 0, $7, 1, $8)`,
      [l.tokenId, l.offerId, workId, l.holder, l.expiresAt, l.revoked ?? false, txHash, issuedAt],
    );
  }

  const text = (chunks: Uint8Array[]) => Buffer.concat(chunks).toString("utf8");

  before(async function () {
    db = await createTestDatabase("evidence_facts");
    await migrateIndexerSchema(db.pool);
    facts = new EvidenceFactsRepository(db.pool);
    // Work 1: hostile terms, extreme numbers, unknown issue times, mixed-case hashes.
    await offer(1, 1, HOSTILE_TERRITORY, true);
    await offer(2, 1, "", false);
    await offer(3, 2, "WORLD", true);
    await license(
      1,
      { tokenId: MAX_UINT256, offerId: 1, holder: `0x${"f".repeat(40)}`, expiresAt: "9007199254740991" },
      `0x${"AB".repeat(32)}`,
      "9999-12-31T23:59:59.999Z",
    );
    await license(
      1,
      { tokenId: "0", offerId: 2, holder: `0x${"0".repeat(40)}`, expiresAt: "0", revoked: true },
      `0x${"0".repeat(64)}`,
      null,
    );
    await license(
      1,
      { tokenId: "7", offerId: 1, holder: `0x${"1b".repeat(20)}`, expiresAt: "1767225600" },
      `0x${"cd".repeat(32)}`,
      "2025-01-05T10:00:00.123Z",
    );
    // An offer of another work: its licenses are not this work's terms.
    await license(
      1,
      { tokenId: "8", offerId: 3, holder: `0x${"2c".repeat(20)}`, expiresAt: "0" },
      `0x${"ef".repeat(32)}`,
      null,
    );
    // Work 3: enough licenses to fill several chunks and pass the report's table.
    await offer(4, 3, "WORLD", false);
    await db.pool.query(
      `INSERT INTO licenses (token_id, offer_id, work_id, holder, payer, expires_at, renewals, revoked,
                             block_number, log_index, tx_hash, updated_block, issued_at)
       SELECT 1000 + g, 4, 3, '0x' || lpad(to_hex(g % 997), 40, '0'), '0x' || lpad(to_hex(g), 40, '0'),
              CASE WHEN g % 3 = 0 THEN 0 ELSE 1767225600 + g END, 0, g % 5 = 0, 1, 0,
              '0x' || md5(g::text) || md5((g + 1)::text), 1,
              CASE WHEN g % 7 = 0 THEN NULL ELSE to_timestamp(1735689600 + g * 61) END
         FROM generate_series(1, 6000) g`,
    );
  });

  after(async function () {
    await db.drop();
  });

  for (const workId of ["1", "3"]) {
    it(`lists work ${workId}'s licenses byte for byte as the object listing writes them`, async function () {
      const expected = await listLicenses(await licenseObjects(db, workId));
      const listing = await facts.licenseListing(workId);
      expect(text(listing.chunks)).to.equal(text(expected.chunks));
      expect(listing.count).to.equal(expected.count);
      expect(JSON.stringify(listing.first)).to.equal(JSON.stringify(expected.first));
      expect(listing.issued).to.deep.equal(expected.issued);
    });
  }

  it("keeps hostile terms inside their JSON string, and each line a JSON object of the work's licenses", async function () {
    const listing = await facts.licenseListing("1");
    const lines = text(listing.chunks).split(",\n");
    expect(lines).to.have.length(3);
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(parsed.map((l) => l.tokenId)).to.deep.equal(["0", "7", MAX_UINT256]);
    expect(parsed[1]!.territory).to.equal(HOSTILE_TERRITORY);
    expect(parsed[1]!.holder).to.equal(getAddress(`0x${"1b".repeat(20)}`));
    expect(parsed[0]).to.not.have.property("issuedAt");
    expect(parsed[2]!.txHash).to.equal(`0x${"ab".repeat(32)}`);
    expect(listing.issued).to.deep.equal({
      count: 2,
      first: "2025-01-05T10:00:00.123Z",
      latest: "9999-12-31T23:59:59.999Z",
    });
  });

  it("spreads a long listing over several chunks and gives the report its first licenses", async function () {
    const listing = await facts.licenseListing("3");
    expect(listing.count).to.equal(6000);
    expect(listing.chunks.length).to.be.greaterThan(1);
    expect(listing.first).to.have.length(REPORT_LICENSES);
    expect(listing.first[0]!.tokenId).to.equal("1001");
  });

  it("lists nothing for a work without licenses", async function () {
    const listing = await facts.licenseListing("99");
    expect(listing).to.deep.equal({
      count: 0,
      first: [],
      issued: { count: 0, first: "", latest: "" },
      chunks: [],
    });
  });

  describe("refuses a stored license no manifest can state, naming it", function () {
    const cases: [string, Parameters<typeof license>[1], string, string | null][] = [
      [
        "a holder that is no address",
        { tokenId: "101", offerId: 0, holder: "0x,1b", expiresAt: "0" },
        `0x${"a".repeat(64)}`,
        null,
      ],
      [
        "a holder with a bad checksum",
        { tokenId: "102", offerId: 0, holder: `0xAb${"1b".repeat(19)}`, expiresAt: "0" },
        `0x${"a".repeat(64)}`,
        null,
      ],
      [
        "a transaction hash with a comma",
        { tokenId: "103", offerId: 0, holder: `0x${"1".repeat(40)}`, expiresAt: "0" },
        `0x${"a".repeat(62)},1`,
        null,
      ],
      [
        "an expiry past the safe integers",
        { tokenId: "104", offerId: 0, holder: `0x${"1".repeat(40)}`, expiresAt: "9007199254740992" },
        `0x${"a".repeat(64)}`,
        null,
      ],
      [
        "an issue time past year 9999",
        { tokenId: "105", offerId: 0, holder: `0x${"1".repeat(40)}`, expiresAt: "0" },
        `0x${"a".repeat(64)}`,
        "10000-01-01T00:00:00Z",
      ],
    ];
    cases.forEach(([what, l, txHash, issuedAt], i) => {
      it(`rejects ${what}`, async function () {
        const workId = 10 + i;
        await offer(20 + i, workId, "WORLD", true);
        await license(workId, { ...l, offerId: 20 + i }, txHash, issuedAt);
        const err = await facts.licenseListing(String(workId)).then(
          () => null,
          (e: unknown) => e,
        );
        expect(err).to.be.instanceOf(LicenseShapeError);
        expect((err as Error).message).to.contain(`license ${l.tokenId} `);
      });
    });
  });
});
