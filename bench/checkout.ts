/**
 * `npm run bench:checkout`: card checkout end to end, deployed as in production: the Hardhat chain
 * and the indexer in this process; the API (BENCH_API_PROCESSES, default 1) and the workers
 * (BENCH_WORKER_PROCESSES, default 1) started as `npm run api` and `npm run worker` start them;
 * real PostgreSQL and Redis; a local stand-in for Stripe's API. Opens ORDERS checkouts, then
 * delivers every `checkout.session.completed` webhook at once — each twice, as Stripe may — over
 * BENCH_DELIVERY_CONNECTIONS persistent connections, and waits until every order is minted,
 * confirmed and captured. Reports orders per second, webhook → fulfilled latency, the median time
 * to each step before it, and double mints. The chain mines a block per transaction and an empty
 * one every BLOCK_MS, so the last mints become safe. Writes bench/results/checkout.json.
 */
import { Wallet } from "ethers";
import type { Pool } from "pg";
import request from "supertest";
import { LicenseToken__factory } from "../types/typechain/index.ts";
import { offerTerms, publishOffer, registerWork, soleSplit } from "../test/helpers/commerce.ts";
import { sessionCompleted, startFakeStripe } from "../test/helpers/fake-stripe.ts";
import { startTestStack, UNLIMITED_RATES } from "../test/helpers/stack.ts";
import { startServerProcess, type ServerProcess } from "../test/helpers/server-process.ts";
import { payEveryOrderTwice } from "./lib/pay-orders.ts";
import { report } from "./lib/report.ts";

const ORDERS = Number(process.env.BENCH_ORDERS ?? 200);
const BLOCK_MS = Number(process.env.BENCH_BLOCK_MS ?? 250);
const DELIVERY_CONNECTIONS = Number(process.env.BENCH_DELIVERY_CONNECTIONS ?? 64);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * Median time from the first webhook delivery to each step of an order (paid, mint sent, minted),
 * read from the order's recorded events: where the rest of the latency goes.
 */
async function stageMedians(
  db: Pool,
  offerId: string,
  sentAt: Map<string, number>,
): Promise<Record<string, number>> {
  const { rows } = await db.query<{ id: string; stage: string; at: Date }>(
    `SELECT o.id, CASE WHEN e.status = 'minting' AND e.detail ? 'tokenId' THEN 'minted' ELSE e.status END AS stage,
            min(e.created_at) AS at
       FROM orders o JOIN order_events e ON e.order_id = o.id
      WHERE o.offer_id = $1 AND e.status IN ('paid', 'minting')
      GROUP BY 1, 2`,
    [offerId],
  );
  const figures: Record<string, number> = {};
  for (const stage of ["paid", "minting", "minted"]) {
    const times = rows
      .filter((r) => r.stage === stage)
      .map((r) => r.at.getTime() - sentAt.get(r.id)!)
      .sort((a, b) => a - b);
    figures[`${stage}P50Ms`] = percentile(times, 50);
  }
  return figures;
}

const API_PROCESSES = Number(process.env.BENCH_API_PROCESSES ?? 1);
const WORKER_PROCESSES = Number(process.env.BENCH_WORKER_PROCESSES ?? 1);

const stripe = await startFakeStripe();
const env = { ...stripe.env, ...UNLIMITED_RATES };
const stack = await startTestStack("bench_checkout", { workers: false, env });
const parts: ServerProcess[] = [];
try {
  for (let i = 0; i < WORKER_PROCESSES; i++) {
    parts.push(await startServerProcess(stack, { part: "worker", env }));
  }
  const api = await startServerProcess(stack, { part: "api", processes: API_PROCESSES, env });
  parts.push(api);
  const creator = await stack.signer(5);
  const workId = await registerWork(stack, creator);
  const offerId = await publishOffer(stack, creator, workId, offerTerms(await soleSplit(stack, creator)));
  // As the local chain of `npm start` does: a block per transaction, and an empty one every BLOCK_MS.
  await stack.provider.send("evm_setIntervalMining", [BLOCK_MS]);

  console.log(`${ORDERS} checkouts…`);
  const orders: { orderId: string; wallet: string; event: { payload: string; signature: string } }[] = [];
  for (let i = 0; i < ORDERS; i++) {
    const wallet = Wallet.createRandom().address;
    const res = await request(stack.app).post("/v1/checkout").send({ offerId, wallet });
    if (res.status !== 201) throw new Error(`checkout failed: ${JSON.stringify(res.body)}`);
    const orderId = res.body.orderId as string;
    const session = [...stripe.sessions.values()].find((s) => s.params["metadata[orderId]"] === orderId)!;
    const paymentIntent = stripe.authorize(session.id);
    orders.push({
      orderId,
      wallet,
      event: sessionCompleted(stripe.webhookSecret, session.id, paymentIntent, orderId),
    });
  }

  const { sentAt, started } = await payEveryOrderTwice(stack, api.url, offerId, orders, DELIVERY_CONNECTIONS);

  const { rows } = await stack.db.pool.query<{ id: string; fulfilled_at: Date }>(
    `SELECT o.id, e.created_at AS fulfilled_at FROM orders o
       JOIN order_events e ON e.order_id = o.id AND e.status = 'fulfilled'
      WHERE o.offer_id = $1`,
    [offerId],
  );
  const latencies = rows.map((r) => r.fulfilled_at.getTime() - sentAt.get(r.id)!).sort((a, b) => a - b);
  const finished = Math.max(...rows.map((r) => r.fulfilled_at.getTime()));
  const stages = await stageMedians(stack.db.pool, offerId, sentAt);

  const licenses = LicenseToken__factory.connect(
    stack.deployment.contracts.LicenseToken.address,
    stack.provider,
  );
  const sold = Number((await licenses.getOffer(offerId)).sold);
  const balances = await Promise.all(orders.map((o) => licenses.balanceOf(o.wallet)));
  const overMinted = balances.reduce((sum, b) => sum + Math.max(0, Number(b) - 1), 0);
  const doubleMints = Math.max(sold - rows.length, overMinted);
  const captures = stripe.calls.filter((c) => c.action === "capture").length;
  if (captures !== ORDERS) throw new Error(`${captures} captures for ${ORDERS} orders`);

  await report(
    "checkout",
    {
      orders: ORDERS,
      ordersFulfilled: rows.length,
      doubleMints,
      ordersPerSec: Math.round((rows.length / ((finished - started) / 1000)) * 10) / 10,
      fulfilledP50Ms: percentile(latencies, 50),
      fulfilledP99Ms: percentile(latencies, 99),
      ...stages,
    },
    { doubleMints: "must be 0", fulfilledP50Ms: "target <= 1,000" },
  );
} finally {
  for (const part of parts) await part.stop();
  await stack.stop();
  await stripe.close();
}
