import { expect } from "chai";
import { Wallet, type JsonRpcSigner } from "ethers";
import request from "supertest";
import { OrderSecrets } from "../../server/auth/order-secrets.ts";
import { LicenseToken__factory } from "../../types/typechain/index.ts";
import { type CardShop, mine, offerTerms, openCardShop, publishOffer } from "../helpers/commerce.ts";
import { type FakeStripe, postStripeEvent, sessionCompleted } from "../helpers/fake-stripe.ts";
import { sessionToken, type TestStack } from "../helpers/stack.ts";

const HOUR = 3600_000;
const at = (ms: number) => new Date(Date.now() + ms).toISOString();

describe("sale windows: a creator's flash sale priced at checkout, its per-wallet limit held under concurrency", function () {
  let stack: TestStack;
  let stripe: FakeStripe;
  let creator: JsonRpcSigner;
  let rival: JsonRpcSigner;
  let workId: string;
  let split: string;
  let shop: CardShop;
  let coupons = 0;

  const buyer = () => Wallet.createRandom().address;
  const newOffer = () => shop.newOffer();

  async function setSale(offerId: string, body: object, as: JsonRpcSigner = creator) {
    return request(stack.app)
      .post(`/v1/offers/${offerId}/sales`)
      .set("Authorization", `Bearer ${await sessionToken(as.address)}`)
      .send(body);
  }

  async function endSale(offerId: string, saleId: string, as: JsonRpcSigner = creator) {
    return request(stack.app)
      .delete(`/v1/offers/${offerId}/sales/${saleId}`)
      .set("Authorization", `Bearer ${await sessionToken(as.address)}`);
  }

  const checkout = (offerId: string, extra: { wallet?: string; coupon?: string; referrer?: string } = {}) =>
    shop.checkout({ offerId, ...extra, wallet: extra.wallet ?? buyer() });

  /** Pays an order through the provider's webhook (sent three times) and waits for its sale's booking. */
  async function payAndBook(orderId: string, amount: number): Promise<{ account: string; amount: number }[]> {
    const session = [...stripe.sessions.values()].find((s) => s.params["metadata[orderId]"] === orderId)!;
    expect(session.params["line_items[0][price_data][unit_amount]"]).to.equal(String(amount));
    const event = sessionCompleted(stripe.webhookSecret, session.id, stripe.authorize(session.id), orderId, {
      amount,
      currency: "usd",
    });
    for (let i = 0; i < 3; i++) await postStripeEvent(stack.app, event).expect(200);
    const secret = new OrderSecrets(stack.config.auth.sessionSecret).of(orderId);
    await stack.waitFor(async () => {
      const o = await request(stack.app).get(`/v1/orders/${orderId}`).set("X-Order-Secret", secret);
      return o.body.license !== null;
    }, 30_000);
    await mine(stack);
    return stack.waitFor(async () => {
      const { rows } = await stack.db.pool.query<{ account: string; amount: string }>(
        `SELECT l.account, l.amount::text FROM ledger_transactions t JOIN ledger_lines l ON l.transaction_id = t.id
          WHERE t.key = 'sale:' || $1`,
        [orderId],
      );
      return rows.length > 0 ? rows.map((r) => ({ account: r.account, amount: Number(r.amount) })) : null;
    }, 30_000);
  }

  before(async () => {
    shop = await openCardShop("sales", {
      CHECKOUT_LIMIT_PER_WALLET_PER_OFFER: "1000",
      CHECKOUT_HOLDS_PER_WALLET_PER_OFFER: "1000",
    });
    ({ stack, stripe, creator, rival, workId, split } = shop);
  });
  after(async () => shop.stop());

  it("refuses a sale without a session, on another creator's or an unknown offer, and malformed sales", async () => {
    const offerId = await newOffer();
    const good = { amount: 900, endsAt: at(HOUR), maxPerWallet: 2 };
    const anonymous = await request(stack.app).post(`/v1/offers/${offerId}/sales`).send(good);
    expect(anonymous.status).to.equal(401);
    const foreign = await setSale(offerId, good, rival);
    expect(foreign.status).to.equal(403);
    expect(foreign.body.error.code).to.equal("NOT_OFFER_CREATOR");
    expect((await setSale("987654321", good)).status).to.equal(404);
    for (const body of [
      { ...good, amount: 0 },
      { ...good, amount: -5 },
      { ...good, amount: 12.5 },
      { ...good, amount: "900" },
      { ...good, maxPerWallet: 0 },
      { ...good, endsAt: at(-HOUR) },
      { ...good, startsAt: at(2 * HOUR), endsAt: at(HOUR) },
      { ...good, endsAt: "tomorrow" },
      { amount: 900, maxPerWallet: 2 },
    ]) {
      const res = await setSale(offerId, body);
      expect(res.status, JSON.stringify(body)).to.equal(400);
      expect(res.body.error).to.have.keys("code", "message", "details");
    }
    const notBelow = await setSale(offerId, { ...good, amount: 1200 });
    expect(notBelow.status).to.equal(400);
    expect(notBelow.body.error.code).to.equal("SALE_PRICE_NOT_BELOW");
    const floor = await setSale(offerId, { ...good, amount: 1 });
    expect(floor.status).to.equal(400);
    expect(floor.body.error.code).to.equal("PRICE_BELOW_FLOOR");
    const { rows } = await stack.db.pool.query(`SELECT count(*)::int AS n FROM sales WHERE offer_id = $1`, [
      offerId,
    ]);
    expect(rows[0].n, "no sale made by a refused request").to.equal(0);
  });

  it("refuses a window overlapping another sale of the offer with 409, and takes one after it", async () => {
    const offerId = await newOffer();
    const t0 = Date.now();
    const at = (ms: number) => new Date(t0 + ms).toISOString();
    const first = await setSale(offerId, {
      amount: 900,
      startsAt: at(HOUR),
      endsAt: at(3 * HOUR),
      maxPerWallet: 2,
    });
    expect(first.status, JSON.stringify(first.body)).to.equal(201);
    expect(first.body).to.include({
      amount: 900,
      currency: "usd",
      status: "upcoming",
      maxPerWallet: 2,
      sold: 0,
    });
    for (const [from, to] of [
      [0, 2 * HOUR],
      [2 * HOUR, 4 * HOUR],
      [1.5 * HOUR, 2 * HOUR],
      [0.5 * HOUR, 5 * HOUR],
    ]) {
      const res = await setSale(offerId, {
        amount: 800,
        startsAt: at(from!),
        endsAt: at(to!),
        maxPerWallet: 1,
      });
      expect(res.status, `${from}–${to}`).to.equal(409);
      expect(res.body.error.code).to.equal("SALE_OVERLAPS");
      expect(res.body.error.details.sales[0].id).to.equal(first.body.id);
    }
    const concurrent = await Promise.all(
      [0, 1, 2, 3].map(() =>
        setSale(offerId, { amount: 700, startsAt: at(4 * HOUR), endsAt: at(5 * HOUR), maxPerWallet: 1 }),
      ),
    );
    expect(concurrent.map((r) => r.status).sort()).to.deep.equal([201, 409, 409, 409]);
    const after = await setSale(offerId, {
      amount: 800,
      startsAt: first.body.endsAt,
      endsAt: at(4 * HOUR),
      maxPerWallet: 1,
    });
    expect(after.status, "a window starting as the other ends").to.equal(201);
    const listed = await request(stack.app).get(`/v1/offers/${offerId}/sales`).expect(200);
    expect(listed.body.items.map((s: { amount: number }) => s.amount)).to.deep.equal([900, 800, 700]);
    expect((await request(stack.app).get(`/v1/offers/987654321/sales`)).status).to.equal(404);
  });

  it("sells at the list price before a sale starts and after it ends, at the sale price during it", async () => {
    const offerId = await newOffer();
    const upcoming = await setSale(offerId, {
      amount: 800,
      startsAt: at(HOUR),
      endsAt: at(2 * HOUR),
      maxPerWallet: 5,
    });
    const before = await checkout(offerId);
    expect(before.status).to.equal(201);
    expect(before.body).to.include({ amount: 1200, listAmount: 1200, saleAmount: null, saleId: null });
    expect((await request(stack.app).get(`/v1/offers/${offerId}`)).body.sale).to.equal(null);

    expect((await endSale(offerId, upcoming.body.id, rival)).status).to.equal(403);
    const removed = await endSale(offerId, upcoming.body.id);
    expect(removed.status).to.equal(200);
    expect((await request(stack.app).get(`/v1/offers/${offerId}/sales`)).body.items).to.deep.equal([]);

    const sale = await setSale(offerId, { amount: 900, endsAt: at(HOUR), maxPerWallet: 5 });
    expect(sale.body.status).to.equal("active");
    const offer = await request(stack.app).get(`/v1/offers/${offerId}`);
    expect(offer.body.sale).to.deep.equal({
      id: sale.body.id,
      amount: 900,
      endsAt: sale.body.endsAt,
      maxPerWallet: 5,
    });
    const listed = await request(stack.app).get(`/v1/offers?workId=${workId}&limit=100`);
    expect(listed.body.items.find((o: { offerId: string }) => o.offerId === offerId).sale.amount).to.equal(
      900,
    );
    const during = await checkout(offerId);
    expect(during.body).to.include({
      amount: 900,
      listAmount: 1200,
      saleAmount: 900,
      saleId: sale.body.id,
      discount: 0,
    });

    const ended = await endSale(offerId, sale.body.id);
    expect(ended.status).to.equal(200);
    expect(ended.body.status).to.equal("ended");
    expect((await endSale(offerId, sale.body.id)).body.error.code).to.equal("SALE_ENDED");
    expect((await request(stack.app).get(`/v1/offers/${offerId}`)).body.sale).to.equal(null);
    const afterwards = await checkout(offerId);
    expect(afterwards.body).to.include({ amount: 1200, saleAmount: null });
    const { rows } = await stack.db.pool.query(`SELECT sale_id, sale_amount::int FROM orders WHERE id = $1`, [
      during.body.orderId,
    ]);
    expect(rows[0]).to.deep.equal({ sale_id: sale.body.id, sale_amount: 900 });
  });

  it("50 concurrent checkouts by one wallet with a limit of 2: exactly 2 orders, 48 refused SALE_LIMIT_REACHED", async () => {
    const offerId = await newOffer();
    const sale = await setSale(offerId, { amount: 600, endsAt: at(HOUR), maxPerWallet: 2, maxTotal: 3 });
    const wallet = buyer();
    const answers = await Promise.all(Array.from({ length: 50 }, () => checkout(offerId, { wallet })));
    const made = answers.filter((a) => a.status === 201);
    expect(made).to.have.length(2);
    for (const a of made) expect(a.body).to.include({ amount: 600, saleAmount: 600, saleId: sale.body.id });
    const refused = answers.filter((a) => a.status !== 201);
    expect(refused).to.have.length(48);
    for (const r of refused) {
      expect(r.status, JSON.stringify(r.body)).to.equal(403);
      expect(r.body.error.code).to.equal("SALE_LIMIT_REACHED");
      expect(r.body.error.details).to.include({ saleId: sale.body.id, maxPerWallet: 2 });
    }
    const { rows } = await stack.db.pool.query(`SELECT count(*)::int AS n FROM orders WHERE offer_id = $1`, [
      offerId,
    ]);
    expect(rows[0].n).to.equal(2);

    // Another wallet takes the sale's last place; then the sale is sold out for everyone.
    expect((await checkout(offerId)).body.amount).to.equal(600);
    const late = await checkout(offerId);
    expect(late.status).to.equal(409);
    expect(late.body.error.code).to.equal("SALE_SOLD_OUT");
    // An unpaid order that can no longer be paid gives its place back.
    await stack.db.pool.query(
      `UPDATE orders SET status = 'expired', reserved_until = now() - interval '1 second',
              payable_until = now() - interval '1 second' WHERE id = $1`,
      [made[0]!.body.orderId],
    );
    const again = await checkout(offerId, { wallet });
    expect(again.status, JSON.stringify(again.body)).to.equal(201);
    expect(again.body.amount).to.equal(600);
  });

  it("holds a buyer paying without a wallet to the per-wallet limit by their email address", async () => {
    const offerId = await newOffer();
    await setSale(offerId, { amount: 700, endsAt: at(HOUR), maxPerWallet: 1 });
    const email = `sale-${Date.now()}@example.com`;
    const first = await shop.checkout({ offerId, email });
    expect(first.status, JSON.stringify(first.body)).to.equal(201);
    expect(first.body.amount).to.equal(700);
    const second = await shop.checkout({ offerId, email });
    expect(second.status).to.equal(403);
    expect(second.body.error.code).to.equal("SALE_LIMIT_REACHED");
  });

  it("takes a coupon off the sale price and books the sale and a referrer's commission on the price paid", async () => {
    const offerId = await publishOffer(
      stack,
      creator,
      workId,
      offerTerms(split, { maxSupply: 0, referrerBps: 1000 }),
    );
    const referrer = Wallet.createRandom().address;
    const licenses = LicenseToken__factory.connect(stack.deployment.contracts.LicenseToken.address, creator);
    await (await licenses.setReferrer(offerId, referrer, true)).wait();
    await stack.waitFor(async () => {
      const { rows } = await stack.db.pool.query(
        `SELECT 1 FROM offer_referrers WHERE offer_id = $1 AND referrer = $2 AND approved`,
        [offerId, referrer.toLowerCase()],
      );
      return rows.length === 1;
    });
    const code = `SALE${++coupons}X${Date.now() % 100000}`;
    const coupon = await request(stack.app)
      .post("/v1/coupons")
      .set("Authorization", `Bearer ${await sessionToken(creator.address)}`)
      .send({ code, kind: "percent", value: 25, offerIds: [offerId] });
    expect(coupon.status).to.equal(201);
    const sale = await setSale(offerId, { amount: 1000, endsAt: at(HOUR), maxPerWallet: 1 });

    const res = await checkout(offerId, { coupon: code, referrer });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body).to.include({
      amount: 750,
      listAmount: 1200,
      saleAmount: 1000,
      saleId: sale.body.id,
      discount: 250,
      coupon: code,
    });
    const lines = await payAndBook(res.body.orderId as string, 750);
    const debits = lines.filter((l) => l.amount > 0).reduce((sum, l) => sum + l.amount, 0);
    expect(debits, "the sale booked on the price paid").to.equal(750);
    const commission = lines.find((l) => l.account === `payee:${referrer.toLowerCase()}`);
    expect(commission?.amount, "10% of the 750 paid, not of the 1,200 list price").to.equal(-75);

    const secret = new OrderSecrets(stack.config.auth.sessionSecret).of(res.body.orderId);
    const order = await request(stack.app)
      .get(`/v1/orders/${res.body.orderId}`)
      .set("X-Order-Secret", secret);
    expect(order.body).to.include({ amount: 750, listAmount: 1200, saleAmount: 1000, discount: 250 });
    const listed = await request(stack.app).get(`/v1/offers/${offerId}/sales`);
    expect(listed.body.items[0]).to.include({ id: sale.body.id, sold: 1 });
  });
});
