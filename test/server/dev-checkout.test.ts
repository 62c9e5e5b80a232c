import { expect } from "chai";
import { OrderSecrets } from "../../server/auth/order-secrets.ts";
import { Wallet, type JsonRpcSigner } from "ethers";
import type { Server } from "node:http";
import request from "supertest";
import { freePort } from "../../scripts/stack/free-port.ts";
import { LicenseToken__factory, type LicenseToken } from "../../types/typechain/index.ts";
import { mine, offerTerms, publishOffer, registerWork, soleSplit } from "../helpers/commerce.ts";
import { startTestStack, type TestStack } from "../helpers/stack.ts";

describe("card checkout offline (PAYMENTS_PROVIDER=dev)", function () {
  let stack: TestStack;
  let server: Server;
  let publicUrl: string;
  let licenses: LicenseToken;
  let creator: JsonRpcSigner;
  let workId: string;
  let split: string;

  const orderOf = async (orderId: string) =>
    (
      await request(stack.app)
        .get(`/v1/orders/${orderId}`)
        .set("X-Order-Secret", new OrderSecrets(stack.config.auth.sessionSecret).of(orderId))
    ).body;
  const orderWhere = (orderId: string, check: (o: { status: string; license: unknown }) => boolean) =>
    stack.waitFor(async () => {
      const o = await orderOf(orderId);
      return check(o) ? o : null;
    }, 30_000);

  before(async () => {
    const port = await freePort();
    publicUrl = `http://127.0.0.1:${port}`;
    stack = await startTestStack("dev_checkout", {
      env: {
        PAYMENTS_PROVIDER: "dev",
        PUBLIC_URL: publicUrl,
        ORDER_TTL_SECONDS: "2",
        CHECKOUT_HOLD_SECONDS: "2",
        ORDER_SWEEP_SECONDS: "1",
      },
    });
    server = stack.app.listen(port, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    licenses = LicenseToken__factory.connect(stack.deployment.contracts.LicenseToken.address, stack.provider);
    creator = await stack.signer(5);
    workId = await registerWork(stack, creator);
    split = await soleSplit(stack, creator);
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await stack.stop();
  });

  it("pays on the local checkout page, which posts a signed webhook; the license is minted and the payment captured", async () => {
    const offerId = await publishOffer(stack, creator, workId, offerTerms(split), {
      amount: 1999,
      currency: "EUR",
    });
    const wallet = Wallet.createRandom().address;
    const res = await request(stack.app).post("/v1/checkout").send({ offerId, wallet });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body.currency).to.equal("eur");
    const url = new URL(res.body.checkoutUrl as string);
    expect(url.origin).to.equal(publicUrl);
    expect(url.pathname).to.match(/^\/dev\/checkout\/cs_dev_[0-9a-f]{24}$/);

    const page = await request(stack.app).get(url.pathname);
    expect(page.status).to.equal(200);
    expect(page.headers["content-type"]).to.match(/^text\/html/);
    expect(page.text).to.include('<html lang="en">');
    expect(page.text).to.include("€19.99");
    expect(page.text).to.match(/<button type="submit">Pay €19\.99<\/button>/);
    expect(page.text).to.include('role="status"');

    const paid = await request(stack.app).post(`${url.pathname}/pay`);
    expect(paid.status).to.equal(303);
    expect(paid.headers.location).to.equal(url.pathname);
    await orderWhere(res.body.orderId, (o) => o.license !== null);
    const authorized = await stack.db.pool.query(
      `SELECT status FROM dev_payment_intents WHERE session_id = $1`,
      [url.pathname.split("/").at(-1)],
    );
    expect(authorized.rows[0].status).to.equal("requires_capture");
    await mine(stack);
    const done = await orderWhere(res.body.orderId, (o) => o.status === "fulfilled");
    const captured = await stack.db.pool.query(
      `SELECT status FROM dev_payment_intents WHERE session_id = $1`,
      [url.pathname.split("/").at(-1)],
    );
    expect(captured.rows[0].status).to.equal("succeeded");
    expect((await licenses.ownerOf(done.license.tokenId)).toLowerCase()).to.equal(wallet.toLowerCase());
    const again = await request(stack.app).post(`${url.pathname}/pay`);
    expect(again.status).to.equal(409);

    const refund = await request(stack.app).post(`${url.pathname}/refund`);
    expect(refund.status).to.equal(303);
    const refunded = await orderWhere(res.body.orderId, (o) => o.status === "refunded");
    expect(refunded.revocation.reason).to.equal("refunded");
    await stack.waitFor(async () => (await licenses.getLicense(done.license.tokenId)).revoked);
  });

  it("opens a chargeback on the local page and wins it: Stripe's fees are kept, the sale, chargeback and reinstatement are booked once", async () => {
    const offerId = await publishOffer(stack, creator, workId, offerTerms(split), {
      amount: 1200,
      currency: "usd",
    });
    const res = await request(stack.app)
      .post("/v1/checkout")
      .send({ offerId, wallet: Wallet.createRandom().address });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    const page = new URL(res.body.checkoutUrl as string).pathname;
    expect((await request(stack.app).post(`${page}/pay`)).status).to.equal(303);
    await orderWhere(res.body.orderId, (o) => o.license !== null);
    await mine(stack);
    await orderWhere(res.body.orderId, (o) => o.status === "fulfilled");
    // Nothing to close yet, and a second opening or a refund of a disputed payment is refused.
    expect((await request(stack.app).post(`${page}/dispute/won`)).status).to.equal(409);
    expect((await request(stack.app).post(`${page}/dispute`)).status).to.equal(303);
    expect((await request(stack.app).post(`${page}/dispute`)).status).to.equal(409);
    expect((await request(stack.app).post(`${page}/refund`)).status).to.equal(409);
    await orderWhere(res.body.orderId, (o) => o.status === "disputed");
    expect((await request(stack.app).get(page)).text).to.include("Chargeback won");
    expect((await request(stack.app).post(`${page}/dispute/won`)).status).to.equal(303);
    const bookings = await stack.waitFor(async () => {
      const { rows } = await stack.db.pool.query<{ kind: string; fees: string }>(
        `SELECT t.kind, coalesce(sum(l.amount) FILTER (WHERE l.account = 'provider:fees'), 0)::text AS fees
           FROM ledger_transactions t JOIN ledger_lines l ON l.transaction_id = t.id
          WHERE t.order_id = $1 GROUP BY t.id, t.kind ORDER BY t.id`,
        [res.body.orderId],
      );
      return rows.length === 3 ? rows : null;
    });
    // 2.9% + 30 of $12.00 at capture, $15.00 for the dispute.
    expect(bookings).to.deep.equal([
      { kind: "sale", fees: "65" },
      { kind: "chargeback", fees: "1500" },
      { kind: "chargeback_won", fees: "0" },
    ]);
    expect((await orderOf(res.body.orderId)).status).to.equal("disputed");
  });

  it("expires an unpaid order and returns its reserved unit to the offer's supply", async () => {
    const offerId = await publishOffer(stack, creator, workId, offerTerms(split, { maxSupply: 1 }));
    const first = await request(stack.app)
      .post("/v1/checkout")
      .send({ offerId, wallet: Wallet.createRandom().address });
    expect(first.status).to.equal(201);
    const held = await request(stack.app).get(`/v1/offers/${offerId}`);
    expect(held.body).to.include({ maxSupply: 1, sold: 0, reserved: 1, remaining: 0 });
    const refused = await request(stack.app)
      .post("/v1/checkout")
      .send({ offerId, wallet: Wallet.createRandom().address });
    expect(refused.status).to.equal(409);
    expect(refused.body.error.code).to.equal("SOLD_OUT");

    const expired = await orderWhere(first.body.orderId, (o) => o.status === "expired");
    expect(expired.checkoutUrl).to.equal(null);
    const freed = await request(stack.app).get(`/v1/offers/${offerId}`);
    expect(freed.body).to.include({ reserved: 0, remaining: 1 });
    const page = await request(stack.app).get(new URL(first.body.checkoutUrl as string).pathname);
    expect(page.text).not.to.include("Pay ");
    const second = await request(stack.app)
      .post("/v1/checkout")
      .send({ offerId, wallet: Wallet.createRandom().address });
    expect(second.status, JSON.stringify(second.body)).to.equal(201);
  });

  it("answers 404 for an unknown checkout session", async () => {
    expect((await request(stack.app).get(`/dev/checkout/cs_dev_${"0".repeat(24)}`)).status).to.equal(404);
    expect((await request(stack.app).post("/dev/checkout/nonsense/pay")).status).to.equal(404);
  });
});
