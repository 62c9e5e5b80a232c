import { expect } from "chai";
import { OrderSecrets } from "../../server/auth/order-secrets.ts";
import { JsonRpcProvider, Wallet, ZeroAddress, keccak256, toUtf8Bytes, type JsonRpcSigner } from "ethers";
import pino from "pino";
import request from "supertest";
import { Relayer } from "../../server/chain/relayer.ts";
import { startCommerceWorkers, type CommerceWorkers } from "../../server/commerce-workers.ts";
import {
  IItemEscrow__factory,
  ILicenseToken__factory,
  IWorkRegistry__factory,
  LicenseToken__factory,
  WorkRegistry__factory,
  type LicenseToken,
} from "../../types/typechain/index.ts";
import {
  mine,
  offerTerms,
  publishOffer,
  registerWork,
  soleSplit,
  startRpcProxy,
} from "../helpers/commerce.ts";
import {
  type FakeStripe,
  postStripeEvent,
  sessionCompleted,
  signedEvent,
  startFakeStripe,
} from "../helpers/fake-stripe.ts";
import { commitmentOf } from "../../lib/evidence/registry.ts";
import { commitAndReveal, committedWorkId } from "../helpers/registry.ts";
import { devWallet, startTestStack, type TestStack } from "../helpers/stack.ts";

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });

interface OrderBody {
  orderId: string;
  status: string;
  failureReason: string | null;
  checkoutUrl: string | null;
  paymentRef: string | null;
  payment: string;
  license: { tokenId: string; finality: string | null } | null;
  revocation: { reason: string; revokedAt: string | null } | null;
  history: { status: string; detail: Record<string, unknown> }[];
}

describe("card checkout (Stripe)", function () {
  let stack: TestStack;
  let stripe: FakeStripe;
  let workers: CommerceWorkers | null = null;
  let licenses: LicenseToken;
  let creator: JsonRpcSigner;
  let workId: string;
  let split: string;
  let offerId: string;
  let ips = 0;

  /** A new client address, so the per-IP limits of one test never trip another's. */
  const nextIp = () => `10.0.${Math.floor(++ips / 250)}.${ips % 250}`;
  const buyer = () => Wallet.createRandom().address;

  const startWorkers = (overrides: Partial<Parameters<typeof startCommerceWorkers>[0]> = {}) =>
    startCommerceWorkers({
      config: stack.config,
      db: stack.db.pool,
      redis: stack.cache.redis,
      connection: stack.cache.redis,
      queues: stack.queues,
      relayer: stack.relayer,
      provider: stack.provider,
      deployment: stack.deployment,
      logger,
      ...overrides,
    });

  async function checkout(wallet: string, ip = nextIp(), offer = offerId) {
    return request(stack.app)
      .post("/v1/checkout")
      .set("X-Forwarded-For", ip)
      .send({ offerId: offer, wallet });
  }

  async function order(orderId: string): Promise<OrderBody> {
    const res = await request(stack.app)
      .get(`/v1/orders/${orderId}`)
      .set("X-Order-Secret", new OrderSecrets(stack.config.auth.sessionSecret).of(orderId));
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body as OrderBody;
  }

  async function orderWhere(orderId: string, check: (o: OrderBody) => boolean): Promise<OrderBody> {
    return stack.waitFor(async () => {
      const o = await order(orderId);
      return check(o) ? o : null;
    }, 30_000);
  }

  /** Checks out, has the fake Stripe authorize the card, and returns what the webhook needs. */
  async function paidCheckout(wallet = buyer(), offer = offerId) {
    const res = await checkout(wallet, nextIp(), offer);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    const orderId = res.body.orderId as string;
    const sessionId = [...stripe.sessions.values()].find(
      (s) => s.params["metadata[orderId]"] === orderId,
    )!.id;
    const paymentIntent = stripe.authorize(sessionId);
    return {
      orderId,
      sessionId,
      paymentIntent,
      wallet,
      event: sessionCompleted(stripe.webhookSecret, sessionId, paymentIntent, orderId),
    };
  }

  const postEvent = (event: { payload: string; signature: string }) => postStripeEvent(stack.app, event);

  async function fulfilled(orderId: string): Promise<OrderBody> {
    await orderWhere(orderId, (o) => o.license !== null);
    await mine(stack);
    return orderWhere(orderId, (o) => o.status === "fulfilled");
  }

  /** The transactions sent to mint `paymentRef`, alone or in a batch. */
  async function mintTransactions(paymentRef: string) {
    const { rows } = await stack.db.pool.query<{ purpose: string; item_refs: string[] }>(
      `SELECT purpose, item_refs FROM relayer_transactions
        WHERE (purpose = 'mintForFiat' AND ref = $1) OR (purpose = 'mintForFiatBatch' AND $1 = ANY(item_refs))`,
      [paymentRef],
    );
    return rows;
  }

  async function mintsOf(paymentRef: string) {
    const payments = await stack.db.pool.query(`SELECT token_id FROM payments WHERE payment_ref = $1`, [
      paymentRef,
    ]);
    return { indexed: payments.rowCount, sent: (await mintTransactions(paymentRef)).length };
  }

  before(async () => {
    stripe = await startFakeStripe();
    stack = await startTestStack("checkout", {
      workers: false,
      env: {
        ...stripe.env,
        TRUST_PROXY: "1",
        CHECKOUT_LIMIT_PER_WALLET_PER_OFFER: "3",
        CHECKOUT_LIMIT_PER_IP_PER_OFFER: "4",
        // Holds capped no lower than purchases, so the purchase limits are the ones reached here.
        CHECKOUT_HOLDS_PER_WALLET_PER_OFFER: "3",
        CHECKOUT_HOLDS_PER_IP_PER_OFFER: "4",
        CHECKOUT_VELOCITY_PER_MINUTE: "5",
      },
    });
    workers = await startWorkers();
    licenses = LicenseToken__factory.connect(stack.deployment.contracts.LicenseToken.address, stack.provider);
    creator = await stack.signer(5);
    workId = await registerWork(stack, creator);
    split = await soleSplit(stack, creator);
    offerId = await publishOffer(stack, creator, workId, offerTerms(split));
  });
  after(async () => {
    await workers?.close();
    await stack.stop();
    await stripe.close();
  });

  it("sells a license by card: signed webhook, mint to the buyer's wallet, capture once the mint is confirmed", async () => {
    const res = await checkout(buyer());
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body).to.include({ status: "created", amount: 1200, currency: "usd", offerId });
    expect(res.body.checkoutUrl).to.match(/^https:\/\/checkout\.stripe\.test\/c\/pay\/cs_test_/);
    const session = [...stripe.sessions.values()].find(
      (s) => s.params["metadata[orderId]"] === res.body.orderId,
    )!;
    expect(session.params).to.include({
      mode: "payment",
      "payment_intent_data[capture_method]": "manual",
      "line_items[0][price_data][currency]": "usd",
      "line_items[0][price_data][unit_amount]": "1200",
    });
    expect(res.body.paymentRef).to.equal(keccak256(toUtf8Bytes(session.id)));

    const wallet = res.body.wallet as string;
    const paymentIntent = stripe.authorize(session.id);
    const webhook = await postEvent(
      sessionCompleted(stripe.webhookSecret, session.id, paymentIntent, res.body.orderId),
    );
    expect(webhook.status, JSON.stringify(webhook.body)).to.equal(200);
    expect(webhook.body.duplicate).to.equal(false);

    const minted = await orderWhere(res.body.orderId, (o) => o.license !== null);
    expect(minted.status).to.equal("minting");
    expect(stripe.count("capture", paymentIntent), "captured before confirmation").to.equal(0);
    await mine(stack);
    const done = await orderWhere(res.body.orderId, (o) => o.status === "fulfilled");
    expect(done.payment).to.equal("captured");
    expect(stripe.count("capture", paymentIntent)).to.equal(1);
    expect(done.license!.finality).to.be.oneOf(["safe", "final"]);

    const tokenId = BigInt(done.license!.tokenId);
    expect((await licenses.ownerOf(tokenId)).toLowerCase()).to.equal(wallet.toLowerCase());
    expect(await licenses.paymentRefUsed(res.body.paymentRef)).to.equal(true);
    expect(await licenses.isValid(tokenId)).to.equal(true);
    const verify = await request(stack.app).get(`/v1/licenses/verify?workId=${workId}&holder=${wallet}`);
    expect(verify.body).to.include({ valid: true, tokenId: tokenId.toString() });
    const statuses = done.history.map((h) => h.status).filter((s, i, all) => s !== all[i - 1]);
    expect(statuses).to.deep.equal(["created", "paid", "minting", "fulfilled"]);
  });

  it("hands a mint that does not settle within the fulfilment's wait to a capture job, which charges the card once it settles", async () => {
    const paid = await paidCheckout();
    await postEvent(paid.event).expect(200);
    await orderWhere(paid.orderId, (o) => o.license !== null);
    await stack.waitFor(() => stack.queues.capturePayment.getJob(`capture-${paid.orderId}`), 10_000);
    expect(stripe.count("capture", paid.paymentIntent), "captured before confirmation").to.equal(0);
    await mine(stack);
    const done = await orderWhere(paid.orderId, (o) => o.status === "fulfilled");
    expect(done.payment).to.equal("captured");
    expect(stripe.count("capture", paid.paymentIntent)).to.equal(1);
  });

  it("streams created → paid → minting → fulfilled to the checkout page as server-sent events", async () => {
    const server = stack.app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    const { port } = server.address() as { port: number };
    try {
      const res = await checkout(buyer());
      const orderId = res.body.orderId as string;
      const controller = new AbortController();
      const stream = await fetch(
        `http://127.0.0.1:${port}/v1/orders/${orderId}/events?secret=${res.body.orderSecret}`,
        {
          signal: controller.signal,
        },
      );
      expect(stream.headers.get("content-type")).to.match(/^text\/event-stream/);
      const seen: string[] = [];
      const reading = (async () => {
        const decoder = new TextDecoder();
        let buffer = "";
        for await (const chunk of stream.body!) {
          buffer += decoder.decode(chunk as Uint8Array, { stream: true });
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const message = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            if (!message.includes("event: status")) continue;
            const data = JSON.parse(/data: (.*)/.exec(message)![1]!) as { status: string };
            if (seen.at(-1) !== data.status) seen.push(data.status);
            if (data.status === "fulfilled") return;
          }
        }
      })();
      await stack.waitFor(async () => seen.length > 0);
      const sessionId = [...stripe.sessions.values()].find(
        (s) => s.params["metadata[orderId]"] === orderId,
      )!.id;
      const paymentIntent = stripe.authorize(sessionId);
      await postEvent(sessionCompleted(stripe.webhookSecret, sessionId, paymentIntent, orderId)).expect(200);
      await fulfilled(orderId);
      await Promise.race([
        reading,
        new Promise((_, reject) => setTimeout(() => reject(new Error(`saw ${seen}`)), 10_000)),
      ]);
      controller.abort();
      expect(seen).to.deep.equal(["created", "paid", "minting", "fulfilled"]);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it("mints exactly one license when the webhook is replayed 10 times in a row", async () => {
    const paid = await paidCheckout();
    for (let i = 0; i < 10; i += 1) {
      const res = await postEvent(paid.event);
      expect(res.status).to.equal(200);
      expect(res.body.duplicate).to.equal(i > 0);
    }
    const done = await fulfilled(paid.orderId);
    const ref = done.paymentRef!;
    expect(await mintsOf(ref)).to.deep.equal({ indexed: 1, sent: 1 });
    expect(await licenses.balanceOf(paid.wallet)).to.equal(1n);
    expect(stripe.count("capture", paid.paymentIntent)).to.equal(1);
    const events = await stack.db.pool.query(`SELECT 1 FROM webhook_events WHERE id = $1`, [paid.event.id]);
    expect(events.rowCount).to.equal(1);
  });

  it("mints exactly one license when the webhook arrives 10 times at once", async () => {
    const paid = await paidCheckout();
    const answers = await Promise.all(Array.from({ length: 10 }, () => postEvent(paid.event)));
    expect(answers.map((a) => a.status)).to.deep.equal(Array(10).fill(200));
    expect(answers.filter((a) => a.body.duplicate === false)).to.have.length(1);
    // Every answer, the duplicates' too, comes once the order's fulfilment is queued; it was paid once.
    expect(await stack.queues.fulfillOrder.getJobState(`fulfill-${paid.orderId}`)).to.not.equal("unknown");
    const paidEvents = await stack.db.pool.query(
      `SELECT 1 FROM order_events WHERE order_id = $1 AND status = 'paid'`,
      [paid.orderId],
    );
    expect(paidEvents.rowCount).to.equal(1);
    const done = await fulfilled(paid.orderId);
    expect(await mintsOf(done.paymentRef!)).to.deep.equal({ indexed: 1, sent: 1 });
    expect(await licenses.balanceOf(paid.wallet)).to.equal(1n);
    expect(stripe.count("capture", paid.paymentIntent)).to.equal(1);
  });

  it("a worker stopped after sending the mint and before recording it is replaced; one license, order fulfilled", async () => {
    await workers!.close();
    let stopping: Promise<void> | null = null;
    const crashing: CommerceWorkers = await startWorkers({
      checkpoint: (point) => {
        if (point !== "fulfil:after-mint-sent") return;
        stopping = crashing.close();
        throw new Error("worker stopped");
      },
    });
    workers = null;
    const paid = await paidCheckout();
    await postEvent(paid.event).expect(200);
    const ref = keccak256(toUtf8Bytes(paid.sessionId));
    await stack.waitFor(async () => stopping !== null);
    await stopping;
    const job = await stack.queues.fulfillOrder.getJob(`fulfill-${paid.orderId}`);
    expect(job!.attemptsMade).to.equal(1);
    expect((await mintsOf(ref)).sent).to.equal(1);
    const stored = await stack.db.pool.query(`SELECT mint_tx_hash FROM orders WHERE id = $1`, [paid.orderId]);
    expect(stored.rows[0].mint_tx_hash).to.equal(null);

    workers = await startWorkers();
    const done = await fulfilled(paid.orderId);
    expect(await mintsOf(ref)).to.deep.equal({ indexed: 1, sent: 1 });
    expect(await licenses.balanceOf(paid.wallet)).to.equal(1n);
    expect(done.license!.tokenId).to.be.a("string");
    expect(stripe.count("capture", paid.paymentIntent)).to.equal(1);
  });

  it("retries with backoff while the chain is unreachable, completes when it returns, and captures only after confirmation", async () => {
    await workers!.close();
    workers = null;
    const proxy = await startRpcProxy(stack.rpcUrl);
    const provider = new JsonRpcProvider(proxy.url, stack.chainId, {
      staticNetwork: true,
      pollingInterval: 50,
    });
    const relayer = new Relayer({
      wallet: new Wallet(devWallet(1).privateKey, provider),
      provider,
      db: stack.db.pool,
      redis: stack.cache.redis,
      redisPrefix: stack.cache.prefix,
      logger,
      interfaces: [
        IWorkRegistry__factory.createInterface(),
        ILicenseToken__factory.createInterface(),
        IItemEscrow__factory.createInterface(),
      ],
    });
    const outage = await startWorkers({ relayer, provider });
    try {
      proxy.down();
      const paid = await paidCheckout();
      await postEvent(paid.event).expect(200);
      const job = await stack.waitFor(async () => {
        const j = await stack.queues.fulfillOrder.getJob(`fulfill-${paid.orderId}`);
        return j && j.attemptsMade >= 2 ? j : null;
      });
      expect(job.attemptsMade).to.be.at.least(2);
      expect(await licenses.paymentRefUsed(keccak256(toUtf8Bytes(paid.sessionId)))).to.equal(false);
      expect((await order(paid.orderId)).license).to.equal(null);

      proxy.up();
      const minted = await orderWhere(paid.orderId, (o) => o.license !== null);
      expect(minted.status).to.equal("minting");
      expect(stripe.count("capture", paid.paymentIntent), "captured before confirmation").to.equal(0);
      await mine(stack);
      await orderWhere(paid.orderId, (o) => o.status === "fulfilled");
      expect(stripe.count("capture", paid.paymentIntent)).to.equal(1);
      expect(await licenses.balanceOf(paid.wallet)).to.equal(1n);
      const finished = await stack.queues.fulfillOrder.getJob(`fulfill-${paid.orderId}`);
      expect(finished!.attemptsMade).to.be.at.least(2);
    } finally {
      await outage.close();
      provider.destroy();
      await proxy.close();
      workers = await startWorkers();
    }
  });

  it("revokes the license on a refund; verify answers invalid and the order records why", async () => {
    const paid = await paidCheckout();
    await postEvent(paid.event).expect(200);
    const done = await fulfilled(paid.orderId);
    const refund = signedEvent(stripe.webhookSecret, "charge.refunded", {
      id: "ch_refunded",
      object: "charge",
      amount: 1200,
      amount_refunded: 1200,
      currency: "usd",
      payment_intent: paid.paymentIntent,
      refunded: true,
    });
    await postEvent(refund).expect(200);
    const refunded = await orderWhere(paid.orderId, (o) => o.revocation?.revokedAt != null);
    expect(refunded.status).to.equal("refunded");
    expect(refunded.revocation!.reason).to.equal("refunded");
    const tokenId = BigInt(done.license!.tokenId);
    expect(await licenses.isValid(tokenId)).to.equal(false);
    expect((await licenses.getLicense(tokenId)).revoked).to.equal(true);
    const verify = await stack.waitFor(async () => {
      const res = await request(stack.app).get(`/v1/licenses/verify?workId=${workId}&holder=${paid.wallet}`);
      return res.body.valid === false ? res.body : null;
    });
    expect(verify.tokenId).to.equal(null);
  });

  it("revokes the license on a chargeback and records the dispute's reason", async () => {
    const paid = await paidCheckout();
    await postEvent(paid.event).expect(200);
    const done = await fulfilled(paid.orderId);
    const dispute = signedEvent(stripe.webhookSecret, "charge.dispute.created", {
      id: "dp_1",
      object: "dispute",
      amount: 1200,
      currency: "usd",
      charge: "ch_1",
      payment_intent: paid.paymentIntent,
      reason: "fraudulent",
      status: "needs_response",
    });
    await postEvent(dispute).expect(200);
    const disputed = await orderWhere(paid.orderId, (o) => o.revocation?.revokedAt != null);
    expect(disputed.status).to.equal("disputed");
    expect(disputed.revocation!.reason).to.equal("chargeback: fraudulent");
    expect(await licenses.isValid(BigInt(done.license!.tokenId))).to.equal(false);
  });

  it("leaves the license and the order alone on an inquiry, which takes no money", async () => {
    const paid = await paidCheckout();
    await postEvent(paid.event).expect(200);
    const done = await fulfilled(paid.orderId);
    const inquiry = signedEvent(stripe.webhookSecret, "charge.dispute.created", {
      id: "dp_inquiry",
      object: "dispute",
      amount: 1200,
      currency: "usd",
      charge: "ch_inquiry",
      payment_intent: paid.paymentIntent,
      reason: "general",
      status: "warning_needs_response",
    });
    await postEvent(inquiry).expect(200);
    expect((await order(paid.orderId)).status).to.equal("fulfilled");
    expect(await licenses.isValid(BigInt(done.license!.tokenId))).to.equal(true);
  });

  for (const [what, paidWith] of [
    ["amount", { amount: 1, currency: "usd" }],
    ["currency", { amount: 1200, currency: "jpy" }],
  ] as const) {
    it(`does not fulfil a payment whose ${what} differs from the order: flags it and cancels the authorization`, async () => {
      const paid = await paidCheckout();
      const event = sessionCompleted(
        stripe.webhookSecret,
        paid.sessionId,
        paid.paymentIntent,
        paid.orderId,
        paidWith,
      );
      await postEvent(event).expect(200);
      const failed = await orderWhere(paid.orderId, (o) => o.status === "failed" && o.payment === "canceled");
      expect(failed.failureReason).to.match(/does not match the order/);
      expect(stripe.count("capture", paid.paymentIntent)).to.equal(0);
      expect(await licenses.balanceOf(paid.wallet)).to.equal(0n);
      expect((await mintTransactions(failed.paymentRef!)).length).to.equal(0);
      const { rows } = await stack.db.pool.query(
        `SELECT detail FROM order_events WHERE order_id = $1 AND status = 'failed'`,
        [paid.orderId],
      );
      expect(rows[0].detail).to.deep.include({ flagged: true });
    });
  }

  it("cancels the authorization and fails the order when the offer is paused before the mint", async () => {
    const offer = await publishOffer(stack, creator, workId, offerTerms(split));
    const paid = await paidCheckout(buyer(), offer);
    await (
      await LicenseToken__factory.connect(await licenses.getAddress(), creator).setOfferActive(offer, false)
    ).wait();
    await postEvent(paid.event).expect(200);
    const failed = await orderWhere(paid.orderId, (o) => o.status === "failed" && o.payment === "canceled");
    expect(failed.failureReason).to.match(/OfferInactive/);
    expect(stripe.count("cancel", paid.paymentIntent)).to.equal(1);
    expect(stripe.count("capture", paid.paymentIntent)).to.equal(0);
    expect(await licenses.balanceOf(paid.wallet)).to.equal(0n);
  });

  /** Pays every order while no worker runs, then starts the workers: their mints are requested together. */
  async function payTogether(paid: { event: { payload: string; signature: string } }[]) {
    await workers!.close();
    workers = null;
    await Promise.all(paid.map((p) => postEvent(p.event).expect(200)));
    workers = await startWorkers();
  }

  it("mints orders paid together in one mintForFiatBatch transaction, one license each", async () => {
    const paid = await Promise.all(Array.from({ length: 6 }, () => paidCheckout()));
    await payTogether(paid);
    const done = await Promise.all(paid.map((p) => fulfilled(p.orderId)));
    const sent = await Promise.all(done.map((o) => mintTransactions(o.paymentRef!)));
    for (const [i, txs] of sent.entries()) {
      expect(txs, `order ${i}`).to.have.length(1);
      expect(await licenses.balanceOf(paid[i]!.wallet)).to.equal(1n);
      expect(stripe.count("capture", paid[i]!.paymentIntent)).to.equal(1);
    }
    const batched = sent.filter(([tx]) => tx!.purpose === "mintForFiatBatch");
    expect(batched.length, "orders minted in a batch").to.be.at.least(2);
    expect(new Set(done.map((o) => o.license!.tokenId)).size).to.equal(6);
  });

  it("splits a batch that would revert: the mint that cannot be made fails alone, the others are minted", async () => {
    const paused = await publishOffer(stack, creator, workId, offerTerms(split));
    const doomed = await paidCheckout(buyer(), paused);
    const paid = await Promise.all(Array.from({ length: 4 }, () => paidCheckout()));
    await (
      await LicenseToken__factory.connect(await licenses.getAddress(), creator).setOfferActive(paused, false)
    ).wait();
    await payTogether([paid[0]!, doomed, ...paid.slice(1)]);
    const failed = await orderWhere(doomed.orderId, (o) => o.status === "failed" && o.payment === "canceled");
    expect(failed.failureReason).to.match(/OfferInactive/);
    expect(await mintTransactions(failed.paymentRef!)).to.have.length(0);
    for (const p of paid) {
      await fulfilled(p.orderId);
      expect(await licenses.balanceOf(p.wallet)).to.equal(1n);
    }
    expect(await licenses.balanceOf(doomed.wallet)).to.equal(0n);
  });

  it("sells a squatter's offer until the creator's earlier commitment supersedes its work, then answers card checkout 409 and shows it unavailable", async () => {
    const owner = await stack.signer(8);
    const squatter = await stack.signer(9);
    const registry = WorkRegistry__factory.connect(stack.deployment.contracts.WorkRegistry.address, owner);
    const hash = keccak256(toUtf8Bytes(`a file committed to first ${Date.now()}`));
    // The creator commits first; the squatter, who saw the file, claims it directly before the reveal.
    const ownerWorkId = await committedWorkId(await registry.commit(commitmentOf(owner.address, hash, 11n)));
    const { workId: squatterWorkId } = await commitAndReveal(registry.connect(squatter), squatter, hash);
    await stack.waitFor(
      async () => (await request(stack.app).get(`/v1/works/${squatterWorkId}`)).status === 200,
    );
    const squatterOffer = await publishOffer(
      stack,
      squatter,
      squatterWorkId.toString(),
      offerTerms(await soleSplit(stack, squatter)),
    );
    const before = await checkout(buyer(), nextIp(), squatterOffer);
    expect(before.status, JSON.stringify(before.body)).to.equal(201);
    const onChain = licenses.connect(await stack.signer(10));
    const price = (await licenses.getOffer(squatterOffer)).price;
    const buy = () => onChain.purchase(squatterOffer, devWallet(10).address, ZeroAddress, { value: price });
    await (await buy()).wait();

    await (await registry.reveal(ownerWorkId, hash, 11n, "bafkreiowner", "ipfs://owner", 0n)).wait();
    const shown = await stack.waitFor(async () => {
      const res = await request(stack.app).get(`/v1/offers/${squatterOffer}`);
      return res.body.workSuperseded ? res.body : null;
    });
    expect(shown.active).to.equal(true);
    const after = await checkout(buyer(), nextIp(), squatterOffer);
    expect(after.status).to.equal(409);
    expect(after.body.error).to.deep.include({
      code: "WORK_SUPERSEDED",
      details: {
        offerId: squatterOffer,
        workId: squatterWorkId.toString(),
        supersededBy: ownerWorkId.toString(),
      },
    });
    const refused = await buy().then(
      () => null,
      (err: { data?: string }) => licenses.interface.parseError(err.data ?? "0x"),
    );
    expect(refused?.name).to.equal("WorkSuperseded");
    expect([...refused!.args]).to.deep.equal([squatterWorkId]);
  });

  it("refuses a webhook with a wrong, tampered or missing signature with 400 and records nothing", async () => {
    const paid = await paidCheckout();
    const forged = sessionCompleted("whsec_not_the_secret", paid.sessionId, paid.paymentIntent, paid.orderId);
    const tampered = {
      ...paid.event,
      payload: paid.event.payload.replace(paid.paymentIntent, "pi_someone_else"),
    };
    const cases = [
      postEvent(forged),
      postEvent(tampered),
      request(stack.app)
        .post("/v1/webhooks/stripe")
        .set("content-type", "application/json")
        .send(paid.event.payload),
    ];
    for (const res of await Promise.all(cases)) {
      expect(res.status, JSON.stringify(res.body)).to.equal(400);
      expect(res.body.error.code).to.equal("INVALID_SIGNATURE");
    }
    const recorded = await stack.db.pool.query(`SELECT 1 FROM webhook_events WHERE id IN ($1, $2)`, [
      forged.id,
      paid.event.id,
    ]);
    expect(recorded.rowCount).to.equal(0);
    const current = await order(paid.orderId);
    expect(current.status).to.equal("created");
    expect(current.payment).to.equal("none");
  });

  describe("risk limits", () => {
    let limited: string;

    before(async () => {
      limited = await publishOffer(stack, creator, workId, offerTerms(split));
    });

    it("refuses a wallet's 4th checkout of an offer with 403 (limit 3 per wallet)", async () => {
      const wallet = buyer();
      const ip = nextIp();
      for (let i = 0; i < 3; i += 1) expect((await checkout(wallet, ip, limited)).status).to.equal(201);
      const refused = await checkout(wallet, ip, limited);
      expect(refused.status).to.equal(403);
      expect(refused.body.error.code).to.equal("PURCHASE_LIMIT");
      expect(refused.body.error.details).to.include({ rule: "purchases-per-wallet-per-offer", limit: 3 });
      const { rows } = await stack.db.pool.query(`SELECT count(*)::int AS n FROM orders WHERE wallet = $1`, [
        wallet.toLowerCase(),
      ]);
      expect(rows[0].n).to.equal(3);
    });

    it("refuses a network's 5th checkout of an offer with 403 (limit 4 per IP)", async () => {
      const ip = nextIp();
      for (let i = 0; i < 4; i += 1) expect((await checkout(buyer(), ip, limited)).status).to.equal(201);
      const refused = await checkout(buyer(), ip, limited);
      expect(refused.status).to.equal(403);
      expect(refused.body.error.details).to.include({ rule: "purchases-per-ip-per-offer", limit: 4 });
    });

    it("refuses the 6th checkout in a minute from one IP with 429 and Retry-After (velocity 5)", async () => {
      const ip = nextIp();
      for (let i = 0; i < 5; i += 1) expect((await checkout(buyer(), ip, "999999")).status).to.equal(404);
      const refused = await checkout(buyer(), ip, limited);
      expect(refused.status).to.equal(429);
      expect(refused.body.error.details).to.include({ rule: "checkout-velocity-ip", limit: 5 });
      expect(Number(refused.headers["retry-after"])).to.be.within(1, 60);
    });
  });

  it("rejects malformed checkouts with 400 and offers without a card price with 409", async () => {
    const bad = await request(stack.app)
      .post("/v1/checkout")
      .set("X-Forwarded-For", nextIp())
      .send({ offerId: "x", wallet: "0x1" });
    expect(bad.status).to.equal(400);
    expect(bad.body.error.code).to.equal("VALIDATION_FAILED");
    const cryptoOnly = await publishOffer(stack, creator, workId, offerTerms(split), null);
    const res = await checkout(buyer(), nextIp(), cryptoOnly);
    expect(res.status).to.equal(409);
    expect(res.body.error.code).to.equal("NO_CARD_PRICE");
    expect((await request(stack.app).get("/v1/orders/not-a-uuid")).status).to.equal(400);
    expect((await request(stack.app).get("/v1/orders/00000000-0000-4000-8000-000000000000")).status).to.equal(
      404,
    );
  });
});
