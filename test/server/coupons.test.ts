import { expect } from "chai";
import { Wallet, type JsonRpcSigner } from "ethers";
import request from "supertest";
import { OrderSecrets } from "../../server/auth/order-secrets.ts";
import { type CardShop, mine, openCardShop } from "../helpers/commerce.ts";
import { type FakeStripe, postStripeEvent, sessionCompleted } from "../helpers/fake-stripe.ts";
import { sessionToken, type TestStack } from "../helpers/stack.ts";

describe("coupons: limits held under concurrency, the discount shown, recorded and booked as paid", function () {
  let stack: TestStack;
  let stripe: FakeStripe;
  let creator: JsonRpcSigner;
  let rival: JsonRpcSigner;
  let shop: CardShop;
  let codes = 0;

  const buyer = () => Wallet.createRandom().address;
  const couponCode = () => `SAVE${++codes}X${Date.now() % 100000}`;
  const newOffer = () => shop.newOffer();

  async function give(body: object, as: JsonRpcSigner = creator) {
    return request(stack.app)
      .post("/v1/coupons")
      .set("Authorization", `Bearer ${await sessionToken(as.address)}`)
      .send(body);
  }

  const checkout = (offerId: string, coupon?: string, wallet = buyer()) =>
    shop.checkout({ offerId, wallet, ...(coupon ? { coupon } : {}) });

  before(async () => {
    shop = await openCardShop("coupons");
    ({ stack, stripe, creator, rival } = shop);
  });
  after(async () => shop.stop());

  it("refuses coupons for another creator's or an unknown offer, repeated codes and malformed terms", async () => {
    const offerId = await newOffer();
    const code = couponCode();
    const anonymous = await request(stack.app)
      .post("/v1/coupons")
      .send({ code, kind: "percent", value: 10, offerIds: [offerId] });
    expect(anonymous.status).to.equal(401);
    const foreign = await give({ code, kind: "percent", value: 10, offerIds: [offerId] }, rival);
    expect(foreign.status).to.equal(403);
    expect(foreign.body.error.code).to.equal("NOT_OFFER_CREATOR");
    expect((await give({ code, kind: "percent", value: 10, offerIds: ["987654321"] })).status).to.equal(404);
    for (const body of [
      { code, kind: "percent", value: 150, offerIds: [offerId] },
      { code, kind: "fixed", value: 100, offerIds: [offerId] },
      { code, kind: "percent", value: 10, currency: "usd", offerIds: [offerId] },
      { code: "a b", kind: "percent", value: 10, offerIds: [offerId] },
      { code, kind: "percent", value: 10, offerIds: [] },
      { code, kind: "percent", value: 10, offerIds: [offerId], endsAt: "2020-01-01T00:00:00Z" },
    ]) {
      const res = await give(body);
      expect(res.status, JSON.stringify(body)).to.equal(400);
    }
    expect(
      (await give({ code: code.toLowerCase(), kind: "percent", value: 10, offerIds: [offerId] })).status,
    ).to.equal(201);
    const again = await give({ code, kind: "fixed", value: 100, currency: "usd", offerIds: [offerId] });
    expect(again.status).to.equal(409);
    expect(again.body.error.code).to.equal("COUPON_EXISTS");
  });

  it("refuses a coupon at checkout that is unknown, for another offer, or outside its window", async () => {
    const [offerId, other] = [await newOffer(), await newOffer()];
    const code = couponCode();
    await give({ code, kind: "percent", value: 10, offerIds: [offerId] });
    expect((await checkout(offerId, "NOSUCHCOUPON")).body.error.code).to.equal("COUPON_NOT_FOUND");
    expect((await checkout(other, code)).status).to.equal(404);
    const later = couponCode();
    await give({
      code: later,
      kind: "percent",
      value: 10,
      offerIds: [offerId],
      startsAt: new Date(Date.now() + 3600_000).toISOString(),
    });
    const early = await checkout(offerId, later);
    expect(early.status).to.equal(409);
    expect(early.body.error.code).to.equal("COUPON_NOT_ACTIVE");
    const { rows } = await stack.db.pool.query(`SELECT count(*)::int AS n FROM orders WHERE offer_id = $1`, [
      offerId,
    ]);
    expect(rows[0].n, "no order made by a refused coupon").to.equal(0);
  });

  it("100 concurrent checkouts with a coupon limited to 10: exactly 10 discounted orders, 90 refused", async () => {
    const offerId = await newOffer();
    const code = couponCode();
    expect(
      (await give({ code, kind: "fixed", value: 200, currency: "usd", maxUses: 10, offerIds: [offerId] }))
        .status,
    ).to.equal(201);
    const answers = await Promise.all(Array.from({ length: 100 }, () => checkout(offerId, code)));
    const made = answers.filter((a) => a.status === 201);
    const refused = answers.filter((a) => a.status !== 201);
    expect(made).to.have.length(10);
    for (const a of made)
      expect(a.body).to.include({ amount: 1000, listAmount: 1200, discount: 200, coupon: code });
    expect(refused).to.have.length(90);
    for (const r of refused) expect(r.body.error.code, JSON.stringify(r.body)).to.equal("COUPON_EXHAUSTED");
    const { rows } = await stack.db.pool.query(
      `SELECT count(*)::int AS n FROM orders WHERE offer_id = $1 AND coupon_id IS NOT NULL AND discount = 200`,
      [offerId],
    );
    expect(rows[0].n).to.equal(10);
    const list = await request(stack.app)
      .get("/v1/coupons")
      .set("Authorization", `Bearer ${await sessionToken(creator.address)}`);
    expect(list.body.items.find((c: { code: string }) => c.code === code).used).to.equal(10);
    expect((await checkout(offerId)).status, "the offer still sells at its list price").to.equal(201);
  });

  it("holds a buyer to its per-buyer limit, and frees a lapsed checkout's use", async () => {
    const offerId = await newOffer();
    const code = couponCode();
    await give({ code, kind: "percent", value: 50, maxUses: 1, maxUsesPerBuyer: 1, offerIds: [offerId] });
    const wallet = buyer();
    const first = await checkout(offerId, code, wallet);
    expect(first.status).to.equal(201);
    const second = await checkout(offerId, code, wallet);
    expect(second.body.error.code).to.equal("COUPON_LIMIT_PER_BUYER");
    expect((await checkout(offerId, code)).body.error.code).to.equal("COUPON_EXHAUSTED");
    await stack.db.pool.query(
      `UPDATE orders SET reserved_until = now() - interval '1 second' WHERE id = $1`,
      [first.body.orderId],
    );
    const next = await checkout(offerId, code);
    expect(next.status, JSON.stringify(next.body)).to.equal(201);
    expect(next.body).to.include({ amount: 600, discount: 600 });
  });

  it("charges the discounted price and books the sale on the price paid", async () => {
    const offerId = await newOffer();
    const code = couponCode();
    await give({ code, kind: "percent", value: 25, offerIds: [offerId] });
    const res = await checkout(offerId, code);
    expect(res.body).to.include({ amount: 900, listAmount: 1200, discount: 300 });
    const orderId = res.body.orderId as string;
    const secret = new OrderSecrets(stack.config.auth.sessionSecret).of(orderId);
    const session = [...stripe.sessions.values()].find((s) => s.params["metadata[orderId]"] === orderId)!;
    expect(session.params["line_items[0][price_data][unit_amount]"]).to.equal("900");
    const event = sessionCompleted(stripe.webhookSecret, session.id, stripe.authorize(session.id), orderId, {
      amount: 900,
      currency: "usd",
    });
    for (let i = 0; i < 3; i++) await postStripeEvent(stack.app, event).expect(200);
    await stack.waitFor(async () => {
      const o = await request(stack.app).get(`/v1/orders/${orderId}`).set("X-Order-Secret", secret);
      return o.body.license !== null;
    }, 30_000);
    await mine(stack);
    const booked = await stack.waitFor(async () => {
      const { rows } = await stack.db.pool.query<{ debits: string }>(
        `SELECT sum(l.amount) FILTER (WHERE l.amount > 0)::text AS debits
           FROM ledger_transactions t JOIN ledger_lines l ON l.transaction_id = t.id
          WHERE t.key = 'sale:' || $1`,
        [orderId],
      );
      return rows[0]?.debits ?? null;
    }, 30_000);
    expect(Number(booked)).to.equal(900);
  });
});
