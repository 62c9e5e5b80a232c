import { once } from "node:events";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import { Wallet, type JsonRpcSigner } from "ethers";
import request from "supertest";
import { LicenseToken__factory } from "../../types/typechain/index.ts";
import { mine, soleCreatorOffer } from "../helpers/commerce.ts";
import {
  payOrder,
  postStripeEvent,
  signedEvent,
  startFakeStripe,
  type FakeStripe,
} from "../helpers/fake-stripe.ts";
import { SessionTokens } from "../../server/auth/session.ts";
import { startMailCatcher, type MailCatcher } from "../../scripts/stack/mail-catcher.ts";
import {
  sessionToken,
  startTestStack,
  TEST_SESSION_SECRET,
  UNLIMITED_RATES,
  type TestStack,
} from "../helpers/stack.ts";

interface Sale {
  orderId: string;
  secret: string;
  wallet: string;
  paymentIntent: string;
}

interface RefundBody {
  requestId: string;
  status: string;
  reason: string;
  decision: { approved: boolean; reason: string; by: string } | null;
}

const REPLAYS = 10;

describe("refund requests: the buyer asks, the creator decides, the provider refunds once", function () {
  let stack: TestStack;
  let stripe: FakeStripe;
  let catcher: MailCatcher;
  let creator: JsonRpcSigner;
  let rival: JsonRpcSigner;
  let admin: JsonRpcSigner;
  let offerId: string;
  let rivalOfferId: string;
  let ips = 0;

  const bearer = async (signer: { address: string }) => `Bearer ${await sessionToken(signer.address)}`;

  /** A card sale of `offer` by a fresh wallet: paid, minted, captured and booked. */
  async function sale(offer = offerId): Promise<Sale> {
    const wallet = Wallet.createRandom().address;
    const res = await request(stack.app)
      .post("/v1/checkout")
      .set("X-Forwarded-For", `10.7.${Math.floor(++ips / 250)}.${ips % 250}`)
      .send({ offerId: offer, wallet });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    const orderId = res.body.orderId as string;
    const paymentIntent = await payOrder(stack.app, stripe, orderId);
    await stack.waitFor(async () => {
      await mine(stack);
      const { rows } = await stack.db.pool.query(
        `SELECT 1 FROM orders o JOIN ledger_transactions l ON l.order_id = o.id AND l.kind = 'sale'
          WHERE o.id = $1 AND o.status = 'fulfilled' AND o.payment_status = 'captured'`,
        [orderId],
      );
      return rows.length > 0;
    }, 60_000);
    return { orderId, secret: res.body.orderSecret as string, wallet, paymentIntent };
  }

  const ask = (s: Sale, body: unknown = { reason: "The file is not the one described." }) =>
    request(stack.app)
      .post(`/v1/orders/${s.orderId}/refund`)
      .set("X-Order-Secret", s.secret)
      .send(body as object);

  async function decide(requestId: string, decision: "approve" | "decline", as: JsonRpcSigner = creator) {
    return request(stack.app)
      .post(`/v1/refund-requests/${requestId}/decision`)
      .set("Authorization", await bearer(as))
      .send({ decision, reason: decision === "approve" ? "Fair enough, refunded." : "The file matches." });
  }

  async function requested(s: Sale): Promise<RefundBody> {
    const res = await ask(s);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body as RefundBody;
  }

  /** Waits until the request's refund job ran to its end. */
  async function refundJobDone(requestId: string): Promise<void> {
    await stack.waitFor(async () => {
      const job = await stack.queues.refundPayment.getJob(`refund-payment-${requestId}`);
      return job ? (await job.getState()) === "completed" : false;
    });
  }

  const refunded = (s: Sale) =>
    signedEvent(stripe.webhookSecret, "charge.refunded", {
      id: `ch_${s.paymentIntent}`,
      object: "charge",
      amount: 1200,
      amount_refunded: 1200,
      currency: "usd",
      payment_intent: s.paymentIntent,
      refunded: true,
    });

  before(async () => {
    stripe = await startFakeStripe();
    catcher = await startMailCatcher();
    stack = await startTestStack("refunds", {
      env: {
        ...stripe.env,
        ...UNLIMITED_RATES,
        TRUST_PROXY: "1",
        CHECKOUT_HOLDS_PER_WALLET: "1000",
        SMTP_URL: catcher.url,
        MAIL_FROM: "refunds@rights-ledger.test",
      },
    });
    admin = await stack.signer(0);
    creator = await stack.signer(5);
    rival = await stack.signer(6);
    offerId = await soleCreatorOffer(stack, creator);
    rivalOfferId = await soleCreatorOffer(stack, rival);
  });
  after(async () => {
    await stack.stop();
    await stripe.close();
    await catcher.stop();
  });

  it("refuses malformed requests, decisions and windows with 400", async () => {
    const s = await sale();
    for (const body of [
      {},
      { reason: "" },
      { reason: "  " },
      { reason: "x".repeat(1001) },
      { reason: "bad\u0000reason" },
      { reason: "hidden \u202e text" },
      { reason: 42 },
      { reason: "fine reason", email: "not an address" },
      { reason: "fine reason", email: "a@example.com, b@example.com" },
      { reason: "fine reason", email: "a@example.com\r\nBcc: b@example.com" },
    ]) {
      const res = await ask(s, body);
      expect(res.status, JSON.stringify(body)).to.equal(400);
      expect(res.body.error.code).to.equal("VALIDATION_FAILED");
    }
    expect(
      (await request(stack.app).post("/v1/orders/not-a-uuid/refund").send({ reason: "why not" })).status,
    ).to.equal(400);
    const { requestId } = await requested(s);
    for (const body of [
      {},
      { decision: "maybe", reason: "hmm hmm" },
      { decision: "approve" },
      { decision: "decline", reason: "" },
    ]) {
      const res = await request(stack.app)
        .post(`/v1/refund-requests/${requestId}/decision`)
        .set("Authorization", await bearer(creator))
        .send(body);
      expect(res.status, JSON.stringify(body)).to.equal(400);
    }
    for (const seconds of [-1, 1.5, "3600", 400 * 86_400]) {
      const res = await request(stack.app)
        .put(`/v1/offers/${offerId}/refund-window`)
        .set("Authorization", await bearer(creator))
        .send({ seconds });
      expect(res.status, String(seconds)).to.equal(400);
    }
    const tooLong = await request(stack.app)
      .put(`/v1/offers/${offerId}/refund-window`)
      .set("Authorization", await bearer(creator))
      .send({ seconds: stack.config.payouts.refundWindowSeconds + 1 });
    expect(tooLong.status).to.equal(400);
    expect(tooLong.body.error.code).to.equal("REFUND_WINDOW_TOO_LONG");
  });

  it("answers 404 for another buyer's order, and lets its buyer in by secret or wallet session", async () => {
    const s = await sale();
    const path = `/v1/orders/${s.orderId}/refund`;
    const stranger = Wallet.createRandom();
    for (const res of [
      await request(stack.app).post(path).send({ reason: "I want my money" }),
      await request(stack.app)
        .post(path)
        .set("X-Order-Secret", "A".repeat(43))
        .send({ reason: "I want my money" }),
      await request(stack.app)
        .post(path)
        .set("Authorization", await bearer(stranger))
        .send({ reason: "I want my money" }),
      await request(stack.app)
        .get(path)
        .set("Authorization", await bearer(stranger)),
      await request(stack.app)
        .post(`/v1/orders/${crypto.randomUUID()}/refund`)
        .send({ reason: "I want my money" }),
    ]) {
      expect(res.status, JSON.stringify(res.body)).to.equal(404);
      expect(res.body.error.code).to.equal("NOT_FOUND");
    }
    const own = await request(stack.app)
      .get(path)
      .set("Authorization", await bearer({ address: s.wallet }));
    expect(own.status, JSON.stringify(own.body)).to.equal(200);
    expect(own.body.refundable).to.equal(true);
    expect(own.body.window.seconds).to.equal(stack.config.payouts.refundWindowSeconds);
    expect(own.body.request).to.equal(null);
  });

  it("refunds a license held for an email address: anonymous callers get 404, the decision goes to the order's email", async () => {
    const email = `held-${Date.now()}@example.com`;
    const res = await request(stack.app)
      .post("/v1/checkout")
      .set("X-Forwarded-For", `10.6.0.${++ips % 250}`)
      .send({ offerId, email });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    const orderId = res.body.orderId as string;
    const paymentIntent = await payOrder(stack.app, stripe, orderId);
    await stack.waitFor(async () => {
      await mine(stack);
      const { rows } = await stack.db.pool.query(
        `SELECT 1 FROM orders WHERE id = $1 AND status = 'held' AND payment_status = 'captured'`,
        [orderId],
      );
      return rows.length > 0;
    }, 60_000);
    const held: Sale = { orderId, secret: res.body.orderSecret as string, wallet: "", paymentIntent };
    // No wallet on the order must not make every caller without a session its buyer.
    const path = `/v1/orders/${orderId}/refund`;
    expect((await request(stack.app).post(path).send({ reason: "Not what I wanted." })).status).to.equal(404);
    expect((await request(stack.app).get(path)).status).to.equal(404);

    const { requestId } = await requested(held);
    expect((await decide(requestId, "approve")).status).to.equal(200);
    await refundJobDone(requestId);
    expect(stripe.count("refund", paymentIntent)).to.equal(1);
    await postStripeEvent(stack.app, refunded(held)).expect(200);
    const standing = await stack.waitFor(async () => {
      const r = await request(stack.app).get(path).set("X-Order-Secret", held.secret);
      return r.body.request?.status === "refunded" ? r.body : null;
    });
    expect(standing.refundable).to.equal(false);
    const mail = await stack.waitFor(async () =>
      catcher.all().find((m) => m.to.includes(email) && /refund/i.test(m.subject)),
    );
    expect(mail.subject).to.match(/Your refund is approved/);
  });

  it("takes one open request per order, even when asked for at once", async () => {
    const s = await sale();
    const answers = await Promise.all(Array.from({ length: 6 }, () => ask(s)));
    expect(answers.map((r) => r.status).sort()).to.deep.equal([201, 409, 409, 409, 409, 409]);
    expect(answers.find((r) => r.status === 409)!.body.error.code).to.equal("REFUND_ALREADY_REQUESTED");
    const { rows } = await stack.db.pool.query(`SELECT status FROM refund_requests WHERE order_id = $1`, [
      s.orderId,
    ]);
    expect(rows).to.deep.equal([{ status: "requested" }]);
  });

  it("lets only the offer's creator or an admin decide: another creator gets 403, an unknown request 404", async () => {
    const s = await sale();
    const { requestId } = await requested(s);
    const other = await decide(requestId, "approve", rival);
    expect(other.status).to.equal(403);
    expect(other.body.error.code).to.equal("NOT_OFFER_CREATOR");
    expect((await decide(crypto.randomUUID(), "approve")).status).to.equal(404);
    const listed = await request(stack.app)
      .get(`/v1/refund-requests`)
      .set("Authorization", await bearer(rival));
    expect(listed.body.requests.map((r: RefundBody) => r.requestId)).to.not.include(requestId);
    const foreign = await request(stack.app)
      .get(`/v1/refund-requests?offerId=${offerId}`)
      .set("Authorization", await bearer(rival));
    expect(foreign.status).to.equal(403);
    const adminToken = (await new SessionTokens(TEST_SESSION_SECRET, 3600).issue(admin.address, true)).token;
    const byAdmin = await request(stack.app)
      .post(`/v1/refund-requests/${requestId}/decision`)
      .set("Authorization", `Bearer ${adminToken}`)
      .send({ decision: "decline", reason: "Declined by the platform." });
    expect(byAdmin.status, JSON.stringify(byAdmin.body)).to.equal(200);
    expect(byAdmin.body.status).to.equal("declined");
  });

  it("refuses to approve a declined request (409) and a second request of its order; the decision is mailed once", async () => {
    const s = await sale();
    const email = `buyer-${s.orderId.slice(0, 8)}@example.com`;
    const asked = await ask(s, { reason: "Not <b>what</b> I expected.", email });
    expect(asked.status, JSON.stringify(asked.body)).to.equal(201);
    const { requestId } = asked.body as RefundBody;
    const declined = await decide(requestId, "decline");
    expect(declined.status).to.equal(200);
    expect(declined.body.decision).to.include({ approved: false, reason: "The file matches." });
    const approve = await decide(requestId, "approve");
    expect(approve.status).to.equal(409);
    expect(approve.body.error.code).to.equal("REFUND_ALREADY_DECIDED");
    expect((await ask(s)).status).to.equal(409);
    expect(stripe.count("refund", s.paymentIntent)).to.equal(0);
    const mails = await stack.waitFor(async () => {
      const caught = catcher.all().filter((m) => m.to.includes(email));
      return caught.length > 0 ? caught : null;
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(catcher.all().filter((m) => m.to.includes(email))).to.have.length(1);
    expect(mails[0]!.subject).to.match(/declined/);
    expect(mails[0]!.text).to.include("The file matches.").and.include("Not <b>what</b> I expected.");
    expect(mails[0]!.html).to.include("Not &#60;b&#62;what&#60;/b&#62; I expected.");
  });

  it("refunds once through the provider and mails the approval once however often and however concurrently it is approved", async () => {
    const s = await sale();
    const email = `buyer-${s.orderId.slice(0, 8)}@example.com`;
    const { requestId } = (await ask(s, { reason: "Changed my mind.", email }).expect(201))
      .body as RefundBody;
    const answers = await Promise.all(Array.from({ length: 5 }, () => decide(requestId, "approve")));
    expect(answers.map((r) => r.status).sort()).to.deep.equal([200, 409, 409, 409, 409]);
    expect((await decide(requestId, "approve")).status).to.equal(409);
    await refundJobDone(requestId);
    // The job again, as a retry after a lost answer would run it: the idempotency key keeps it one refund.
    const job = await stack.queues.refundPayment.getJob(`refund-payment-${requestId}`);
    await job!.remove();
    await stack.queues.refundPayment.add("again", { requestId }, { jobId: `refund-payment-${requestId}` });
    await refundJobDone(requestId);
    expect(stripe.count("refund", s.paymentIntent)).to.equal(1);
    await stack.waitFor(async () => catcher.all().some((m) => m.to.includes(email)));
    await new Promise((r) => setTimeout(r, 500));
    const mails = catcher.all().filter((m) => m.to.includes(email));
    expect(mails).to.have.length(1);
    expect(mails[0]!.subject).to.match(/approved/);
    expect(mails[0]!.text).to.include("$12.00 goes back to your card");
  });

  it("revokes the license, debits the ledger and closes the request once however often the refund webhook arrives", async () => {
    const s = await sale();
    const { requestId } = await requested(s);
    expect((await decide(requestId, "approve")).status).to.equal(200);
    await refundJobDone(requestId);
    const event = refunded(s);
    await Promise.all(
      Array.from({ length: REPLAYS / 2 }, () => postStripeEvent(stack.app, event).expect(200)),
    );
    for (let i = 0; i < REPLAYS / 2; i++) await postStripeEvent(stack.app, refunded(s)).expect(200);

    const licenses = LicenseToken__factory.connect(
      stack.deployment.contracts.LicenseToken.address,
      stack.provider,
    );
    const order = await stack.waitFor(async () => {
      const res = await request(stack.app).get(`/v1/orders/${s.orderId}`).set("X-Order-Secret", s.secret);
      return res.body.revocation?.revokedAt ? res.body : null;
    }, 30_000);
    expect(order.status).to.equal("refunded");
    expect((await licenses.getLicense(order.tokenId)).revoked).to.equal(true);
    await stack.waitFor(async () => {
      const { rows } = await stack.db.pool.query(
        `SELECT 1 FROM ledger_transactions WHERE order_id = $1 AND kind = 'refund'`,
        [s.orderId],
      );
      return rows.length > 0;
    });
    const counts = await stack.db.pool.query<{ refunds: number; revokes: number; revocations: number }>(
      `SELECT (SELECT count(*)::int FROM ledger_transactions WHERE order_id = $1 AND kind = 'refund') AS refunds,
              (SELECT count(*)::int FROM relayer_transactions WHERE purpose = 'revoke' AND ref = $1::text) AS revokes,
              (SELECT count(*)::int FROM order_events WHERE order_id = $1 AND detail ? 'revoked') AS revocations`,
      [s.orderId],
    );
    expect(counts.rows[0]).to.deep.equal({ refunds: 1, revokes: 1, revocations: 1 });

    const mine = await request(stack.app)
      .get(`/v1/orders/${s.orderId}/refund`)
      .set("X-Order-Secret", s.secret);
    expect(mine.body.request.status).to.equal("refunded");
    expect(mine.body.request.refundedAt).to.be.a("string");
    expect(mine.body.refundable).to.equal(false);
    // The buyer followed each step in the order's history.
    const steps = order.history.flatMap((e: { detail: { refund?: { status: string } } }) =>
      e.detail.refund ? [e.detail.refund.status] : [],
    );
    expect(steps).to.deep.equal(["requested", "approved", "refunded"]);
    expect(stripe.count("refund", s.paymentIntent)).to.equal(1);
  });

  it("streams each step of the request to the buyer live", async () => {
    const s = await sale();
    const server: Server = stack.app.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    const controller = new AbortController();
    try {
      const res = await fetch(`http://127.0.0.1:${port}/v1/orders/${s.orderId}/events?secret=${s.secret}`, {
        signal: controller.signal,
      });
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      const seen: string[] = [];
      let buffer = "";
      const until = async (status: string) => {
        while (!seen.includes(status)) {
          const { value, done } = await reader.read();
          if (done) throw new Error("stream ended");
          buffer += decoder.decode(value, { stream: true });
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const message = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            if (!message.includes("event: status")) continue;
            const data = JSON.parse(/data: (.*)/.exec(message)![1]!) as {
              detail: { refund?: { status: string } };
            };
            const step = data.detail.refund?.status;
            if (step && !seen.includes(step)) seen.push(step);
          }
        }
      };
      const { requestId } = await requested(s);
      await until("requested");
      await decide(requestId, "decline");
      await until("declined");
      expect(seen).to.deep.equal(["requested", "declined"]);
    } finally {
      controller.abort();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("refuses a request after the offer's refund window with 403, and lets the creator set the window", async () => {
    const unrefundable = await request(stack.app)
      .put(`/v1/offers/${rivalOfferId}/refund-window`)
      .set("Authorization", await bearer(creator))
      .send({ seconds: 60 });
    expect(unrefundable.status).to.equal(403);
    const set = await request(stack.app)
      .put(`/v1/offers/${offerId}/refund-window`)
      .set("Authorization", await bearer(creator))
      .send({ seconds: 3600 });
    expect(set.status, JSON.stringify(set.body)).to.equal(200);
    expect(set.body).to.include({ seconds: 3600, platformDefault: false });
    expect((await request(stack.app).get(`/v1/offers/${offerId}/refund-window`)).body.seconds).to.equal(3600);

    const s = await sale();
    const { rows } = await stack.db.pool.query<{ at: string }>(
      `SELECT extract(epoch FROM booked_at)::bigint::text AS at FROM ledger_transactions WHERE order_id = $1 AND kind = 'sale'`,
      [s.orderId],
    );
    const latest = (await stack.provider.getBlock("latest"))!.timestamp;
    await stack.provider.send("evm_setNextBlockTimestamp", [Math.max(latest, Number(rows[0]!.at)) + 3601]);
    await stack.provider.send("evm_mine", []);
    const late = await stack.waitFor(async () => {
      const res = await ask(s);
      return res.status === 403 ? res : null;
    });
    expect(late.body.error.code).to.equal("REFUND_WINDOW_CLOSED");
    expect(late.body.error.details.windowSeconds).to.equal(3600);
    const standing = await request(stack.app)
      .get(`/v1/orders/${s.orderId}/refund`)
      .set("X-Order-Secret", s.secret);
    expect(standing.body.window.open).to.equal(false);
    expect(standing.body.refundable).to.equal(false);

    await request(stack.app)
      .put(`/v1/offers/${offerId}/refund-window`)
      .set("Authorization", await bearer(creator))
      .send({ seconds: 0 })
      .expect(200);
    const none = await ask(await sale());
    expect(none.status).to.equal(403);
    expect(none.body.error.code).to.equal("REFUND_WINDOW_CLOSED");
  });
});
