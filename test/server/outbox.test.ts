import { expect } from "chai";
import { Queue } from "bullmq";
import { Wallet, keccak256, toUtf8Bytes } from "ethers";
import pino from "pino";
import request from "supertest";
import type { CrashPoint } from "../../server/crash-points.ts";
import { Outbox } from "../../server/queues/outbox.ts";
import { bullPrefix, createQueues, QUEUE_NAMES, type Queues } from "../../server/queues/queues.ts";
import { Recoveries, recoveryTotals } from "../../server/recoveries.ts";
import { migrateServerSchema } from "../../server/schema.ts";
import { LicenseToken__factory } from "../../types/typechain/index.ts";
import { mine, soleCreatorOffer } from "../helpers/commerce.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import {
  type FakeStripe,
  postStripeEvent,
  sessionCompleted,
  startFakeStripe,
} from "../helpers/fake-stripe.ts";
import { createTestRedis, type TestRedis } from "../helpers/redis.ts";
import { appDyingAt, startTestStack, type TestStack } from "../helpers/stack.ts";

const logger = pino({ level: "silent" });

/** A checkpoint that throws at `at`, as if the process were killed there. */
const dieAt = (at: CrashPoint) => (point: CrashPoint) => {
  if (point === at) throw new Error(`process killed at ${point}`);
};

describe("outbox: what a commit promises is queued even if its process dies", function () {
  let stack: TestStack;
  let stripe: FakeStripe;
  let offerId: string;

  before(async () => {
    stripe = await startFakeStripe();
    // The stack's workers run the relay, as every worker process does.
    stack = await startTestStack("outbox", { env: stripe.env });
    const creator = await stack.signer(5);
    offerId = await soleCreatorOffer(stack, creator);
  });
  after(async () => {
    await stack.stop();
    await stripe.close();
  });

  it("fulfils an order whose payment an API process committed and then died before queueing the job", async () => {
    // The API process that receives the webhook dies right after the payment's commit.
    const dying = appDyingAt(stack, "webhook:after-commit");
    const wallet = Wallet.createRandom().address;
    const checkout = await request(stack.app).post("/v1/checkout").send({ offerId, wallet });
    expect(checkout.status, JSON.stringify(checkout.body)).to.equal(201);
    const orderId = checkout.body.orderId as string;
    const session = [...stripe.sessions.values()].find((s) => s.params["metadata[orderId]"] === orderId)!;
    const paymentIntent = stripe.authorize(session.id);
    const event = sessionCompleted(stripe.webhookSecret, session.id, paymentIntent, orderId);
    const webhook = await postStripeEvent(dying, event);
    expect(webhook.status).to.equal(500);
    const { rows } = await stack.db.pool.query(`SELECT status FROM orders WHERE id = $1`, [orderId]);
    expect(rows[0].status).to.equal("paid");
    expect(await stack.queues.fulfillOrder.getJobState(`fulfill-${orderId}`)).to.equal("unknown");

    // No replay of the webhook: the relay alone gets the order minted and captured.
    await stack.waitFor(async () => {
      const { rows: minted } = await stack.db.pool.query(`SELECT token_id FROM orders WHERE id = $1`, [
        orderId,
      ]);
      return minted[0].token_id !== null;
    });
    await mine(stack);
    await stack.waitFor(async () => {
      const { rows: done } = await stack.db.pool.query(`SELECT status FROM orders WHERE id = $1`, [orderId]);
      return done[0].status === "fulfilled";
    });
    const licenses = LicenseToken__factory.connect(
      stack.deployment.contracts.LicenseToken.address,
      stack.provider,
    );
    expect(await licenses.balanceOf(wallet)).to.equal(1n);
    expect(await licenses.paymentRefUsed(keccak256(toUtf8Bytes(session.id)))).to.equal(true);
    expect(stripe.count("capture", paymentIntent)).to.equal(1);
    const outbox = await stack.db.pool.query(`SELECT count(*)::int AS n FROM outbox`);
    expect(outbox.rows[0].n).to.equal(0);
    expect((await recoveryTotals(stack.cache.redis, stack.cache.prefix))["outbox-relayed"]).to.be.at.least(1);
  });
});

describe("outbox relay", function () {
  let db: TestDatabase;
  let cache: TestRedis;
  let queues: Queues;
  let evidence: Queue;

  const relay = (checkpoint?: (point: CrashPoint) => void) =>
    new Outbox({
      db: db.pool,
      queues,
      logger,
      recoveries: new Recoveries(cache.redis, cache.prefix, logger),
      checkpoint,
    });

  /** Rows as a process that died after its commit left them, a few seconds ago. */
  async function leftBehind(count: number): Promise<string[]> {
    const ids = Array.from({ length: count }, (_, i) => `evidence-left-${Date.now()}-${i}`);
    await db.pool.query(
      `INSERT INTO outbox (queue, job_id, data, created_at)
       SELECT $1, id, jsonb_build_object('requestId', id), now() - interval '10 seconds' FROM unnest($2::text[]) AS id`,
      [QUEUE_NAMES.evidence, ids],
    );
    return ids;
  }

  before(async () => {
    db = await createTestDatabase("outbox_relay");
    await migrateServerSchema(db.pool);
    cache = await createTestRedis("outbox_relay");
    queues = createQueues(cache.redis, cache.prefix);
    // Nothing consumes the queue here: every job queued stays to be counted.
    evidence = new Queue(QUEUE_NAMES.evidence, { connection: cache.redis, prefix: bullPrefix(cache.prefix) });
  });
  after(async () => {
    await evidence.close();
    await queues.close();
    await cache.cleanup();
    await db.drop();
  });

  it("leaves rows a relay died holding to the next one, and a job queued twice exists once", async () => {
    const ids = await leftBehind(5);
    await relay(dieAt("outbox:after-queue"))
      .relay()
      .then(
        () => expect.fail("the dying relay finished"),
        (err: unknown) => expect(String(err)).to.match(/process killed/),
      );
    const kept = await db.pool.query(`SELECT job_id FROM outbox WHERE job_id = ANY($1::text[])`, [ids]);
    expect(kept.rowCount).to.equal(5);

    expect(await relay().relay()).to.equal(5);
    const left = await db.pool.query(`SELECT count(*)::int AS n FROM outbox`);
    expect(left.rows[0].n).to.equal(0);
    const jobs = await evidence.getJobs(["waiting"]);
    expect(jobs.map((j) => j.id).sort()).to.deep.equal([...ids].sort());
  });

  it("two relays side by side share the rows: each is taken by one of them", async () => {
    const ids = await leftBehind(40);
    const relayed = await Promise.all([relay().relay(), relay().relay()]);
    expect(relayed[0]! + relayed[1]!).to.equal(40);
    const jobs = await evidence.getJobs(["waiting"]);
    expect(ids.every((id) => jobs.some((j) => j.id === id))).to.equal(true);
  });

  it("leaves rows just committed to the process that committed them", async () => {
    await db.pool.query(
      `INSERT INTO outbox (queue, job_id, data) VALUES ($1, 'evidence-fresh', '{"requestId":"fresh"}')`,
      [QUEUE_NAMES.evidence],
    );
    expect(await relay().relay()).to.equal(0);
    await db.pool.query(`DELETE FROM outbox WHERE job_id = 'evidence-fresh'`);
  });
});
