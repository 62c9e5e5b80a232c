import { expect } from "chai";
import type { JsonRpcSigner } from "ethers";
import request, { type Response } from "supertest";
import { soleCreatorOffer } from "../helpers/commerce.ts";
import { type FakeStripe, payOrder, startFakeStripe } from "../helpers/fake-stripe.ts";
import { readPdf, squeeze } from "../helpers/pdf.ts";
import { signIn } from "../helpers/sign-in.ts";
import { startTestStack, type TestStack } from "../helpers/stack.ts";
import { startMailCatcher, type MailCatcher } from "../../scripts/stack/mail-catcher.ts";

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
  let catcher: MailCatcher;

  async function checkout(): Promise<{ orderId: string; orderSecret: string }> {
    const res = await request(stack.app).post("/v1/checkout").send({ offerId, wallet: buyer.address });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body;
  }

  const receipt = (orderId: string) =>
    request(stack.app).get(`/v1/orders/${orderId}/receipt.pdf`).buffer(true).parse(binary);

  before(async () => {
    stripe = await startFakeStripe();
    catcher = await startMailCatcher();
    stack = await startTestStack("receipts", {
      env: {
        ...stripe.env,
        ...PLATFORM,
        SMTP_URL: catcher.url,
        MAIL_FROM: "receipts@rights-ledger.test",
        // The offer's licenses run 30 days: every term is within the reminder's reach at once.
        EXPIRY_REMINDER_DAYS: "31",
        EXPIRY_REMINDER_EVERY_SECONDS: "1",
      },
    });
    const creator = await stack.signer(5);
    buyer = await stack.signer(7);
    stranger = await stack.signer(8);
    offerId = await soleCreatorOffer(stack, creator);
    order = await checkout();
    // The address a buyer gives at checkout.
    await stack.db.pool.query(`UPDATE orders SET email = 'buyer@example.com' WHERE id = $1`, [order.orderId]);
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
    await catcher.stop();
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

  it("mails the receipt once to the buyer's address, with the same PDF the buyer downloads", async () => {
    const [mail] = await catcher
      .waitFor(1, 30_000)
      .then((all) => all.filter((m) => m.subject.startsWith("Your receipt")));
    expect(mail!.to).to.deep.equal(["buyer@example.com"]);
    const download = await receipt(order.orderId).query({ secret: order.orderSecret }).expect(200);
    const { simpleParser } = await import("mailparser");
    const parsed = await simpleParser(mail!.raw);
    expect(parsed.attachments.map((a) => a.filename)).to.deep.equal([`receipt-${order.orderId}.pdf`]);
    expect(Buffer.compare(parsed.attachments[0]!.content, download.body as Buffer)).to.equal(0);
    // The capture's job runs again (a replayed queue): still one mail.
    await stack.queues.orderReceipt.add(
      "again",
      { orderId: order.orderId },
      { jobId: `again-${order.orderId}` },
    );
    await new Promise((r) => setTimeout(r, 2_000));
    expect(catcher.all().filter((m) => m.subject.startsWith("Your receipt"))).to.have.length(1);
  });

  it("queues no receipt job for an order whose buyer gave no email address, and one for an order with one", async () => {
    const quiet = await checkout();
    await payOrder(stack.app, stripe, quiet.orderId);
    await stack.waitFor(async () => {
      await stack.provider.send("evm_mine", []);
      const { rows } = await stack.db.pool.query(`SELECT status FROM orders WHERE id = $1`, [quiet.orderId]);
      return rows[0].status === "fulfilled";
    }, 60_000);
    expect(await stack.queues.orderReceipt.getJob(`receipt-${quiet.orderId}`)).to.equal(undefined);
    expect(await stack.queues.orderReceipt.getJob(`receipt-${order.orderId}`)).to.not.equal(undefined);
    const { rows } = await stack.db.pool.query(`SELECT 1 FROM outbox WHERE job_id = $1`, [
      `receipt-${quiet.orderId}`,
    ]);
    expect(rows).to.deep.equal([]);
  });

  it("reminds the buyer once per license term that it expires within EXPIRY_REMINDER_DAYS", async () => {
    const { rows } = await stack.db.pool.query<{ token_id: string; expires_at: string }>(
      `SELECT token_id::text, expires_at::text FROM licenses WHERE token_id = (SELECT token_id FROM orders WHERE id = $1)`,
      [order.orderId],
    );
    const key = `expiry:${rows[0]!.token_id}:${rows[0]!.expires_at}`;
    await stack.waitFor(async () => {
      const sent = await stack.db.pool.query(`SELECT 1 FROM mails WHERE key = $1 AND state = 'sent'`, [key]);
      return sent.rows.length > 0;
    }, 30_000);
    // Passes every second go on: the term is reminded of once.
    await new Promise((r) => setTimeout(r, 3_000));
    const reminders = catcher.all().filter((m) => m.subject.startsWith("Your license for"));
    expect(reminders).to.have.length(1);
    expect(reminders[0]!.to).to.deep.equal(["buyer@example.com"]);
    expect(reminders[0]!.text).to.include(`license #${rows[0]!.token_id}`);
    // An order without an email address gets neither.
    const { rows: quiet } = await stack.db.pool.query(
      `SELECT count(*)::int AS n FROM mails WHERE key LIKE 'receipt:%'`,
    );
    expect(quiet[0].n).to.equal(1);
  });
});
