import { randomUUID } from "node:crypto";
import { expect } from "chai";
import { migrateIndexerSchema } from "../../indexer/schema.ts";
import { bookMany } from "../../server/payouts/ledger-store.ts";
import { payeeAccount, PROVIDER_BALANCE } from "../../server/payouts/postings.ts";
import { reconcile, reconciled } from "../../server/payouts/reconcile.ts";
import { dueBalances, insertSettlement } from "../../server/payouts/settlement-store.ts";
import { settlementIdOf } from "../../server/payouts/units.ts";
import { migrateServerSchema } from "../../server/schema.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";

const payee = (n: number) => `0x${n.toString(16).padStart(40, "0")}`;
const T0 = new Date("2026-11-01T00:00:00Z");
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

describe("settlement store: what is due to payees", function () {
  let db: TestDatabase;

  /** Books `amount` owed to (negative: taken back from) `to`, as `kind`, at `when`. */
  const booking = (kind: "sale" | "refund", to: string, amount: number, when: Date) => ({
    key: `${kind}:${randomUUID()}`,
    kind,
    currency: "usd",
    orderId: randomUUID(),
    paymentRef: `0x${randomUUID().replace(/-/g, "").padEnd(64, "0")}`,
    bookedAt: when,
    lines: [
      { account: PROVIDER_BALANCE, amount },
      { account: payeeAccount(to), amount: -amount },
    ],
  });

  before(async () => {
    db = await createTestDatabase("settlement_store");
    await migrateIndexerSchema(db.pool);
    await migrateServerSchema(db.pool);
  });
  after(async () => {
    await db.drop();
  });

  it("holds back money owed until the cutoff but counts money taken back at once: a sale refunded within the holdback is never paid", async () => {
    const client = await db.pool.connect();
    try {
      await client.query("BEGIN");
      await bookMany(client, [
        // Payee 1: sold before the cutoff, refunded after it.
        booking("sale", payee(1), 1000, at(0)),
        booking("refund", payee(1), -1000, at(10)),
        // Payee 2: one sale before the cutoff, one after.
        booking("sale", payee(2), 500, at(0)),
        booking("sale", payee(2), 700, at(10)),
        // Payee 3: owed, but the contract cannot pay it (excluded).
        booking("sale", payee(3), 900, at(0)),
      ]);
      await client.query("COMMIT");
    } finally {
      client.release();
    }
    const due = await dueBalances(db.pool, "usd", at(5), 100, [payee(3)]);
    expect(due.map((d) => [d.payee, d.owed])).to.deep.equal([[payee(2), 500]]);
    expect((await dueBalances(db.pool, "usd", at(20), 100)).map((d) => [d.payee, d.owed])).to.deep.equal([
      [payee(2), 1200],
      [payee(3), 900],
    ]);
  });

  it("reconciles a settlement paying what its bookings owed, and catches one paying more even when the chain agrees with it", async () => {
    const pay = async (overpaid: number) => {
      const due = await dueBalances(db.pool, "usd", at(20), 100);
      const id = randomUUID();
      const client = await db.pool.connect();
      try {
        await client.query("BEGIN");
        const owed = due.map((d, i) => ({ ...d, owed: d.owed + (i === 0 ? overpaid : 0) }));
        await insertSettlement(
          client,
          { id, currency: "usd", token: `0x${"7".repeat(40)}`, cutoff: at(20), bookedAt: at(20) },
          owed,
          (minor) => BigInt(minor) * 10_000n,
        );
        await client.query(`UPDATE settlements SET status = 'paid' WHERE id = $1`, [id]);
        // The chain paid what the settlement says.
        await client.query(
          `INSERT INTO settlement_payments (settlement_id, payee, amount, treasury, block_number, log_index, tx_hash)
           SELECT $1, p, a * 10000, $2, 1, n, $3 FROM unnest($4::text[], $5::bigint[]) WITH ORDINALITY AS x(p, a, n)`,
          [
            settlementIdOf(id),
            `0x${"7".repeat(40)}`,
            `0x${"b".repeat(64)}`,
            owed.map((d) => d.payee),
            owed.map((d) => d.owed),
          ],
        );
        await client.query(
          `INSERT INTO settlements_paid (settlement_id, treasury, total, payment_refs, block_number, log_index, tx_hash)
           VALUES ($1, $2, 0, '{}', 1, 0, $3)`,
          [settlementIdOf(id), `0x${"7".repeat(40)}`, `0x${"b".repeat(64)}`],
        );
        await client.query("COMMIT");
      } finally {
        client.release();
      }
    };
    await pay(0);
    const honest = await reconcile(db.pool, { currency: "usd", decimals: 6 });
    expect(reconciled(honest), JSON.stringify(honest)).to.equal(true);
    expect(honest.totals.onChain).to.equal(2100);
    expect(honest.totals.pending).to.equal(0);
    // A new sale, then a settlement paying its payee 1.00 more than the sale owed: the chain and the
    // settlement agree, the bookings do not.
    const client = await db.pool.connect();
    try {
      await client.query("BEGIN");
      await bookMany(client, [booking("sale", payee(5), 300, at(0))]);
      await client.query("COMMIT");
    } finally {
      client.release();
    }
    await pay(100);
    const caught = await reconcile(db.pool, { currency: "usd", decimals: 6 });
    expect(caught.coverMismatches).to.equal(1);
    expect(reconciled(caught)).to.equal(false);
  });
});
