import { expect } from "chai";
import { createHash, randomBytes } from "node:crypto";
import { Wallet, type JsonRpcSigner } from "ethers";
import request from "supertest";
import { OrderSecrets } from "../../server/auth/order-secrets.ts";
import { CodeCommitments__factory } from "../../types/typechain/index.ts";
import { codeHashOf } from "../../lib/code-commitments.ts";
import { type CardShop, mine, openCardShop } from "../helpers/commerce.ts";
import { type FakeStripe, postStripeEvent, sessionCompleted, signedEvent } from "../helpers/fake-stripe.ts";
import { appDyingAt, sessionToken, type TestStack } from "../helpers/stack.ts";

interface OrderCodeBody {
  status: "pending" | "delivered" | "void";
  code: string | null;
  deliveredAt: string | null;
}

describe("redemption codes: each code to one paid order, once; sealed at rest; void after a refund", function () {
  let stack: TestStack;
  let stripe: FakeStripe;
  let creator: JsonRpcSigner;
  let rival: JsonRpcSigner;
  let shop: CardShop;

  const buyer = () => Wallet.createRandom().address;
  const secretOf = (orderId: string) => new OrderSecrets(stack.config.auth.sessionSecret).of(orderId);
  const codesOf = (n: number, tag = randomBytes(4).toString("hex")) =>
    Array.from(
      { length: n },
      (_, i) => `KEY-${tag}-${String(i).padStart(4, "0")}-${randomBytes(6).toString("hex")}`,
    );

  const newOffer = () => shop.newOffer();

  async function upload(offerId: string, body: unknown, as: JsonRpcSigner | null = creator) {
    const req = request(stack.app).post(`/v1/offers/${offerId}/codes`);
    if (as) req.set("Authorization", `Bearer ${await sessionToken(as.address)}`);
    return req.send(body as object);
  }

  async function stock(offerId: string) {
    const res = await request(stack.app)
      .get(`/v1/offers/${offerId}/codes`)
      .set("Authorization", `Bearer ${await sessionToken(creator.address)}`);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body as { total: number; sold: number; held: number; available: number; void: number };
  }

  const checkout = (offerId: string, wallet = buyer()) => shop.checkout({ offerId, wallet });

  async function orderCode(orderId: string): Promise<OrderCodeBody> {
    const res = await request(stack.app)
      .get(`/v1/orders/${orderId}/code`)
      .set("X-Order-Secret", secretOf(orderId));
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body as OrderCodeBody;
  }

  async function order(orderId: string) {
    const res = await request(stack.app)
      .get(`/v1/orders/${orderId}`)
      .set("X-Order-Secret", secretOf(orderId));
    return res.body as { status: string; failureReason: string | null; license: unknown };
  }

  /** The card is authorized; the completed session's webhook is delivered `times` times. */
  function paymentOf(orderId: string) {
    const session = [...stripe.sessions.values()].find((s) => s.params["metadata[orderId]"] === orderId)!;
    const paymentIntent = stripe.authorize(session.id);
    return {
      paymentIntent,
      event: sessionCompleted(stripe.webhookSecret, session.id, paymentIntent, orderId),
    };
  }

  /** Time passes for an order: its hold lapses (its payment session stays open). */
  const lapse = (orderId: string) =>
    stack.db.pool.query(`UPDATE orders SET reserved_until = now() - interval '1 second' WHERE id = $1`, [
      orderId,
    ]);

  before(async () => {
    shop = await openCardShop("codes");
    ({ stack, stripe, creator, rival } = shop);
  });
  after(async () => shop.stop());

  it("refuses code uploads by anyone but the offer's creator, and malformed, repeated or guessable codes", async () => {
    const offerId = await newOffer();
    expect((await upload(offerId, { codes: codesOf(2) }, null)).status).to.equal(401);
    const other = await upload(offerId, { codes: codesOf(2) }, rival);
    expect(other.status).to.equal(403);
    expect(other.body.error.code).to.equal("NOT_OFFER_CREATOR");
    expect((await upload("987654321", { codes: codesOf(2) })).status).to.equal(404);

    for (const body of [
      {},
      { codes: [] },
      { codes: ["ok-code-1"], generate: { count: 1, length: 12 } },
      { codes: ["bad\u0000code"] },
      { codes: [" padded-code "] },
      { codes: ["x".repeat(129)] },
      { generate: { count: 1 } },
      { generate: { count: 1, length: 12, format: "####-####" } },
      { generate: { count: 1, length: 12, alphabet: "AAB" } },
      { generate: { count: 10_001, length: 12 } },
    ]) {
      const res = await upload(offerId, body);
      expect(res.status, JSON.stringify(body)).to.equal(400);
      expect(res.body.error).to.have.keys("code", "message", "details");
    }
    const weak = await upload(offerId, { generate: { count: 5, length: 6, alphabet: "0123456789" } });
    expect(weak.status).to.equal(400);
    expect(weak.body.error.code).to.equal("WEAK_CODE_FORMAT");

    const codes = codesOf(3);
    const repeated = await upload(offerId, { codes: [...codes, codes[1]] });
    expect(repeated.status).to.equal(409);
    expect(repeated.body.error.details.positions).to.deep.equal([3]);
    expect((await upload(offerId, { codes })).status).to.equal(201);
    const again = await upload(offerId, { codes: [codesOf(1)[0], codes[2]] });
    expect(again.status).to.equal(409);
    expect(again.body.error.details.positions).to.deep.equal([1]);
    expect(await stock(offerId)).to.include({ total: 3, available: 3 });
  });

  it("generates codes in the creator's format, stored sealed: no stored byte holds a code or its plain hash", async () => {
    const offerId = await newOffer();
    const res = await upload(offerId, { generate: { count: 20, format: "GAME-#####-#####" }, lowStockAt: 2 });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body.batch).to.include({ count: 20, source: "generated" });
    const { orderId } = (await checkout(offerId)).body as { orderId: string };
    await postStripeEvent(stack.app, paymentOf(orderId).event).expect(200);
    const delivered = await stack.waitFor(async () => {
      const c = await orderCode(orderId);
      return c.status === "delivered" ? c : null;
    }, 30_000);
    expect(delivered.code).to.match(/^GAME-[A-HJ-NP-Z2-9]{5}-[A-HJ-NP-Z2-9]{5}$/);
    const { rows } = await stack.db.pool.query<{ digest: Buffer; salt: Buffer; sealed: Buffer }>(
      `SELECT digest, salt, sealed FROM redemption_codes WHERE offer_id = $1`,
      [offerId],
    );
    expect(rows).to.have.length(20);
    const plain = Buffer.from(delivered.code!);
    const hashed = createHash("sha256").update(delivered.code!).digest();
    for (const row of rows) {
      for (const bytes of [row.digest, row.salt, row.sealed]) {
        expect(bytes.includes(plain)).to.equal(false);
        expect(bytes.includes(hashed)).to.equal(false);
      }
    }
  });

  it("200 concurrent checkouts of an offer with 50 codes: 50 delivered once each, 150 refused sold out; every webhook sent 10 times", async function () {
    this.timeout(180_000);
    const offerId = await newOffer();
    const codes = codesOf(50);
    expect((await upload(offerId, { codes, lowStockAt: 5 })).status).to.equal(201);

    const answers = await Promise.all(Array.from({ length: 200 }, () => checkout(offerId)));
    const created = answers.filter((a) => a.status === 201).map((a) => a.body.orderId as string);
    const refused = answers.filter((a) => a.status !== 201);
    expect(created).to.have.length(50);
    expect(refused).to.have.length(150);
    for (const r of refused) expect(r.body.error.code, JSON.stringify(r.body)).to.equal("SOLD_OUT");
    expect(await stock(offerId)).to.include({ total: 50, held: 50, available: 0, sold: 0 });

    // Every payment's webhook ten times: five at once, then five one after another.
    await Promise.all(
      created.map(async (orderId) => {
        const { event } = paymentOf(orderId);
        await Promise.all(Array.from({ length: 5 }, () => postStripeEvent(stack.app, event).expect(200)));
        for (let i = 0; i < 5; i++) await postStripeEvent(stack.app, event).expect(200);
      }),
    );
    const delivered = await stack.waitFor(async () => {
      const all = await Promise.all(created.map(orderCode));
      return all.every((c) => c.status === "delivered") ? all : null;
    }, 120_000);
    const got = delivered.map((c) => c.code!);
    expect(new Set(got).size).to.equal(50);
    expect([...got].sort()).to.deep.equal([...codes].sort());

    const { rows } = await stack.db.pool.query<{ sold: number; orders: number }>(
      `SELECT count(*) FILTER (WHERE sold_at IS NOT NULL)::int AS sold, count(DISTINCT order_id)::int AS orders
         FROM redemption_codes WHERE offer_id = $1`,
      [offerId],
    );
    expect(rows[0]).to.deep.equal({ sold: 50, orders: 50 });
    expect(await stock(offerId)).to.include({ total: 50, sold: 50, held: 0, available: 0 });
    expect((await checkout(offerId)).status, "still sold out").to.equal(409);

    // The creator is warned once, when 5 codes or fewer were left (payments kept together count at once).
    const alerts = await request(stack.app)
      .get("/v1/codes/alerts")
      .set("Authorization", `Bearer ${await sessionToken(creator.address)}`);
    expect(alerts.body.alerts.filter((a: { offerId: string }) => a.offerId === offerId)).to.have.length(1);
    expect(alerts.body.alerts.find((a: { offerId: string }) => a.offerId === offerId).remaining).to.be.within(
      0,
      5,
    );
    const rivals = await request(stack.app)
      .get("/v1/codes/alerts")
      .set("Authorization", `Bearer ${await sessionToken(rival.address)}`);
    expect(rivals.body.alerts).to.deep.equal([]);

    // The licenses are minted and the cards captured as for any card order.
    await stack.waitFor(
      async () => (await Promise.all(created.map(order))).every((o) => o.license !== null),
      120_000,
    );
    await mine(stack);
    await stack.waitFor(
      async () => (await Promise.all(created.map(order))).every((o) => o.status === "fulfilled"),
      60_000,
    );
  });

  it("keeps a paid order's code in the payment's own commit: an API process that dies right after it leaves the code delivered", async () => {
    const offerId = await newOffer();
    expect((await upload(offerId, { codes: codesOf(3) })).status).to.equal(201);
    const res = await checkout(offerId);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    const orderId = res.body.orderId as string;
    const dying = appDyingAt(stack, "webhook:after-commit");
    expect((await postStripeEvent(dying, paymentOf(orderId).event)).status).to.equal(500);
    // Nothing ran after the commit (no job queued, no fulfilment yet), and the buyer reads their code.
    expect(await stack.queues.fulfillOrder.getJobState(`fulfill-${orderId}`)).to.equal("unknown");
    const code = await orderCode(orderId);
    expect(code.status).to.equal("delivered");
    expect(code.code).to.be.a("string");
    expect(await stock(offerId)).to.include({ total: 3, sold: 1, held: 0, available: 2 });
  });

  it("holds nothing forever: a lapsed checkout's code goes to the next buyer, and its late payment is refused, never given a code", async () => {
    const offerId = await newOffer();
    const codes = codesOf(2);
    expect((await upload(offerId, { codes })).status).to.equal(201);
    const first = (await checkout(offerId)).body.orderId as string;
    const second = (await checkout(offerId)).body.orderId as string;
    const full = await checkout(offerId);
    expect(full.status).to.equal(409);
    expect(full.body.error.code).to.equal("SOLD_OUT");

    await lapse(first);
    expect(await stock(offerId)).to.include({ held: 1, available: 1 });
    const third = await checkout(offerId);
    expect(third.status, JSON.stringify(third.body)).to.equal(201);

    await postStripeEvent(stack.app, paymentOf(first).event).expect(200);
    const late = await stack.waitFor(async () => {
      const o = await order(first);
      return o.status === "failed" ? o : null;
    });
    expect(late.failureReason).to.match(/sold out/);
    expect(await orderCode(first)).to.include({ status: "void", code: null });

    for (const orderId of [second, third.body.orderId as string]) {
      await postStripeEvent(stack.app, paymentOf(orderId).event).expect(200);
    }
    const both = await stack.waitFor(async () => {
      const all = await Promise.all([second, third.body.orderId as string].map(orderCode));
      return all.every((c) => c.status === "delivered") ? all : null;
    }, 30_000);
    expect(both.map((c) => c.code).sort()).to.deep.equal([...codes].sort());
  });

  it("voids a refunded order's code and never issues it again", async () => {
    const offerId = await newOffer();
    const codes = codesOf(2);
    expect((await upload(offerId, { codes })).status).to.equal(201);
    const first = (await checkout(offerId)).body.orderId as string;
    const payment = paymentOf(first);
    await postStripeEvent(stack.app, payment.event).expect(200);
    await stack.waitFor(async () => (await order(first)).license !== null, 30_000);
    const before = await orderCode(first);
    expect(before.status).to.equal("delivered");

    const refund = signedEvent(stripe.webhookSecret, "charge.refunded", {
      id: `ch_${randomBytes(6).toString("hex")}`,
      object: "charge",
      amount: 1200,
      amount_refunded: 1200,
      currency: "usd",
      payment_intent: payment.paymentIntent,
      refunded: true,
    });
    for (let i = 0; i < 3; i++) await postStripeEvent(stack.app, refund).expect(200);
    await stack.waitFor(async () => (await order(first)).status === "refunded", 30_000);
    expect(await orderCode(first)).to.deep.include({ status: "void", code: null, deliveredAt: null });
    expect(await stock(offerId)).to.include({ sold: 1, void: 1, available: 1 });

    const second = (await checkout(offerId)).body.orderId as string;
    await postStripeEvent(stack.app, paymentOf(second).event).expect(200);
    const next = await stack.waitFor(async () => {
      const c = await orderCode(second);
      return c.status === "delivered" ? c : null;
    }, 30_000);
    expect(next.code).to.not.equal(before.code);
    const sold = await checkout(offerId);
    expect(sold.status, "the void code is not sold again").to.equal(409);
  });

  it("commits each upload's Merkle root on chain once; a delivered code's proof verifies against it, a code outside the batch does not", async () => {
    const offerId = await newOffer();
    const first = await upload(offerId, { codes: codesOf(7) });
    const second = await upload(offerId, { generate: { count: 4, length: 12 } });
    const batchIds = [first.body.batch.batchId as string, second.body.batch.batchId as string];
    const orderId = (await checkout(offerId)).body.orderId as string;
    const early = await request(stack.app)
      .get(`/v1/orders/${orderId}/code/proof`)
      .set("X-Order-Secret", secretOf(orderId));
    expect(early.status).to.equal(409);
    expect(early.body.error.code).to.equal("CODE_NOT_DELIVERED");

    await postStripeEvent(stack.app, paymentOf(orderId).event).expect(200);
    const proof = await stack.waitFor(async () => {
      const res = await request(stack.app)
        .get(`/v1/orders/${orderId}/code/proof`)
        .set("X-Order-Secret", secretOf(orderId));
      return res.status === 200 ? res.body : null;
    }, 30_000);
    const { code } = await orderCode(orderId);
    expect(proof.code).to.equal(code);
    expect(proof.codeHash).to.equal(codeHashOf(code!));
    const commitments = CodeCommitments__factory.connect(proof.contract, stack.provider);
    expect(proof.contract).to.equal(stack.deployment.contracts.CodeCommitments.address);
    const [onChainOffer, onChainRoot] = await commitments.getCodeBatch(proof.batchId);
    expect([onChainOffer.toString(), onChainRoot]).to.deep.equal([offerId, proof.merkleRoot]);
    expect(await commitments.verifyCode(proof.batchId, proof.salt, proof.codeHash, proof.proof)).to.equal(
      true,
    );
    expect(
      await commitments.verifyCode(proof.batchId, proof.salt, codeHashOf(`${code}-forged`), proof.proof),
    ).to.equal(false);

    // One commitment transaction per batch, each batch committed with its own root.
    await stack.waitFor(async () => {
      const { rows } = await stack.db.pool.query(
        `SELECT 1 FROM code_batches WHERE id = ANY($1::uuid[]) AND commit_status = 'committed'`,
        [batchIds],
      );
      return rows.length === 2;
    }, 30_000);
    const { rows } = await stack.db.pool.query<{ ref: string }>(
      `SELECT ref FROM relayer_transactions WHERE purpose = 'commitCodes' AND ref = ANY($1::text[])`,
      [batchIds],
    );
    expect(rows.map((r) => r.ref).sort()).to.deep.equal([...batchIds].sort());
    const stockNow = await request(stack.app)
      .get(`/v1/offers/${offerId}/codes`)
      .set("Authorization", `Bearer ${await sessionToken(creator.address)}`);
    const roots = stockNow.body.batches.map(
      (b: { commitment: { merkleRoot: string } }) => b.commitment.merkleRoot,
    );
    expect(new Set(roots).size).to.equal(2);
  });

  it("redeems a sold code once for its creator's key: of two concurrent redemptions one succeeds, the other says when and by whom", async () => {
    const offerId = await newOffer();
    const codes = codesOf(3);
    expect((await upload(offerId, { codes })).status).to.equal(201);
    const orderId = (await checkout(offerId)).body.orderId as string;
    await postStripeEvent(stack.app, paymentOf(orderId).event).expect(200);
    const { code } = await stack.waitFor(async () => {
      const c = await orderCode(orderId);
      return c.status === "delivered" ? c : null;
    }, 30_000);
    const unsold = codes.find((c) => c !== code)!;

    const keyFor = async (signer: JsonRpcSigner) => {
      const res = await request(stack.app)
        .post("/v1/codes/keys")
        .set("Authorization", `Bearer ${await sessionToken(signer.address)}`)
        .send({ name: "shop backend" });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      expect(res.body.apiKey).to.include({ creator: signer.address.toLowerCase() });
      expect(res.body.apiKey.scopes).to.deep.equal(["redeem"]);
      return res.body.key as string;
    };
    const key = await keyFor(creator);
    const rivalKey = await keyFor(rival);
    const redeem = (body: object, apiKey: string | null = key) => {
      const req = request(stack.app).post("/v1/codes/redeem");
      if (apiKey) req.set("X-Api-Key", apiKey);
      return req.send(body);
    };

    const keyless = await redeem({ code }, null);
    expect(keyless.status).to.equal(401);
    expect(keyless.body.error.code).to.equal("REDEEM_KEY_REQUIRED");
    const foreign = await redeem({ code, offerId }, rivalKey);
    expect(foreign.status, "another creator's key finds nothing").to.equal(404);
    expect((await redeem({ code: unsold })).body.error.code).to.equal("CODE_NOT_SOLD");
    expect((await redeem({ code: "NOT-A-CODE-OF-OURS" })).status).to.equal(404);
    expect((await redeem({ code, redeemer: "bad\u0007name" })).status).to.equal(400);

    const [a, b] = await Promise.all([
      redeem({ code, redeemer: "player-1" }),
      redeem({ code, offerId, redeemer: "player-2" }),
    ]);
    const won = [a, b].filter((r) => r.status === 200);
    const lost = [a, b].filter((r) => r.status === 409);
    expect(won, JSON.stringify([a.body, b.body])).to.have.length(1);
    expect(lost).to.have.length(1);
    expect(won[0]!.body).to.include({ status: "redeemed", offerId, orderId });
    expect(lost[0]!.body.error.code).to.equal("CODE_ALREADY_REDEEMED");
    expect(lost[0]!.body.error.details).to.deep.equal({
      redeemedAt: won[0]!.body.redeemedAt,
      redeemer: won[0]!.body.redeemer,
      keyId: won[0]!.body.keyId,
    });
    expect(lost[0]!.body.error.message).to.include(won[0]!.body.redeemer as string);

    // A revoked key redeems nothing more.
    const keys = await request(stack.app)
      .get("/v1/codes/keys")
      .set("Authorization", `Bearer ${await sessionToken(creator.address)}`);
    const keyId = keys.body.items[0].id as string;
    const other = await request(stack.app)
      .delete(`/v1/codes/keys/${keyId}`)
      .set("Authorization", `Bearer ${await sessionToken(rival.address)}`);
    expect(other.status, "another creator cannot revoke it").to.equal(404);
    await request(stack.app)
      .delete(`/v1/codes/keys/${keyId}`)
      .set("Authorization", `Bearer ${await sessionToken(creator.address)}`)
      .expect(200);
    expect((await redeem({ code })).status).to.equal(401);
  });

  it("shows an order's code only to its buyer: another wallet or a wrong secret gets 404", async () => {
    const offerId = await newOffer();
    expect((await upload(offerId, { codes: codesOf(1) })).status).to.equal(201);
    const wallet = buyer();
    const orderId = (await checkout(offerId, wallet)).body.orderId as string;
    expect((await request(stack.app).get(`/v1/orders/${orderId}/code`)).status).to.equal(404);
    const wrong = await request(stack.app)
      .get(`/v1/orders/${orderId}/code`)
      .set(
        "X-Order-Secret",
        secretOf(orderId).replace(/.$/, (c) => (c === "a" ? "b" : "a")),
      );
    expect(wrong.status).to.equal(404);
    const other = await request(stack.app)
      .get(`/v1/orders/${orderId}/code`)
      .set("Authorization", `Bearer ${await sessionToken(rival.address)}`);
    expect(other.status).to.equal(404);
    const own = await request(stack.app)
      .get(`/v1/orders/${orderId}/code`)
      .set("Authorization", `Bearer ${await sessionToken(wallet)}`);
    expect(own.status).to.equal(200);
    expect(own.body).to.include({ status: "pending", code: null });
  });
});
