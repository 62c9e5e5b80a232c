import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { expect } from "chai";
import { Queue } from "bullmq";
import { Registry } from "prom-client";
import { registerOperationsMetrics } from "../../server/http/operations-metrics.ts";
import { bullPrefix, createQueues, QUEUE_NAMES, type Queues } from "../../server/queues/queues.ts";
import { migrateServerSchema } from "../../server/schema.ts";
import { findStuckItems } from "../../server/services/stuck-items.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { createTestRedis, TEST_REDIS_URL, type TestRedis } from "../helpers/redis.ts";

const run = promisify(execFile);
const thresholds = { platformSeconds: 60, chainSeconds: 900 };

describe("stuck items: what is older than expected in its state", function () {
  let db: TestDatabase;
  let cache: TestRedis;
  let queues: Queues;
  const ids: Record<string, string> = {};

  /** An order in `status`, last changed `secondsAgo`. */
  async function order(name: string, status: string, secondsAgo: number, extra: Record<string, string> = {}) {
    const id = randomUUID();
    ids[name] = id;
    await db.pool.query(
      `INSERT INTO orders (id, offer_id, wallet, amount, currency, status, payment_status, revoke_reason, ip,
                           reserved_until, payable_until, updated_at)
       VALUES ($1, 1, '0x00', 1200, 'usd', $2, $3, $4, '10.0.0.1', now(), now(), now() - make_interval(secs => $5))`,
      [id, status, extra.payment ?? "none", extra.revoke ?? null, secondsAgo],
    );
  }

  before(async () => {
    db = await createTestDatabase("stuck_items");
    await migrateServerSchema(db.pool);
    cache = await createTestRedis("stuck_items");
    queues = createQueues(cache.redis, cache.prefix);
    await db.pool.query(`INSERT INTO fiat_prices (offer_id, amount, currency) VALUES (1, 1200, 'usd')`);
    await order("paidLong", "paid", 120, { payment: "authorized" });
    await order("paidNow", "paid", 5, { payment: "authorized" });
    await order("mintingLong", "minting", 1_000, { payment: "authorized" });
    await order("mintingRecent", "minting", 120, { payment: "authorized" });
    await order("failedHolding", "failed", 120, { payment: "authorized" });
    await order("failedReleased", "failed", 5_000, { payment: "canceled" });
    await order("refundedUnrevoked", "refunded", 1_000, { payment: "captured", revoke: "refunded" });
    await order("fulfilled", "fulfilled", 5_000, { payment: "captured" });
    await order("booked", "fulfilled", 5_000, { payment: "captured" });
    // Only `booked`'s sale is in the payout ledger; the other captured orders' are not.
    const client = await db.pool.connect();
    await client.query(`BEGIN`);
    await client.query(
      `INSERT INTO ledger_transactions (key, kind, currency, order_id, booked_at) VALUES ($1, 'sale', 'usd', $2, now())`,
      [`sale:${ids.booked}`, ids.booked],
    );
    await client.query(
      `INSERT INTO ledger_lines (transaction_id, line, account, amount)
       SELECT currval('ledger_transactions_id_seq'), n, a, v
         FROM (VALUES (1, 'provider:balance', 1200), (2, 'platform:revenue', -1200)) AS l(n, a, v)`,
    );
    await client.query(`COMMIT`);
    client.release();
    // A settlement the chain has not paid for an hour, one just sent, and one paid long ago.
    for (const [id, status, age] of [
      ["00000000-0000-4000-8000-000000000001", "prepared", 3600],
      ["00000000-0000-4000-8000-000000000002", "sent", 5],
      ["00000000-0000-4000-8000-000000000003", "paid", 3600],
    ] as const) {
      await db.pool.query(
        `INSERT INTO settlements (id, currency, token, cutoff, status, updated_at)
         VALUES ($1, 'usd', '0xt', now(), $2, now() - make_interval(secs => $3))`,
        [id, status, age],
      );
    }
    await db.pool.query(
      `INSERT INTO relayer_transactions (hash, sender, nonce, to_address, data, gas_limit, max_fee_per_gas,
                                         max_priority_fee_per_gas, purpose, ref, status, sent_at)
       VALUES ('0xold', '0xrelayer', 7, '0xto', '0x', 21000, 1, 1, 'mintForFiat', 'r', 'sent', now() - interval '1 hour'),
              ('0xnew', '0xrelayer', 8, '0xto', '0x', 21000, 1, 1, 'mintForFiat', 'r', 'sent', now())`,
    );
    await db.pool.query(
      `INSERT INTO outbox (queue, job_id, data, created_at)
       VALUES ('fulfill-order', 'fulfill-left', '{}', now() - interval '5 minutes'),
              ('fulfill-order', 'fulfill-fresh', '{}', now())`,
    );
    // An anchored batch with one leaf claimed, one whose claim failed an hour ago and one just anchored.
    await db.pool.query(
      `INSERT INTO uploads (content_hash, cid, size, visibility)
       VALUES ('0xa1', 'c1', 1, 'public'), ('0xa2', 'c2', 1, 'public'), ('0xa3', 'c3', 1, 'public')`,
    );
    await db.pool.query(
      `INSERT INTO notarization_batches (id, merkle_root, leaf_count, manifest_cid, status, chain_batch_id)
       VALUES (41, '0xroot', 3, 'cid', 'submitted', 1)`,
    );
    await db.pool.query(
      `INSERT INTO registration_requests (content_hash, creator, cid, metadata_uri, parent_id, nonce, deadline,
                                          signature, mode, status, batch_id, leaf_index, error, claimed_at, updated_at)
       VALUES ('0xa1', '0xc', 'c1', 'm', 0, 1, 1, '0x', 'batch', 'submitted', 41, 0, NULL, now(), now() - interval '1 hour'),
              ('0xa2', '0xc', 'c2', 'm', 0, 2, 1, '0x', 'batch', 'submitted', 41, 1, 'reverted', NULL, now() - interval '1 hour'),
              ('0xa3', '0xc', 'c3', 'm', 0, 3, 1, '0x', 'batch', 'submitted', 41, 2, NULL, NULL, now())`,
    );
    // A job nobody has taken for two minutes (no worker runs here), and one just added.
    const queue = new Queue(QUEUE_NAMES.revokeLicense, {
      connection: cache.redis,
      prefix: bullPrefix(cache.prefix),
    });
    await queue.add("old", { orderId: "x" }, { jobId: "revoke-old", timestamp: Date.now() - 120_000 });
    await queue.add("new", { orderId: "y" }, { jobId: "revoke-new" });
    // Put back to run later: late only once overdue, however long ago it was scheduled.
    await queue.add(
      "overdue",
      { orderId: "z" },
      { jobId: "revoke-overdue", timestamp: Date.now() - 2_000_000, delay: 10_000 },
    );
    await queue.add(
      "later",
      { orderId: "w" },
      { jobId: "revoke-later", timestamp: Date.now() - 2_000_000, delay: 3_600_000 },
    );
    await queue.close();
  });
  after(async () => {
    await queues.close();
    await cache.cleanup();
    await db.drop();
  });

  it("lists orders, jobs, relayer transactions and outbox rows past their expected time, and nothing on time", async () => {
    const items = await findStuckItems({ db: db.pool, queues }, thresholds);
    const listed = items.map((i) => `${i.kind} ${i.id} ${i.state}`);
    expect(listed).to.have.members([
      `order ${ids.paidLong} paid`,
      `order ${ids.mintingLong} minting`,
      `order ${ids.failedHolding} failed, authorization held`,
      `order ${ids.refundedUnrevoked} refunded, revocation pending`,
      `job ${QUEUE_NAMES.revokeLicense}/revoke-old waiting`,
      "relayer-transaction 0xold sent, not mined (mintForFiat, nonce 7)",
      "outbox fulfill-left committed, not queued (fulfill-order)",
      "batch-leaf 41/1 anchored, claim failed: reverted",
      `booking ${ids.refundedUnrevoked} captured, sale not booked`,
      `booking ${ids.fulfilled} captured, sale not booked`,
      "settlement 00000000-0000-4000-8000-000000000001 prepared",
      `job ${QUEUE_NAMES.revokeLicense}/revoke-overdue delayed`,
    ]);
    const paid = items.find((i) => i.id === ids.paidLong)!;
    expect(paid.expectedSeconds).to.equal(60);
    expect(paid.ageSeconds).to.be.within(119, 130);
  });

  it("counts them by kind in the rl_stuck_items metric", async () => {
    const metrics = new Registry();
    registerOperationsMetrics(metrics, {
      db: db.pool,
      redis: cache.redis,
      redisPrefix: cache.prefix,
      queues,
      thresholds,
    });
    const text = await metrics.metrics();
    expect(text).to.contain('rl_stuck_items{kind="order"} 4');
    expect(text).to.contain('rl_stuck_items{kind="job"} 2');
    expect(text).to.contain('rl_stuck_items{kind="booking"} 2');
    expect(text).to.contain('rl_stuck_items{kind="settlement"} 1');
    expect(text).to.contain('rl_stuck_items{kind="relayer-transaction"} 1');
    expect(text).to.contain('rl_stuck_items{kind="outbox"} 1');
    expect(text).to.contain('rl_stuck_items{kind="batch-leaf"} 1');
    expect(text).to.contain('rl_recoveries_total{kind="stalled-job"} 0');
  });

  it("npm run stuck prints them and exits 1", async () => {
    const env = {
      PATH: process.env.PATH,
      DATABASE_URL: db.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: cache.prefix,
    };
    const outcome = await run(process.execPath, ["--import", "tsx", "scripts/stuck.ts", "--json"], {
      env,
    }).then(
      () => ({ code: 0, stdout: "" }),
      (err: { code: number; stdout: string }) => err,
    );
    expect(outcome.code).to.equal(1);
    const printed = JSON.parse(outcome.stdout) as { kind: string; id: string }[];
    expect(printed.map((i) => i.id)).to.include.members([ids.paidLong!, "0xold", "fulfill-left"]);
  });
});
