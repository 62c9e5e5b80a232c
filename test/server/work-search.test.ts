import { expect } from "chai";
import type pg from "pg";
import { buildScaleDatabase } from "../../bench/lib/scale-data.ts";
import { LANGUAGES } from "../../bench/lib/scale-words.ts";
import { migrateIndexerSchema } from "../../indexer/schema.ts";
import { WorksRepository } from "../../server/repositories/works.ts";
import { migrateServerSchema } from "../../server/schema.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";

const CHAIN_ID = 31337;

describe("work search: the Explore page's title and description search", function () {
  let db: TestDatabase;
  let works: WorksRepository;
  let texts: { workId: number; creator: string; text: string[] }[];

  /** What a scan of every work finds: ids whose title or description holds `q`, newest first. */
  const scan = (q: string, creator?: string) =>
    texts
      .filter((w) => (!creator || w.creator === creator) && w.text.some((t) => t.includes(q.toLowerCase())))
      .map((w) => String(w.workId))
      .sort((a, b) => Number(b) - Number(a));

  before(async () => {
    db = await createTestDatabase("work_search");
    await migrateIndexerSchema(db.pool);
    await migrateServerSchema(db.pool);
    const client = await db.pool.connect();
    try {
      await buildScaleDatabase(client, {
        scale: 0.0005,
        seed: 3,
        chainId: CHAIN_ID,
        contracts: {
          WorkRegistry: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
          LicenseToken: "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512",
          SplitFactory: "0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0",
          GameItems: "0xcf7ed3acca5a467e9e704c703e8d87f634fb0fc9",
          ItemEscrow: "0xdc64a140aa3e981100a9beca4e685f962f0cf6c9",
        },
      });
    } finally {
      client.release();
    }
    works = new WorksRepository(db.pool, CHAIN_ID);
    const { rows } = await db.pool.query<{
      work_id: number;
      creator: string;
      title: string;
      description: string;
    }>(
      `SELECT w.work_id::int, w.creator, m.title, m.description FROM works w JOIN work_metadata m USING (metadata_uri)`,
    );
    texts = rows.map((r) => ({
      workId: r.work_id,
      creator: r.creator,
      text: [r.title.toLowerCase(), r.description.toLowerCase()],
    }));
  });
  after(async () => db.drop());

  it("finds what a scan of every work finds, newest first, for words of seven languages and scripts", async () => {
    const queries = [
      ...LANGUAGES.flatMap((l) => [l.words[1]!, l.words[7]!, l.words.at(-1)!, ...l.absent]),
      "音乐",
      "写真",
      "光",
      "МУЗЫКА",
      "Straße",
      "ic ",
    ];
    for (const q of queries) {
      const expected = scan(q);
      const page = await works.list({ q, limit: 20 });
      expect(
        page.items.map((w) => w.workId),
        q,
      ).to.deep.equal(expected.slice(0, 20));
      expect(page.nextCursor, q).to.equal(expected.length > 20 ? expected[19] : null);
    }
  });

  it("finds terms of one or two characters, common, rare and absent, whether the newest works hold a page of them or not", async () => {
    // Terms held by a handful of works, and the characters and pairs no work holds.
    const counts = new Map<string, number>();
    for (const { text } of texts) {
      const grams = new Set<string>();
      for (const field of text) {
        const chars = [...field];
        chars.forEach((c, i) => grams.add(c).add(c + (chars[i + 1] ?? "")));
      }
      for (const g of grams) counts.set(g, (counts.get(g) ?? 0) + 1);
    }
    const rare = (length: number) =>
      [...counts].find(([g, n]) => [...g].length === length && n >= 2 && n <= 5)![0];
    const queries = [
      "e",
      "le",
      "の",
      "光",
      "音乐",
      "и",
      rare(1),
      rare(2),
      "qz",
      "7",
      "Q",
      "%",
      "\\",
      "a ",
      "e\n",
    ];
    for (const newest of [1, 7, 60, 2000]) {
      const search = new WorksRepository(db.pool, CHAIN_ID, newest);
      for (const q of queries) {
        const expected = scan(q);
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await search.list({ q, cursor, limit: 20 });
          seen.push(...page.items.map((w) => w.workId));
          cursor = page.nextCursor ?? undefined;
        } while (cursor && seen.length < 100);
        expect(seen, `${q} after ${newest} works`).to.deep.equal(expected.slice(0, seen.length));
        expect(seen.length, `${q} after ${newest} works`).to.equal(Math.min(expected.length, 100));
      }
    }
  });

  it("pages through every match with the cursor", async () => {
    const q = LANGUAGES[0]!.words[1]!;
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await works.list({ q, cursor, limit: 7 });
      seen.push(...page.items.map((w) => w.workId));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).to.deep.equal(scan(q));
    expect(seen.length).to.be.greaterThan(7);
  });

  it("searches one creator's works alone, through every page", async () => {
    const byCreator = new Map<string, number>();
    for (const w of texts) byCreator.set(w.creator, (byCreator.get(w.creator) ?? 0) + 1);
    const [creator] = [...byCreator].sort((a, b) => b[1] - a[1])[0]!;
    for (const q of ["e", "le", LANGUAGES[0]!.words[1]!, LANGUAGES[5]!.words[2]!, ...LANGUAGES[0]!.absent]) {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await works.list({ q, creator, cursor, limit: 5 });
        seen.push(...page.items.map((w) => w.workId));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(seen, q).to.deep.equal(scan(q, creator));
    }
    expect(scan("e", creator).length).to.be.greaterThan(5);
  });

  it("takes % and _ in a query as text, not as wildcards", async () => {
    for (const q of ["%", "_", "a%b", "__"]) {
      expect((await works.list({ q, limit: 20 })).items, q).to.deep.equal([]);
    }
  });

  it("answers from the trigram and short-term indexes, so a word no work holds costs no scan", async () => {
    const statements: { text: string; values: unknown[] }[] = [];
    const recording = new Proxy(db.pool, {
      get(target, property) {
        if (property !== "query") return Reflect.get(target, property) as unknown;
        return (text: string, values: unknown[]) => {
          statements.push({ text, values });
          return target.query(text, values);
        };
      },
    }) as pg.Pool;
    const search = new WorksRepository(recording, CHAIN_ID);
    const client = await db.pool.connect();
    try {
      // Scans of either table are priced out: only indexes that match the query's expressions remain.
      await client.query("SET enable_seqscan = off");
      await client.query("SET enable_indexscan = off");
      for (const [q, indexes] of [
        ["zebra", ["work_search_title_trgm", "work_search_description_trgm"]],
        ["斑马", ["work_search_short_terms"]],
        ["qz", ["work_search_short_terms"]],
        ["7", ["work_search_short_terms"]],
        ["长颈鹿", ["work_search_title_trgm", "work_search_description_trgm"]],
      ] as const) {
        statements.length = 0;
        await search.list({ q, limit: 20 });
        const { rows } = await client.query<{ "QUERY PLAN": string }>(
          `EXPLAIN ${statements[0]!.text}`,
          statements[0]!.values,
        );
        const plan = rows.map((r) => r["QUERY PLAN"]).join("\n");
        for (const index of indexes) expect(plan, q).to.include(index);
        expect(plan, q).to.not.match(/Seq Scan on work_search/);
      }
    } finally {
      client.release();
    }
  });
});
