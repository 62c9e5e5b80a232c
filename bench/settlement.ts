/**
 * The payout ledger and its settlement: `npm run bench:settlement`. Writes bench/results/settlement.json.
 *   gasPerSplitSettled100  gas per split in one settlement paying 100 splits that never held the token
 *   bookingsPerSec         sales booked per second while 200 captured orders are booked at once, as the workers book them
 *   reconcileMs100k        `npm run reconcile`'s check at 100,000 ledger lines
 * Each figure is the median of RUNS runs, with the range printed beside it.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { network } from "hardhat";
import { Wallet, type ContractTransactionResponse } from "ethers";
import pino from "pino";
import { migrateIndexerSchema } from "../indexer/schema.ts";
import { migrateServerSchema } from "../server/schema.ts";
import { OrderBooker } from "../server/payouts/jobs/book-order.ts";
import { reconcile, reconciled } from "../server/payouts/reconcile.ts";
import { settlementIdOf } from "../server/payouts/units.ts";
import {
  DevStablecoin__factory,
  PayoutSettlement__factory,
  SplitFactory__factory,
} from "../types/typechain/index.ts";
import { createTestDatabase } from "../test/helpers/database.ts";
import { insertCapturedOrders, insertIndexedOffer } from "../test/helpers/ledger.ts";
import { report } from "./lib/report.ts";

const RUNS = Number(process.env.RUNS ?? 3);
const SPLITS = 100;
const CONCURRENT = 200;
const BOOKINGS_PER_RUN = 2000;
const LINES = 100_000;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const range = (values: number[], digits = 0) =>
  `${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)} over ${values.length} runs`;

async function gasOf(tx: Promise<ContractTransactionResponse>): Promise<number> {
  return Number((await (await tx).wait())!.gasUsed);
}

/** Gas of one settlement paying `SPLITS` fresh revenue splits, one payment reference each. */
async function settlementGas(): Promise<number[]> {
  const { ethers } = await network.create();
  const [admin, treasury, creator] = await ethers.getSigners();
  const token = await new DevStablecoin__factory(admin).deploy();
  const settlement = await new PayoutSettlement__factory(admin).deploy(
    admin!.address,
    token,
    treasury!.address,
  );
  await (await token.mint(treasury!.address, 10n ** 15n)).wait();
  await (await token.connect(treasury!).approve(settlement, 2n ** 256n - 1n)).wait();
  await (await settlement.grantRole(await settlement.SETTLER_ROLE(), admin!.address)).wait();
  const factory = await new SplitFactory__factory(creator).deploy();
  const gas: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const splits: string[] = [];
    for (let i = 0; i < SPLITS; i++) {
      const recipients = [Wallet.createRandom().address, Wallet.createRandom().address];
      await (await factory.createSplit(recipients, [6000, 4000])).wait();
      splits.push((await factory.predictSplit(recipients, [6000, 4000])).toLowerCase());
    }
    splits.sort();
    const used = await gasOf(
      settlement.settle(
        settlementIdOf(randomUUID()),
        splits,
        splits.map((_, i) => 1_000_000n + BigInt(i)),
        splits.map(() => `0x${randomBytes(32).toString("hex")}`),
      ),
    );
    gas.push(Math.round(used / SPLITS));
  }
  return gas;
}

const SPLIT = `0x${"5".repeat(40)}`;

/** A database with the server's and the indexer's tables and one indexed offer sold by card. */
async function ledgerDatabase() {
  const db = await createTestDatabase("bench_settlement");
  await migrateIndexerSchema(db.pool);
  await migrateServerSchema(db.pool);
  await insertIndexedOffer(db.pool, { offerId: 1, split: SPLIT });
  return db;
}

async function bookingsPerSecond(db: Awaited<ReturnType<typeof ledgerDatabase>>): Promise<number[]> {
  const booker = new OrderBooker({
    db: db.pool,
    clock: { nowSeconds: async () => Math.floor(Date.now() / 1000) },
    logger: pino({ level: "silent" }),
  });
  const rates: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const orders = await insertCapturedOrders(db.pool, BOOKINGS_PER_RUN, 1);
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENT }, async () => {
        while (next < orders.length) await booker.book(orders[next++]!);
      }),
    );
    rates.push(orders.length / ((performance.now() - started) / 1000));
  }
  return rates;
}

/** Fills the ledger up to `LINES` lines (sales of five lines each), half of them settled and indexed. */
async function fillLedger(db: Awaited<ReturnType<typeof ledgerDatabase>>): Promise<void> {
  const { rows } = await db.pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM ledger_lines`);
  const sales = Math.ceil((LINES - Number(rows[0]!.n)) / 5);
  await db.pool.query(
    `WITH t AS (
       INSERT INTO ledger_transactions (key, kind, currency, order_id, payment_ref, offer_id, booked_at)
       SELECT 'sale:' || gen_random_uuid(), 'sale', 'usd', gen_random_uuid(), '0x' || md5(g::text) || md5(g::text), 1,
              now() - interval '30 days'
         FROM generate_series(1, $1) g
       RETURNING id
     )
     INSERT INTO ledger_lines (transaction_id, line, account, amount)
     SELECT t.id, l.line, CASE l.line WHEN 4 THEN 'payee:0x' || lpad(to_hex(t.id % 500), 40, '0')
                                      WHEN 5 THEN 'payee:0x' || lpad(to_hex(1000 + t.id % 50), 40, '0')
                                      ELSE l.account END, l.amount
       FROM t, (VALUES (1, 'provider:balance', 1135), (2, 'provider:fees', 65), (3, 'platform:revenue', -125),
                       (4, '', -955), (5, '', -120)) AS l(line, account, amount)`,
    [sales],
  );
  // One settlement paid and indexed for the first 250 split payees.
  const id = randomUUID();
  await db.pool.query(
    `INSERT INTO settlements (id, currency, token, cutoff, status) VALUES ($1, 'usd', $2, now(), 'paid')`,
    [id, `0x${"7".repeat(40)}`],
  );
  const { rows: payees } = await db.pool.query<{ payee: string; owed: string }>(
    `SELECT substr(account, 7) AS payee, (-sum(amount))::text AS owed FROM ledger_lines
      WHERE account LIKE 'payee:%' GROUP BY account HAVING -sum(amount) > 0 ORDER BY account LIMIT 250`,
  );
  const client = await db.pool.connect();
  try {
    await client.query("BEGIN");
    await client.query(
      `INSERT INTO settlement_payees (settlement_id, payee, amount, token_amount)
       SELECT $1, p, a, a * 10000 FROM unnest($2::text[], $3::bigint[]) AS x(p, a)`,
      [id, payees.map((p) => p.payee), payees.map((p) => p.owed)],
    );
    const total = payees.reduce((s, p) => s + Number(p.owed), 0);
    const { rows: txn } = await client.query<{ id: string }>(
      `INSERT INTO ledger_transactions (key, kind, currency, settlement_id, booked_at)
       VALUES ($1, 'settlement', 'usd', $2, now()) RETURNING id::text`,
      [`settlement:${id}`, id],
    );
    await client.query(
      `INSERT INTO ledger_lines (transaction_id, line, account, amount)
       SELECT $1, n, a, v FROM unnest($2::text[], $3::bigint[]) WITH ORDINALITY AS x(a, v, n)`,
      [
        txn[0]!.id,
        [...payees.map((p) => `payee:${p.payee}`), "treasury:settlements"],
        [...payees.map((p) => p.owed), String(-total)],
      ],
    );
    await client.query(
      `INSERT INTO settlement_payments (settlement_id, payee, amount, treasury, block_number, log_index, tx_hash)
       SELECT $1, p, a * 10000, $3, 1, 0, $4 FROM unnest($2::text[], $5::bigint[]) AS x(p, a)`,
      [
        settlementIdOf(id),
        payees.map((p) => p.payee),
        `0x${"7".repeat(40)}`,
        `0x${"b".repeat(64)}`,
        payees.map((p) => p.owed),
      ],
    );
    await client.query("COMMIT");
  } finally {
    client.release();
  }
}

async function reconcileTimes(
  db: Awaited<ReturnType<typeof ledgerDatabase>>,
): Promise<{ ms: number[]; lines: number }> {
  const ms: number[] = [];
  let lines = 0;
  for (let run = 0; run < RUNS + 2; run++) {
    const started = performance.now();
    const result = await reconcile(db.pool, { currency: "usd", decimals: 6 });
    ms.push(performance.now() - started);
    if (!reconciled(result))
      throw new Error(`the benchmark's ledger does not reconcile: ${JSON.stringify(result.totals)}`);
    lines = result.lines;
  }
  return { ms: ms.slice(2), lines };
}

const gas = await settlementGas();
const db = await ledgerDatabase();
try {
  const bookings = await bookingsPerSecond(db);
  await fillLedger(db);
  const reconciling = await reconcileTimes(db);
  await report(
    "settlement",
    {
      gasPerSplitSettled100: median(gas),
      bookingsPerSec: Math.round(median(bookings)),
      reconcileMs100k: Math.round(median(reconciling.ms)),
      ledgerLines: reconciling.lines,
    },
    {
      gasPerSplitSettled100: `${range(gas)} (target ≤ 40,000)`,
      bookingsPerSec: `${range(bookings)}; ${CONCURRENT} at once (target ≥ 1,000)`,
      reconcileMs100k: `${range(reconciling.ms)} (target ≤ 2,000)`,
    },
  );
} finally {
  await db.drop();
}
