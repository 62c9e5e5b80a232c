import { expect } from "chai";
import pino from "pino";
import { migrateIndexerSchema } from "../../indexer/schema.ts";
import { OrderBooker } from "../../server/payouts/jobs/book-order.ts";
import { migrateServerSchema } from "../../server/schema.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { insertCapturedOrders, insertIndexedOffer } from "../helpers/ledger.ts";

const SPLIT = `0x${"5".repeat(40)}`;
const REFERRER = `0x${"6".repeat(40)}`;

describe("order booker: card payments booked in groups", function () {
  let db: TestDatabase;
  let booker: OrderBooker;

  const orders = (count: number, offerId: number, set: { payment?: string; referrer?: string } = {}) =>
    insertCapturedOrders(db.pool, count, offerId, set);

  const sales = async (ids: string[]) =>
    Number(
      (
        await db.pool.query<{ n: string }>(
          `SELECT count(*)::text AS n FROM ledger_transactions WHERE kind = 'sale' AND order_id = ANY($1::uuid[])`,
          [ids],
        )
      ).rows[0]!.n,
    );

  before(async () => {
    db = await createTestDatabase("order_booker");
    await migrateIndexerSchema(db.pool);
    await migrateServerSchema(db.pool);
    await insertIndexedOffer(db.pool, { offerId: 1, split: SPLIT });
    await db.pool.query(
      `INSERT INTO offer_referrers (offer_id, referrer, approved, block_number, log_index, tx_hash)
       VALUES (1, $1, true, 1, 1, $2)`,
      [REFERRER, `0x${"a".repeat(64)}`],
    );
    // Offer 2 has a card price but is not indexed: its sales cannot be split yet.
    await db.pool.query(`INSERT INTO fiat_prices (offer_id, amount, currency) VALUES (2, 1200, 'usd')`);
    booker = new OrderBooker({
      db: db.pool,
      clock: { nowSeconds: async () => Math.floor(Date.now() / 1000) },
      logger: pino({ level: "silent" }),
    });
  });
  after(async () => {
    await db.drop();
  });

  it("books 300 concurrent captures, each asked for three times, exactly once each", async () => {
    const ids = await orders(300, 1);
    const results = await Promise.all([...ids, ...ids, ...ids].map((id) => booker.book(id)));
    expect(results.filter((r) => r.includes("sale"))).to.have.length(300);
    expect(await sales(ids)).to.equal(300);
    const unbalanced = await db.pool.query(
      `SELECT transaction_id FROM ledger_lines GROUP BY transaction_id HAVING sum(amount) <> 0`,
    );
    expect(unbalanced.rowCount).to.equal(0);
  });

  it("fails an order of an offer not indexed alone, and books the others of its group", async () => {
    const good = await orders(20, 1);
    const [bad] = await orders(1, 2);
    const outcomes = await Promise.allSettled([...good, bad!].map((id) => booker.book(id)));
    expect(outcomes.slice(0, 20).every((o) => o.status === "fulfilled")).to.equal(true);
    const failed = outcomes[20]!;
    expect(failed.status).to.equal("rejected");
    expect(String((failed as PromiseRejectedResult).reason)).to.match(/not indexed with its terms/);
    expect(await sales(good)).to.equal(20);
    expect(await sales([bad!])).to.equal(0);
  });

  it("books nothing for a payment never captured, and pays an approved referrer's commission only", async () => {
    const [uncaptured] = await orders(1, 1, { payment: "canceled" });
    expect(await booker.book(uncaptured!)).to.deep.equal([]);
    const [referred] = await orders(1, 1, { referrer: REFERRER });
    const [unknown] = await orders(1, 1, { referrer: `0x${"7".repeat(40)}` });
    await Promise.all([booker.book(referred!), booker.book(unknown!)]);
    const { rows } = await db.pool.query<{ order_id: string; account: string; amount: string }>(
      `SELECT t.order_id, l.account, l.amount::text FROM ledger_transactions t JOIN ledger_lines l ON l.transaction_id = t.id
        WHERE t.order_id = ANY($1::uuid[]) AND l.account LIKE 'payee:%' ORDER BY t.order_id, l.line`,
      [[referred, unknown]],
    );
    const of = (id: string) => rows.filter((r) => r.order_id === id).map((r) => [r.account, r.amount]);
    // $12.00: 65 to Stripe, 30 platform fee (2.5%), 120 commission (10%) to the approved referrer.
    expect(of(referred!)).to.deep.equal([
      [`payee:${SPLIT}`, "-985"],
      [`payee:${REFERRER}`, "-120"],
    ]);
    expect(of(unknown!)).to.deep.equal([[`payee:${SPLIT}`, "-1105"]]);
  });
});
