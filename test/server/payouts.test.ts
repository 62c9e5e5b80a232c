import { expect } from "chai";
import { Wallet, type JsonRpcSigner } from "ethers";
import pino from "pino";
import request from "supertest";
import { ChainClock } from "../../server/chain/chain-clock.ts";
import type { CrashPoint } from "../../server/crash-points.ts";
import { modelledCardFee, MODELLED_DISPUTE_FEE } from "../../server/payments/card-fees.ts";
import { reconcile, reconciled } from "../../server/payouts/reconcile.ts";
import { settlePayouts, type SettlementDeps } from "../../server/payouts/settlement.ts";
import {
  IERC20Metadata__factory,
  LicenseToken__factory,
  PayoutSettlement__factory,
  RevenueSplit__factory,
  SplitFactory__factory,
  type IERC20Metadata,
} from "../../types/typechain/index.ts";
import { mine, offerTerms, publishOffer, registerWork } from "../helpers/commerce.ts";
import {
  postStripeEvent,
  sessionCompleted,
  signedEvent,
  startFakeStripe,
  type FakeStripe,
} from "../helpers/fake-stripe.ts";
import { passHoldback } from "../helpers/ledger.ts";
import { startTestStack, UNLIMITED_RATES, type TestStack } from "../helpers/stack.ts";

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
const HOLDBACK = 3600;
const REPLAYS = 10;
const PLATFORM_FEE_BPS = 250;

interface Sale {
  orderId: string;
  offer: OfferSetup;
  paymentIntent: string;
  referrer: string | null;
  outcome: "kept" | "refunded" | "chargeback-won" | "chargeback-lost";
}

interface OfferSetup {
  offerId: string;
  split: string;
  price: number;
  referrerBps: number;
  /** Referrers the creator approved on chain; card sales through them pay commission. */
  approved: string[];
}

/** What a sale owes each payee, computed here from the published terms without the ledger's code. */
function expectedOwed(sales: readonly Sale[]): Map<string, number> {
  const owed = new Map<string, number>();
  const add = (payee: string, amount: number) =>
    owed.set(payee.toLowerCase(), (owed.get(payee.toLowerCase()) ?? 0) + amount);
  for (const sale of sales) {
    if (sale.outcome === "refunded" || sale.outcome === "chargeback-lost") continue;
    const { price, referrerBps, split } = sale.offer;
    const fee = Math.floor((price * PLATFORM_FEE_BPS) / 10_000);
    const commission = sale.referrer ? Math.floor((price * referrerBps) / 10_000) : 0;
    add(split, Math.max(0, price - modelledCardFee(price) - fee - commission));
    if (sale.referrer) add(sale.referrer, commission);
  }
  return owed;
}

describe("payouts: card revenue through the ledger to the splits on chain", function () {
  let stack: TestStack;
  let stripe: FakeStripe;
  let token: IERC20Metadata;
  let creators: JsonRpcSigner[];
  const offers: OfferSetup[] = [];
  const sales: Sale[] = [];
  let ips = 0;

  const settlement = (checkpoint: (point: CrashPoint) => void = () => undefined): SettlementDeps => ({
    db: stack.db.pool,
    relayer: stack.relayer,
    contract: PayoutSettlement__factory.connect(
      stack.deployment.contracts.PayoutSettlement.address,
      stack.provider,
    ),
    token: { address: stack.deployment.settlementToken, decimals: 6, currency: "usd" },
    clock: new ChainClock(stack.provider, 0),
    holdbackSeconds: HOLDBACK,
    maxPayees: 100,
    maxPaymentRefs: 2000,
    logger,
    checkpoint,
  });

  /** Throws the `hit`-th time `at` is passed: the job stops there as if its worker were killed. */
  const killedAt = (at: CrashPoint, hit = 1) => {
    let passed = 0;
    return (point: CrashPoint) => {
      if (point === at && ++passed === hit) throw new Error(`killed at ${point}`);
    };
  };

  const count = async (sql: string, params: unknown[] = []) =>
    Number(
      (await stack.db.pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM (${sql}) q`, params))
        .rows[0]!.n,
    );

  async function pay(offer: OfferSetup, referrer: string | null): Promise<Sale> {
    const wallet = Wallet.createRandom().address;
    const res = await request(stack.app)
      .post("/v1/checkout")
      .set("X-Forwarded-For", `10.9.${Math.floor(++ips / 250)}.${ips % 250}`)
      .send({ offerId: offer.offerId, wallet, ...(referrer ? { referrer } : {}) });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    const orderId = res.body.orderId as string;
    const session = [...stripe.sessions.values()].find((s) => s.params["metadata[orderId]"] === orderId)!;
    const paymentIntent = stripe.authorize(session.id);
    const event = sessionCompleted(stripe.webhookSecret, session.id, paymentIntent, orderId, {
      amount: offer.price,
      currency: "usd",
    });
    await Promise.all(Array.from({ length: REPLAYS }, () => postStripeEvent(stack.app, event).expect(200)));
    const approved = referrer !== null && offer.approved.includes(referrer);
    return { orderId, offer, paymentIntent, referrer: approved ? referrer : null, outcome: "kept" };
  }

  /** Posts a payment event `REPLAYS` times, half of them at once. */
  async function deliver(type: string, object: Record<string, unknown>): Promise<void> {
    const event = signedEvent(stripe.webhookSecret, type, object);
    await Promise.all(
      Array.from({ length: REPLAYS / 2 }, () => postStripeEvent(stack.app, event).expect(200)),
    );
    for (let i = 0; i < REPLAYS / 2; i++) await postStripeEvent(stack.app, event).expect(200);
  }

  const refund = (sale: Sale) =>
    deliver("charge.refunded", {
      id: `ch_${sale.paymentIntent}`,
      object: "charge",
      amount: sale.offer.price,
      amount_refunded: sale.offer.price,
      currency: "usd",
      payment_intent: sale.paymentIntent,
      refunded: true,
    });

  const dispute = (sale: Sale, status: "needs_response" | "won" | "lost") =>
    deliver(status === "needs_response" ? "charge.dispute.created" : "charge.dispute.closed", {
      id: `dp_${sale.paymentIntent}`,
      object: "dispute",
      amount: sale.offer.price,
      currency: "usd",
      charge: `ch_${sale.paymentIntent}`,
      payment_intent: sale.paymentIntent,
      reason: "fraudulent",
      status,
      balance_transactions:
        status === "needs_response"
          ? [
              {
                id: `txn_dp_${sale.paymentIntent}`,
                object: "balance_transaction",
                amount: -sale.offer.price,
                fee: MODELLED_DISPUTE_FEE,
                currency: "usd",
                exchange_rate: null,
              },
            ]
          : [],
    });

  /** Waits until every booking the orders call for is in the ledger, mining blocks for mints to settle. */
  async function booked(kinds: Record<string, number>): Promise<void> {
    await stack.waitFor(async () => {
      await mine(stack);
      const { rows } = await stack.db.pool.query<{ kind: string; n: string }>(
        `SELECT kind, count(*)::text AS n FROM ledger_transactions WHERE order_id IS NOT NULL GROUP BY kind`,
      );
      const have = Object.fromEntries(rows.map((r) => [r.kind, Number(r.n)]));
      return Object.entries(kinds).every(([kind, n]) => (have[kind] ?? 0) === n);
    }, 120_000);
  }

  const holdbackPasses = () => passHoldback(stack, HOLDBACK);

  /** Waits until the indexer mirrors every paid settlement. */
  async function indexed(): Promise<void> {
    await stack.waitFor(async () => {
      const paid = await count(`SELECT 1 FROM settlements WHERE status = 'paid'`);
      const mirrored = await count(`SELECT 1 FROM settlements_paid`);
      return paid > 0 && paid === mirrored;
    }, 60_000);
  }

  before(async function () {
    this.timeout(300_000);
    stripe = await startFakeStripe();
    stack = await startTestStack("payouts", {
      env: {
        ...stripe.env,
        ...UNLIMITED_RATES,
        TRUST_PROXY: "1",
        CHECKOUT_LIMIT_PER_WALLET_PER_OFFER: "1000",
        CHECKOUT_HOLDS_PER_WALLET_PER_OFFER: "1000",
        SETTLEMENT_HOLDBACK_SECONDS: String(HOLDBACK),
        // The test settles by hand, at the moments it chooses.
        SETTLEMENT_EVERY_SECONDS: "86400",
      },
    });
    token = IERC20Metadata__factory.connect(stack.deployment.settlementToken, stack.provider);
    creators = await Promise.all([5, 6, 7].map((i) => stack.signer(i)));
    const factory = SplitFactory__factory.connect(
      stack.deployment.contracts.SplitFactory.address,
      creators[0]!,
    );
    const threeWay = [creators[0]!.address, creators[1]!.address, creators[2]!.address];
    const shares = [5000, 3000, 2000];
    await (await factory.createSplit(threeWay, shares)).wait();
    const splitOf = async (creator: JsonRpcSigner) => {
      const f = factory.connect(creator);
      const split = await f.predictSplit([creator.address], [10_000]);
      if (!(await f.isSplit(split))) await (await f.createSplit([creator.address], [10_000])).wait();
      return split;
    };
    const prices = [1200, 999, 2500, 150, 4999];
    const referrers = [Wallet.createRandom().address, Wallet.createRandom().address];
    for (let i = 0; i < prices.length; i++) {
      const creator = creators[i % creators.length]!;
      const split = i === 0 ? await factory.predictSplit(threeWay, shares) : await splitOf(creator);
      const referrerBps = i % 2 === 0 ? 1000 : 500;
      const workId = await registerWork(stack, i === 0 ? creators[0]! : creator);
      const offerId = await publishOffer(
        stack,
        i === 0 ? creators[0]! : creator,
        workId,
        offerTerms(split, { referrerBps }),
        {
          amount: prices[i]!,
          currency: "usd",
        },
      );
      const licenses = LicenseToken__factory.connect(
        stack.deployment.contracts.LicenseToken.address,
        i === 0 ? creators[0]! : creator,
      );
      const approved = i < 3 ? [referrers[i % 2]!] : [];
      for (const r of approved) await (await licenses.setReferrer(offerId, r, true)).wait();
      // Commissions follow the approvals the chain's mirror shows.
      await stack.waitFor(
        async () =>
          (await count(`SELECT 1 FROM offer_referrers WHERE offer_id = $1 AND approved`, [offerId])) ===
          approved.length,
      );
      offers.push({ offerId, split: split.toLowerCase(), price: prices[i]!, referrerBps, approved });
    }
    // 100 card sales, 20 per offer; every third through a referrer (approved on three offers, not on the others).
    for (let round = 0; round < 4; round++) {
      const batch: Promise<Sale>[] = [];
      for (let n = 0; n < 25; n++) {
        const i = round * 25 + n;
        const offer = offers[i % offers.length]!;
        batch.push(pay(offer, i % 3 === 0 ? referrers[i % 2]! : null));
      }
      sales.push(...(await Promise.all(batch)));
    }
    await booked({ sale: 100 });
  });

  after(async () => {
    await stack?.stop();
    await stripe?.close();
  });

  it("books each of 100 card sales once under 10 deliveries of every payment, balanced, with Stripe's fee from the capture", async () => {
    expect(await count(`SELECT 1 FROM ledger_transactions WHERE kind = 'sale'`)).to.equal(100);
    const unbalanced = await count(
      `SELECT transaction_id FROM ledger_lines GROUP BY transaction_id HAVING sum(amount) <> 0`,
    );
    expect(unbalanced).to.equal(0);
    const fees = await stack.db.pool.query<{ amount: string; fee: string }>(
      `SELECT o.amount::text, l.amount::text AS fee FROM ledger_transactions t
         JOIN ledger_lines l ON l.transaction_id = t.id AND l.account = 'provider:fees'
         JOIN orders o ON o.id = t.order_id WHERE t.kind = 'sale'`,
    );
    for (const row of fees.rows) expect(Number(row.fee)).to.equal(modelledCardFee(Number(row.amount)));
  });

  it("refuses to change or delete a booked line: the ledger is append-only", async () => {
    let refused: unknown = null;
    try {
      await stack.db.pool.query(`UPDATE ledger_lines SET amount = amount + 1 WHERE line = 1`);
    } catch (err) {
      refused = err;
    }
    expect(String(refused)).to.match(/append-only/);
  });

  it("settles the 3-way split and every payee after the holdback, in one transaction, once, though the worker dies after sending", async () => {
    // Five refunds before any settlement.
    for (const sale of sales.slice(0, 5)) {
      await refund(sale);
      sale.outcome = "refunded";
    }
    await booked({ sale: 100, refund: 5 });
    // Nothing is due before the holdback has passed.
    expect((await settlePayouts(settlement())).paid).to.deep.equal([]);
    await holdbackPasses();
    const treasury = stack.deployment.roles.settlementTreasury;
    const before = await token.balanceOf(treasury);
    let killed: unknown = null;
    try {
      await settlePayouts(settlement(killedAt("settlement:after-send")));
    } catch (err) {
      killed = err;
    }
    expect(String(killed)).to.match(/killed at settlement:after-send/);
    expect(await count(`SELECT 1 FROM settlements WHERE status = 'prepared'`)).to.equal(1);
    // The next run finishes the settlement the dead one sent, and pays nothing twice.
    const run = await settlePayouts(settlement());
    expect(run.paid).to.have.length(1);
    expect(await count(`SELECT 1 FROM settlements`)).to.equal(1);
    await indexed();
    const { rows } = await stack.db.pool.query<{ total: string }>(
      `SELECT sum(token_amount)::text AS total FROM settlement_payees`,
    );
    expect(before - (await token.balanceOf(treasury))).to.equal(BigInt(rows[0]!.total));
    expect(await count(`SELECT 1 FROM settlement_payees`)).to.equal(
      await count(`SELECT 1 FROM settlement_payments`),
    );
    const check = await reconcile(stack.db.pool, { currency: "usd", decimals: 6 });
    expect(reconciled(check), JSON.stringify(check)).to.equal(true);
    expect(check.totals.pending).to.equal(0);
  });

  it("carries refunds and a lost chargeback after settlement forward, books a won chargeback back, and reconciles to the cent", async () => {
    // Sale 12 paid an approved referrer, who earns nothing afterwards: its refund leaves the referrer owing.
    for (const sale of sales.slice(12, 17)) {
      await refund(sale);
      sale.outcome = "refunded";
    }
    const [won, lost] = [sales[17]!, sales[18]!];
    await dispute(won, "needs_response");
    await dispute(lost, "needs_response");
    await booked({ sale: 100, refund: 10, chargeback: 2 });
    await dispute(won, "won");
    await dispute(lost, "lost");
    won.outcome = "chargeback-won";
    lost.outcome = "chargeback-lost";
    await booked({ sale: 100, refund: 10, chargeback: 2, chargeback_won: 1 });
    // Fifteen more sales, three per offer, so a second settlement has something to pay.
    sales.push(...(await Promise.all(offers.flatMap((offer) => [0, 1, 2].map(() => pay(offer, null))))));
    await booked({ sale: 115, refund: 10, chargeback: 2, chargeback_won: 1 });
    // Where refunds after settlement outweigh the new sales, the payee owes: nothing is settled for it.
    const negative = await stack.db.pool.query<{ payee: string }>(
      `SELECT substr(account, 7) AS payee FROM ledger_lines WHERE account LIKE 'payee:%' GROUP BY account HAVING sum(amount) > 0`,
    );
    expect(negative.rowCount).to.be.greaterThan(0);
    const earlier = (await stack.db.pool.query<{ id: string }>(`SELECT id FROM settlements`)).rows.map(
      (r) => r.id,
    );
    await holdbackPasses();
    await settlePayouts(settlement(killedAt("settlement:after-prepare")))
      .then(() => expect.fail("the run was to die"))
      .catch((err: unknown) => expect(String(err)).to.match(/killed at settlement:after-prepare/));
    await settlePayouts(settlement());
    await indexed();
    for (const { payee } of negative.rows) {
      const paidSince = await count(
        `SELECT 1 FROM settlement_payees WHERE payee = $1 AND NOT settlement_id = ANY($2::uuid[])`,
        [payee, earlier],
      );
      expect(paidSince, `${payee} owes and is paid nothing`).to.equal(0);
    }
    const check = await reconcile(stack.db.pool, { currency: "usd", decimals: 6 });
    expect(reconciled(check), JSON.stringify(check)).to.equal(true);
    // The ledger, the chain and the independent arithmetic agree for every payee, to the cent.
    const expected = expectedOwed(sales);
    for (const [payee, owed] of expected) {
      const onChain = await token.balanceOf(payee);
      const pending = await stack.db.pool.query<{ owed: string }>(
        `SELECT coalesce(-sum(amount), 0)::text AS owed FROM ledger_lines WHERE account = $1`,
        [`payee:${payee}`],
      );
      expect(Number(onChain / 10_000n) + Number(pending.rows[0]!.owed), payee).to.equal(owed);
    }
  });

  it("pays each recipient of the 3-way split its share of the settled stablecoin when it withdraws", async () => {
    const split = RevenueSplit__factory.connect(offers[0]!.split, creators[0]!);
    const held = await token.balanceOf(offers[0]!.split);
    expect(held > 0n).to.equal(true);
    const received: bigint[] = [];
    for (const recipient of creators) {
      const before = await token.balanceOf(recipient.address);
      const releasable = await split.releasable(stack.deployment.settlementToken, recipient.address);
      await (await split.release(stack.deployment.settlementToken, recipient.address)).wait();
      const got = (await token.balanceOf(recipient.address)) - before;
      expect(got).to.equal(releasable);
      received.push(got);
    }
    expect(received.reduce((a, b) => a + b, 0n)).to.equal(held);
    // The first recipient's half is rounded up, as the split's arithmetic does.
    expect(received[0]).to.equal(held - (held * 5000n) / 10_000n);
    expect(await token.balanceOf(offers[0]!.split)).to.equal(0n);
  });
});
