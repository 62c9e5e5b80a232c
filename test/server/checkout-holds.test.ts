import { expect } from "chai";
import { Wallet, type JsonRpcSigner } from "ethers";
import request from "supertest";
import { OrderSecrets } from "../../server/auth/order-secrets.ts";
import { LicenseToken__factory, type LicenseToken } from "../../types/typechain/index.ts";
import { offerTerms, publishOffer, registerWork, soleSplit } from "../helpers/commerce.ts";
import { type FakeStripe, payOrder, startFakeStripe } from "../helpers/fake-stripe.ts";
import { startTestStack, type TestStack } from "../helpers/stack.ts";

const HOLD_SECONDS = 300;

describe("checkout holds: short, capped per buyer, a late payment kept only while stock remains", function () {
  let stack: TestStack;
  let stripe: FakeStripe;
  let licenses: LicenseToken;
  let creator: JsonRpcSigner;
  let workId: string;
  let split: string;
  let ips = 0;

  const nextIp = () => `10.1.${Math.floor(++ips / 250)}.${ips % 250}`;
  const buyer = () => Wallet.createRandom().address;
  const newOffer = (maxSupply: number) =>
    publishOffer(stack, creator, workId, offerTerms(split, { maxSupply }));

  const checkout = (offerId: string, wallet = buyer(), ip = nextIp()) =>
    request(stack.app).post("/v1/checkout").set("X-Forwarded-For", ip).send({ offerId, wallet });

  const order = async (orderId: string) =>
    (
      await request(stack.app)
        .get(`/v1/orders/${orderId}`)
        .set("X-Order-Secret", new OrderSecrets(stack.config.auth.sessionSecret).of(orderId))
    ).body as {
      status: string;
      payment: string;
      failureReason: string | null;
      paymentRef: string;
      license: unknown;
      reservedUntil: string;
      payableUntil: string;
      createdAt: string;
      checkoutUrl: string | null;
    };

  /** The buyer's card is authorized and Stripe's `checkout.session.completed` is delivered. */
  async function pay(orderId: string) {
    return payOrder(stack.app, stripe, orderId, 2);
  }

  /** Time passes for an order: its hold lapses (its payment session stays open). */
  const lapse = (orderId: string) =>
    stack.db.pool.query(
      `UPDATE orders SET reserved_until = now() - interval '1 second', created_at = created_at - make_interval(secs => $2)
        WHERE id = $1`,
      [orderId, HOLD_SECONDS],
    );

  const offerStock = async (offerId: string) =>
    (await request(stack.app).get(`/v1/offers/${offerId}`)).body as { reserved: number; remaining: number };

  before(async () => {
    stripe = await startFakeStripe();
    stack = await startTestStack("checkout_holds", {
      env: {
        ...stripe.env,
        TRUST_PROXY: "1",
        CHECKOUT_VELOCITY_PER_MINUTE: "1000",
        CHECKOUT_HOLD_SECONDS: String(HOLD_SECONDS),
        CHECKOUT_HOLDS_PER_WALLET_PER_OFFER: "2",
        CHECKOUT_HOLDS_PER_WALLET: "3",
        CHECKOUT_HOLDS_PER_IP_PER_OFFER: "3",
        CHECKOUT_HOLDS_PER_IP: "4",
      },
    });
    licenses = LicenseToken__factory.connect(stack.deployment.contracts.LicenseToken.address, stack.provider);
    creator = await stack.signer(5);
    workId = await registerWork(stack, creator);
    split = await soleSplit(stack, creator);
  });
  after(async () => {
    await stack.stop();
    await stripe.close();
  });

  it("holds a unit for CHECKOUT_HOLD_SECONDS while the order stays payable for ORDER_TTL_SECONDS", async () => {
    const res = await checkout(await newOffer(5));
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    const created = Date.parse(res.body.createdAt as string);
    const heldFor = (Date.parse(res.body.reservedUntil as string) - created) / 1000;
    const payableFor = (Date.parse(res.body.payableUntil as string) - created) / 1000;
    expect(heldFor).to.be.closeTo(HOLD_SECONDS, 2);
    expect(payableFor).to.be.closeTo(stack.config.checkout.orderTtlSeconds, 2);
    expect(payableFor).to.be.at.least(1800);
  });

  it("holds at most 3 units of an offer for one network however many anonymous checkouts it opens at once", async () => {
    const offerId = await newOffer(10);
    const ip = nextIp();
    const answers = await Promise.all(Array.from({ length: 10 }, () => checkout(offerId, buyer(), ip)));
    expect(answers.filter((a) => a.status === 201)).to.have.length(3);
    const refused = answers.filter((a) => a.status !== 201);
    expect(refused.map((a) => a.status)).to.deep.equal(Array(7).fill(429));
    expect(refused[0]!.body.error.details).to.include({ rule: "holds-per-ip-per-offer", limit: 3 });
    expect(Number(refused[0]!.headers["retry-after"])).to.be.within(1, HOLD_SECONDS);
    expect(await offerStock(offerId)).to.include({ reserved: 3, remaining: 7 });
    expect((await checkout(offerId)).status, "another network still buys").to.equal(201);
  });

  it("counts an IPv6 network per /64: fresh addresses in it share its cap", async () => {
    const offerId = await newOffer(10);
    const statuses = [];
    for (let host = 1; host <= 4; host++) {
      statuses.push((await checkout(offerId, buyer(), `2001:db8:15:7::${host.toString(16)}`)).status);
    }
    expect(statuses).to.deep.equal([201, 201, 201, 429]);
  });

  it("caps a network's holds over every offer, and a wallet's on one offer and overall", async () => {
    const [a, b, c] = [await newOffer(10), await newOffer(10), await newOffer(10)];
    const ip = nextIp();
    for (let i = 0; i < 3; i++) expect((await checkout(a, buyer(), ip)).status).to.equal(201);
    expect((await checkout(b, buyer(), ip)).status).to.equal(201);
    const network = await checkout(c, buyer(), ip);
    expect(network.status).to.equal(429);
    expect(network.body.error.details).to.include({ rule: "holds-per-ip", limit: 4 });

    const wallet = buyer();
    for (let i = 0; i < 2; i++) expect((await checkout(a, wallet)).status).to.equal(201);
    const onOffer = await checkout(a, wallet);
    expect(onOffer.status).to.equal(429);
    expect(onOffer.body.error.details).to.include({ rule: "holds-per-wallet-per-offer", limit: 2 });
    expect((await checkout(b, wallet)).status).to.equal(201);
    const overall = await checkout(c, wallet);
    expect(overall.status).to.equal(429);
    expect(overall.body.error.details).to.include({ rule: "holds-per-wallet", limit: 3 });
  });

  it("a paid order no longer counts as a hold: its buyer may check out again", async () => {
    const offerId = await newOffer(10);
    const wallet = buyer();
    const first = await checkout(offerId, wallet);
    expect((await checkout(offerId, wallet)).status).to.equal(201);
    expect((await checkout(offerId, wallet)).status).to.equal(429);
    await pay(first.body.orderId as string);
    await stack.waitFor(async () => (await order(first.body.orderId as string)).status !== "created");
    expect((await checkout(offerId, wallet)).status).to.equal(201);
  });

  it("puts a lapsed hold's unit back on sale; the late payment is then refused and its authorization cancelled, never minted", async () => {
    const offerId = await newOffer(1);
    const first = await checkout(offerId);
    expect(first.status).to.equal(201);
    expect((await checkout(offerId)).body.error.code).to.equal("SOLD_OUT");

    await lapse(first.body.orderId as string);
    expect(await offerStock(offerId)).to.include({ reserved: 0, remaining: 1 });
    const lapsed = await order(first.body.orderId as string);
    expect(lapsed.status, "still payable after its hold").to.equal("created");
    expect(lapsed.checkoutUrl).to.not.equal(null);

    const second = await checkout(offerId);
    expect(second.status, JSON.stringify(second.body)).to.equal(201);
    const secondIntent = await pay(second.body.orderId as string);

    const lateIntent = await pay(first.body.orderId as string);
    const refused = await stack.waitFor(async () => {
      const o = await order(first.body.orderId as string);
      return o.status === "failed" && o.payment === "canceled" ? o : null;
    }, 30_000);
    expect(refused.failureReason).to.match(/lapsed/);
    expect(stripe.count("cancel", lateIntent)).to.equal(1);
    expect(stripe.count("capture", lateIntent)).to.equal(0);
    expect(refused.license).to.equal(null);
    const sent = await stack.db.pool.query(
      `SELECT 1 FROM relayer_transactions WHERE ref = $1 OR $1 = ANY(item_refs)`,
      [refused.paymentRef],
    );
    expect(sent.rowCount, "no mint was sent for the late payment").to.equal(0);

    await stack.waitFor(async () => (await order(second.body.orderId as string)).license !== null, 30_000);
    expect(stripe.count("cancel", secondIntent)).to.equal(0);
    expect((await licenses.getOffer(offerId)).sold).to.equal(1n);
  });

  it("keeps a late payment while a unit is still free and mints it", async () => {
    const offerId = await newOffer(2);
    const res = await checkout(offerId);
    await lapse(res.body.orderId as string);
    const intent = await pay(res.body.orderId as string);
    await stack.waitFor(async () => (await order(res.body.orderId as string)).license !== null, 30_000);
    expect(stripe.count("cancel", intent)).to.equal(0);
  });
});
