import { expect } from "chai";
import { Wallet } from "ethers";
import request from "supertest";
import { recoveryTotals } from "../../server/recoveries.ts";
import { LicenseToken__factory } from "../../types/typechain/index.ts";
import { mine, soleCreatorOffer } from "../helpers/commerce.ts";
import { type FakeStripe, payOrder, startFakeStripe } from "../helpers/fake-stripe.ts";
import { startServerProcess, type ServerProcess } from "../helpers/server-process.ts";
import { startTestStack, type TestStack } from "../helpers/stack.ts";

const ORDERS = 4;

describe("npm run worker on SIGTERM", function () {
  this.timeout(180_000);
  let stack: TestStack;
  let stripe: FakeStripe;
  const workers: ServerProcess[] = [];
  let offerId: string;

  before(async () => {
    stripe = await startFakeStripe();
    stack = await startTestStack("main_worker", { workers: false, env: stripe.env });
    workers.push(await startServerProcess(stack, { part: "worker", env: stripe.env }));
    const creator = await stack.signer(5);
    offerId = await soleCreatorOffer(stack, creator);
  });
  after(async () => {
    for (const worker of workers) await worker.stop();
    await stack.stop();
    await stripe.close();
  });

  it("a worker holding fulfilments exits within 10 s and another worker completes them", async () => {
    // Mints are sent but not mined: the worker's fulfilment jobs wait on them.
    await stack.provider.send("evm_setAutomine", [false]);
    const orders: { orderId: string; wallet: string; paymentIntent: string }[] = [];
    for (let i = 0; i < ORDERS; i++) {
      const wallet = Wallet.createRandom().address;
      const res = await request(stack.app).post("/v1/checkout").send({ offerId, wallet });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      const orderId = res.body.orderId as string;
      const paymentIntent = await payOrder(stack.app, stripe, orderId);
      orders.push({ orderId, wallet, paymentIntent });
    }
    await stack.waitFor(async () => (await stack.queues.fulfillOrder.getActiveCount()) === ORDERS);
    await stack.waitFor(async () => {
      const { rows } = await stack.db.pool.query(
        `SELECT count(*)::int AS n FROM orders WHERE id = ANY($1::uuid[]) AND mint_tx_hash IS NOT NULL`,
        [orders.map((o) => o.orderId)],
      );
      return rows[0].n === ORDERS;
    });

    workers.push(await startServerProcess(stack, { part: "worker", env: stripe.env }));
    const holding = workers.shift()!;
    const stopping = Date.now();
    expect(await holding.stop()).to.equal(0);
    expect(Date.now() - stopping).to.be.below(10_000);
    expect((await recoveryTotals(stack.cache.redis, stack.cache.prefix))["handed-back-job"]).to.equal(ORDERS);

    await stack.provider.send("evm_setAutomine", [true]);
    const ids = orders.map((o) => o.orderId);
    await stack.waitFor(async () => {
      await mine(stack);
      const { rows } = await stack.db.pool.query(
        `SELECT count(*)::int AS n FROM orders WHERE id = ANY($1::uuid[]) AND status = 'fulfilled'`,
        [ids],
      );
      return rows[0].n === ORDERS;
    }, 30_000);
    const licenses = LicenseToken__factory.connect(
      stack.deployment.contracts.LicenseToken.address,
      stack.provider,
    );
    for (const order of orders) {
      expect(await licenses.balanceOf(order.wallet)).to.equal(1n);
      expect(stripe.count("capture", order.paymentIntent)).to.equal(1);
    }
    // An order turns fulfilled inside its job, a moment before the job itself is marked completed.
    const states = await stack.waitFor(async () => {
      const all = await Promise.all(
        ids.map(async (id) => (await stack.queues.fulfillOrder.getJob(`fulfill-${id}`))!.getState()),
      );
      return all.every((state) => state === "completed" || state === "failed") ? all : null;
    });
    expect(states).to.deep.equal(ids.map(() => "completed"));
  });
});
