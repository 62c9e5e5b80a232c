import { expect } from "chai";
import type { JsonRpcSigner } from "ethers";
import request, { type Response } from "supertest";
import { offerTerms, publishOffer, registerWork, soleSplit } from "../helpers/commerce.ts";
import { type FakeStripe, payOrder, startFakeStripe } from "../helpers/fake-stripe.ts";
import { readPdf, squeeze } from "../helpers/pdf.ts";
import { signIn } from "../helpers/sign-in.ts";
import { startTestStack, type TestStack } from "../helpers/stack.ts";

const PLATFORM = {
  PLATFORM_NAME: "Rights Ledger GmbH",
  PLATFORM_ADDRESS: "Musterstraße 1, 10115 Berlin, Germany",
  PLATFORM_TAX_ID: "DE123456789",
};

/** Collects a binary response body (supertest parses only text and JSON by default). */
function binary(res: Response, done: (err: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on("data", (chunk: Buffer) => chunks.push(chunk));
  res.on("end", () => done(null, Buffer.concat(chunks)));
}

describe("receipts: a captured card order's receipt as a PDF", function () {
  let stack: TestStack;
  let stripe: FakeStripe;
  let buyer: JsonRpcSigner;
  let stranger: JsonRpcSigner;
  let offerId: string;
  let order: { orderId: string; orderSecret: string };
  let paymentIntent: string;

  async function checkout(): Promise<{ orderId: string; orderSecret: string }> {
    const res = await request(stack.app).post("/v1/checkout").send({ offerId, wallet: buyer.address });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body;
  }

  const receipt = (orderId: string) =>
    request(stack.app).get(`/v1/orders/${orderId}/receipt.pdf`).buffer(true).parse(binary);

  before(async () => {
    stripe = await startFakeStripe();
    stack = await startTestStack("receipts", { env: { ...stripe.env, ...PLATFORM } });
    const creator = await stack.signer(5);
    buyer = await stack.signer(7);
    stranger = await stack.signer(8);
    const workId = await registerWork(stack, creator);
    offerId = await publishOffer(stack, creator, workId, offerTerms(await soleSplit(stack, creator)));
    order = await checkout();
    paymentIntent = await payOrder(stack.app, stripe, order.orderId);
    await stack.waitFor(async () => {
      await stack.provider.send("evm_mine", []);
      const { rows } = await stack.db.pool.query(`SELECT payment_status FROM orders WHERE id = $1`, [
        order.orderId,
      ]);
      return rows[0].payment_status === "captured";
    }, 60_000);
  });
  after(async () => {
    await stack.stop();
    await stripe.close();
  });

  it("answers 404 to anyone without the order secret or the buyer's session", async () => {
    const token = await signIn(stack, stranger);
    for (const res of [
      await receipt(order.orderId),
      await receipt(order.orderId).query({ secret: "A".repeat(43) }),
      await receipt(order.orderId).set("Authorization", `Bearer ${token}`),
      await receipt("00000000-0000-4000-8000-000000000000").query({ secret: order.orderSecret }),
    ]) {
      expect(res.status).to.equal(404);
      expect(JSON.parse(res.body.toString()).error.code).to.equal("NOT_FOUND");
    }
  });

  it("answers 409 RECEIPT_NOT_READY while the order's payment is not captured", async () => {
    const unpaid = await checkout();
    const res = await receipt(unpaid.orderId).query({ secret: unpaid.orderSecret });
    expect(res.status).to.equal(409);
    expect(JSON.parse(res.body.toString()).error.code).to.equal("RECEIPT_NOT_READY");
  });

  it("gives the buyer a PDF naming the platform, the order, the amounts and the payment's references", async () => {
    const res = await receipt(order.orderId).query({ secret: order.orderSecret });
    expect(res.status).to.equal(200);
    expect(res.headers["content-type"]).to.equal("application/pdf");
    expect(res.headers["content-disposition"]).to.equal(
      `attachment; filename="receipt-${order.orderId}.pdf"`,
    );
    const pdf = await readPdf(res.body as Buffer);
    expect(pdf.pages).to.have.length(1);
    expect(pdf.title).to.equal(`Receipt ${order.orderId}`);
    const text = squeeze(pdf.pages[0]!);
    const { rows } = await stack.db.pool.query(
      `SELECT payment_ref, amount, currency FROM orders WHERE id = $1`,
      [order.orderId],
    );
    for (const expected of [
      PLATFORM.PLATFORM_NAME,
      PLATFORM.PLATFORM_ADDRESS,
      PLATFORM.PLATFORM_TAX_ID,
      order.orderId,
      `offer#${offerId}`,
      paymentIntent,
      rows[0].payment_ref,
      "Amountpaid",
      rows[0].currency.toUpperCase(),
    ]) {
      expect(text, expected).to.include(squeeze(expected));
    }
  });

  it("gives the buyer's wallet session the same file, byte for byte", async () => {
    const withSecret = await receipt(order.orderId).set("X-Order-Secret", order.orderSecret).expect(200);
    const token = await signIn(stack, buyer);
    const withSession = await receipt(order.orderId).set("Authorization", `Bearer ${token}`).expect(200);
    expect(Buffer.compare(withSecret.body as Buffer, withSession.body as Buffer)).to.equal(0);
  });
});
