/**
 * `npm run bench:codes`: redemption codes sold by card, deployed as in production (the API and the
 * workers as their own processes, the chain and the indexer in this one, real PostgreSQL and
 * Redis, a local stand-in for Stripe's API). An offer gets ORDERS codes uploaded by its creator and
 * a 10% coupon; ORDERS checkouts with the coupon are opened at once, then every
 * `checkout.session.completed` webhook is delivered at once — each twice, as Stripe may — and the
 * run waits until every order is fulfilled. Reports webhook → code delivered latency (the code kept
 * for the order, readable by its buyer), orders fulfilled, and codes delivered twice (read back
 * through the buyers' API and counted in the database). Writes bench/results/codes.json.
 */
import { randomBytes } from "node:crypto";
import { Wallet } from "ethers";
import request from "supertest";
import { OrderSecrets } from "../server/auth/order-secrets.ts";
import { offerTerms, publishOffer, registerWork, soleSplit } from "../test/helpers/commerce.ts";
import { sessionCompleted, startFakeStripe } from "../test/helpers/fake-stripe.ts";
import { sessionToken, startTestStack, UNLIMITED_RATES } from "../test/helpers/stack.ts";
import { startServerProcess, type ServerProcess } from "../test/helpers/server-process.ts";
import { payEveryOrderTwice } from "./lib/pay-orders.ts";
import { report } from "./lib/report.ts";

const ORDERS = Number(process.env.BENCH_ORDERS ?? 200);
const BLOCK_MS = Number(process.env.BENCH_BLOCK_MS ?? 250);
const DELIVERY_CONNECTIONS = Number(process.env.BENCH_DELIVERY_CONNECTIONS ?? 64);
const LIST_PRICE = 1200;
const COUPON_PERCENT = 10;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const stripe = await startFakeStripe();
const env = { ...stripe.env, ...UNLIMITED_RATES, CHECKOUT_HOLDS_PER_WALLET: "1000" };
const stack = await startTestStack("bench_codes", { workers: false, env });
const parts: ServerProcess[] = [];
try {
  parts.push(await startServerProcess(stack, { part: "worker", env }));
  const api = await startServerProcess(stack, { part: "api", env });
  parts.push(api);
  const creator = await stack.signer(5);
  const workId = await registerWork(stack, creator);
  const offerId = await publishOffer(stack, creator, workId, offerTerms(await soleSplit(stack, creator)));
  const auth = `Bearer ${await sessionToken(creator.address)}`;
  const codes = Array.from({ length: ORDERS }, (_, i) => `BENCH-${i}-${randomBytes(8).toString("hex")}`);
  const uploaded = await request(stack.app)
    .post(`/v1/offers/${offerId}/codes`)
    .set("Authorization", auth)
    .send({ codes });
  if (uploaded.status !== 201) throw new Error(`upload failed: ${JSON.stringify(uploaded.body)}`);
  const coupon = "BENCH10";
  const given = await request(stack.app)
    .post("/v1/coupons")
    .set("Authorization", auth)
    .send({ code: coupon, kind: "percent", value: COUPON_PERCENT, maxUses: ORDERS, offerIds: [offerId] });
  if (given.status !== 201) throw new Error(`coupon failed: ${JSON.stringify(given.body)}`);
  await stack.provider.send("evm_setIntervalMining", [BLOCK_MS]);

  console.log(`${ORDERS} checkouts with a coupon at once…`);
  const paid = LIST_PRICE - (LIST_PRICE * COUPON_PERCENT) / 100;
  const answers = await Promise.all(
    Array.from({ length: ORDERS }, () =>
      request(stack.app)
        .post("/v1/checkout")
        .send({ offerId, wallet: Wallet.createRandom().address, coupon }),
    ),
  );
  const orders = answers.map((res) => {
    if (res.status !== 201 || res.body.amount !== paid)
      throw new Error(`checkout: ${JSON.stringify(res.body)}`);
    const orderId = res.body.orderId as string;
    const session = [...stripe.sessions.values()].find((s) => s.params["metadata[orderId]"] === orderId)!;
    const paymentIntent = stripe.authorize(session.id);
    return {
      orderId,
      event: sessionCompleted(stripe.webhookSecret, session.id, paymentIntent, orderId, {
        amount: paid,
        currency: "usd",
      }),
    };
  });

  const { sentAt } = await payEveryOrderTwice(stack, api.url, offerId, orders, DELIVERY_CONNECTIONS);

  const { rows } = await stack.db.pool.query<{ order_id: string; sold_at: Date; fulfilled: number }>(
    `SELECT c.order_id, c.sold_at,
            (SELECT count(*) FROM orders o WHERE o.id = c.order_id AND o.status = 'fulfilled')::int AS fulfilled
       FROM redemption_codes c WHERE c.offer_id = $1 AND c.sold_at IS NOT NULL`,
    [offerId],
  );
  const latencies = rows.map((r) => r.sold_at.getTime() - sentAt.get(r.order_id)!).sort((a, b) => a - b);
  const secrets = new OrderSecrets(stack.config.auth.sessionSecret);
  const delivered = await Promise.all(
    orders.map(async (o) => {
      const res = await request(stack.app)
        .get(`/v1/orders/${o.orderId}/code`)
        .set("X-Order-Secret", secrets.of(o.orderId));
      return res.body.code as string | null;
    }),
  );
  const seen = delivered.filter((c): c is string => c !== null);
  const codesDeliveredTwice =
    seen.length - new Set(seen).size + (rows.length - new Set(rows.map((r) => r.order_id)).size);

  await report(
    "codes",
    {
      orders: ORDERS,
      ordersFulfilled: rows.filter((r) => r.fulfilled === 1).length,
      codesDelivered: seen.length,
      codesDeliveredTwice,
      fulfilledP50Ms: percentile(latencies, 50),
      fulfilledP99Ms: percentile(latencies, 99),
      pricePaid: paid,
    },
    { codesDeliveredTwice: "must be 0", fulfilledP50Ms: "webhook → code delivered; target <= 1,000" },
  );
} finally {
  for (const part of parts) await part.stop();
  await stack.stop();
  await stripe.close();
}
