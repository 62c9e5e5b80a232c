/**
 * The production topology of the README, on a test chain, for the crash tests and `bench:crash`:
 * the chain in this process, the indexer, one API and two workers each in its own process (as
 * `npm run indexer`, `npm run api` and `npm run worker` start them), real PostgreSQL and Redis, and
 * a local stand-in for Stripe that outlives every kill. Parts are killed with SIGKILL — at a
 * crash point they are started with, or at any moment — and started again; card orders are paid
 * through the API process like Stripe would, and what must hold after every crash is checked.
 */
import { Agent, request as httpRequest } from "node:http";
import { Wallet, keccak256, toUtf8Bytes } from "ethers";
import { JOB_LOCK_MS, QUEUE_NAMES, STALLED_CHECK_MS } from "../../server/queues/queues.ts";
import { findStuckItems } from "../../server/services/stuck-items.ts";
import { reconcile } from "../../server/payouts/reconcile.ts";
import { LicenseToken__factory, type LicenseToken } from "../../types/typechain/index.ts";
import { offerTerms, publishOffer, registerWork, soleSplit } from "./commerce.ts";
import { sessionCompleted, startFakeStripe, type FakeStripe } from "./fake-stripe.ts";
import { startServerProcess, type ServerPart, type ServerProcess } from "./server-process.ts";
import { startTestStack, UNLIMITED_RATES, type TestStack } from "./stack.ts";

export type PartName = "api" | "worker-0" | "worker-1" | "indexer";
export const PART_NAMES: PartName[] = ["api", "worker-0", "worker-1", "indexer"];

export interface PaidOrder {
  orderId: string;
  wallet: string;
  paymentIntent: string;
  paymentRef: string;
  event: { payload: string; signature: string };
}

/** What must hold once a burst of orders is through, whatever was killed meanwhile. */
export interface Outcome {
  orders: number;
  fulfilled: number;
  /** Licenses minted beyond one per order (on chain, for the run's wallets and the offer). */
  doubleMints: number;
  /** Orders not fulfilled and captured, and jobs or outbox rows left unfinished. */
  stuck: string[];
  /** Card authorizations neither captured nor cancelled. */
  hangingAuthorizations: number;
  /** Captures asked of the payment provider beyond one per order. */
  extraCaptures: number;
  /** Fulfilled orders whose sale the payout ledger does not hold once, settled and on chain. */
  unsettledSales: number;
  /** Minor units by which the ledger and the chain's settlements disagree (`npm run reconcile`). */
  ledgerDifference: number;
}

/** Block time of the chain, as `npm start`'s local chain: a block per transaction and an empty one this often. */
const BLOCK_MS = 250;
/** Time for a job put back after a worker's death to run again, on a loaded machine. */
const SETTLE_MARGIN_MS = 5_000;
/** Queues whose jobs carry an order's life; none may be left waiting, running or put back. */
const ORDER_QUEUES = new Set<string>([
  QUEUE_NAMES.fulfillOrder,
  QUEUE_NAMES.capturePayment,
  QUEUE_NAMES.revokeLicense,
]);

const partOf = (name: PartName): ServerPart =>
  name === "api" ? "api" : name === "indexer" ? "indexer" : "worker";

export class CrashTopology {
  readonly parts = new Map<PartName, ServerProcess>();
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 64 });
  /** The card offer every order buys, published once the parts run. */
  offerId = "";
  #checkouts = 0;

  private constructor(
    readonly stack: TestStack,
    readonly stripe: FakeStripe,
    readonly licenses: LicenseToken,
    private readonly env: Record<string, string>,
  ) {}

  static async start(label: string): Promise<CrashTopology> {
    const stripe = await startFakeStripe();
    // Card revenue is settled as soon as it is booked, so settlements run (and die) beside the orders.
    const env = {
      ...stripe.env,
      ...UNLIMITED_RATES,
      SETTLEMENT_HOLDBACK_SECONDS: "0",
      SETTLEMENT_EVERY_SECONDS: "1",
    };
    const stack = await startTestStack(label, { workers: false, indexer: false, env });
    const licenses = LicenseToken__factory.connect(
      stack.deployment.contracts.LicenseToken.address,
      stack.provider,
    );
    const topology = new CrashTopology(stack, stripe, licenses, env);
    try {
      for (const name of PART_NAMES) await topology.start(name);
      const creator = await stack.signer(5);
      const workId = await registerWork(stack, creator);
      const split = await soleSplit(stack, creator);
      // The indexer process, not this one, has to see the work first.
      await stack.waitFor(async () => {
        const { rowCount } = await stack.db.pool.query(`SELECT 1 FROM works WHERE work_id = $1`, [workId]);
        return rowCount === 1;
      }, 60_000);
      topology.offerId = await publishOffer(stack, creator, workId, offerTerms(split));
      await stack.provider.send("evm_setIntervalMining", [BLOCK_MS]);
      return topology;
    } catch (err) {
      await topology.close();
      throw err;
    }
  }

  part(name: PartName): ServerProcess {
    return this.parts.get(name)!;
  }

  /** Starts `name` (armed with CRASH_POINTS `crashPoints`, if given), stopping the one running first. */
  async start(name: PartName, crashPoints?: string): Promise<ServerProcess> {
    await this.parts.get(name)?.stop();
    const part = await startServerProcess(this.stack, {
      part: partOf(name),
      env: { ...this.env, ...(crashPoints ? { CRASH_POINTS: crashPoints } : {}) },
    });
    this.parts.set(name, part);
    return part;
  }

  /** Opens `count` checkouts through the API process and has the card of each authorized. */
  async checkouts(count: number): Promise<PaidOrder[]> {
    const api = this.part("api").url;
    const orders: PaidOrder[] = [];
    for (let i = 0; i < count; i++) {
      const wallet = Wallet.createRandom().address;
      const res = await fetch(`${api}/v1/checkout`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ offerId: this.offerId, wallet }),
      });
      const body = (await res.json()) as { orderId: string };
      if (res.status !== 201) throw new Error(`checkout answered ${res.status}: ${JSON.stringify(body)}`);
      const session = [...this.stripe.sessions.values()].find(
        (s) => s.params["metadata[orderId]"] === body.orderId,
      )!;
      const paymentIntent = this.stripe.authorize(session.id);
      orders.push({
        orderId: body.orderId,
        wallet,
        paymentIntent,
        paymentRef: keccak256(toUtf8Bytes(session.id)),
        event: sessionCompleted(this.stripe.webhookSecret, session.id, paymentIntent, body.orderId),
      });
    }
    this.#checkouts += count;
    return orders;
  }

  /**
   * Delivers every order's `checkout.session.completed` to the API process at once, as Stripe
   * does; answers the orders whose delivery got no 200 (the API died under it).
   */
  async deliver(orders: PaidOrder[]): Promise<PaidOrder[]> {
    const url = new URL(`${this.part("api").url}/v1/webhooks/stripe`);
    const outcomes = await Promise.all(
      orders.map(
        (order) =>
          new Promise<boolean>((resolve) => {
            const req = httpRequest(
              url,
              {
                method: "POST",
                agent: this.#agent,
                headers: { "content-type": "application/json", "stripe-signature": order.event.signature },
              },
              (res) => {
                res.resume();
                res.on("end", () => resolve(res.statusCode === 200));
                res.on("error", () => resolve(false));
              },
            );
            req.on("error", () => resolve(false));
            req.end(order.event.payload);
          }),
      ),
    );
    return orders.filter((_, i) => !outcomes[i]);
  }

  /** The orders whose payment the API recorded (a webhook that got no 200 may still have been). */
  async recorded(orders: PaidOrder[]): Promise<PaidOrder[]> {
    const { rows } = await this.stack.db.pool.query<{ id: string }>(
      `SELECT id FROM orders WHERE id = ANY($1::uuid[]) AND status <> 'created'`,
      [orders.map((o) => o.orderId)],
    );
    const ids = new Set(rows.map((r) => r.id));
    return orders.filter((o) => ids.has(o.orderId));
  }

  /**
   * Delivers again, as Stripe retries a delivery that got no 200, the webhooks of orders whose
   * payment was never recorded; a payment recorded before its process died is not helped.
   */
  async redeliverUnrecorded(orders: PaidOrder[]): Promise<void> {
    const recorded = new Set((await this.recorded(orders)).map((o) => o.orderId));
    let left = orders.filter((o) => !recorded.has(o.orderId));
    const deadline = Date.now() + 60_000;
    while (left.length > 0) {
      if (Date.now() > deadline) throw new Error(`${left.length} webhooks still refused after a minute`);
      left = await this.deliver(left);
      if (left.length > 0) await new Promise((r) => setTimeout(r, 250));
    }
  }

  /**
   * Resolves when every order is fulfilled, with the time (ms since the epoch) the last one was (0
   * for none); rejects after `timeoutMs`.
   */
  async fulfilled(orders: PaidOrder[], timeoutMs: number): Promise<number> {
    const ids = orders.map((o) => o.orderId);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await this.stack.db.pool.query<{ n: number; last: Date | null }>(
        `SELECT count(DISTINCT o.id)::int AS n, max(e.created_at) AS last
           FROM orders o JOIN order_events e ON e.order_id = o.id AND e.status = 'fulfilled'
          WHERE o.id = ANY($1::uuid[]) AND o.status = 'fulfilled'`,
        [ids],
      );
      if (rows[0]!.n === ids.length) return rows[0]!.last?.getTime() ?? 0;
      if (Date.now() > deadline) {
        throw new Error(
          `${ids.length - rows[0]!.n} of ${ids.length} orders not fulfilled after ${timeoutMs} ms`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Checks `orders` once they are through: one license and one capture each, nothing left unfinished. */
  async outcome(orders: PaidOrder[]): Promise<Outcome> {
    const stuck = await this.#unfinished();
    const { rows } = await this.stack.db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM orders
        WHERE id = ANY($1::uuid[]) AND status = 'fulfilled' AND payment_status = 'captured'`,
      [orders.map((o) => o.orderId)],
    );
    const balances = await Promise.all(orders.map((o) => this.licenses.balanceOf(o.wallet)));
    const sold = Number((await this.licenses.getOffer(this.offerId)).sold);
    const overMinted = balances.reduce((sum, b) => sum + Math.max(0, Number(b) - 1), 0);
    return {
      orders: orders.length,
      fulfilled: rows[0]!.n,
      doubleMints: Math.max(overMinted, sold - this.#checkouts),
      stuck,
      hangingAuthorizations: orders.filter(
        (o) => this.stripe.intents.get(o.paymentIntent) === "requires_capture",
      ).length,
      extraCaptures: orders.reduce(
        (sum, o) => sum + Math.max(0, this.stripe.count("capture", o.paymentIntent) - 1),
        0,
      ),
      ...(await this.#payouts(orders)),
    };
  }

  /**
   * Waits (a while) until every order's sale is booked once and covered by a settlement paid on chain
   * and indexed, then reconciles the ledger with the chain.
   */
  async #payouts(orders: PaidOrder[]): Promise<Pick<Outcome, "unsettledSales" | "ledgerDifference">> {
    const { db } = this.stack;
    const deadline = Date.now() + 30_000;
    let unsettledSales: number;
    for (;;) {
      const { rows } = await db.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM orders o
          WHERE o.id = ANY($1::uuid[]) AND NOT EXISTS (
            SELECT 1 FROM ledger_transactions t
              JOIN settlement_covers c ON c.transaction_id = t.id
              JOIN settlements s ON s.id = c.settlement_id AND s.status = 'paid'
              JOIN settlements_paid p ON p.settlement_id = '0x' || lpad(replace(s.id::text, '-', ''), 64, '0')
             WHERE t.order_id = o.id AND t.kind = 'sale')`,
        [orders.map((o) => o.orderId)],
      );
      unsettledSales = rows[0]!.n;
      if (unsettledSales === 0 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const { totals } = await reconcile(db.pool, { currency: "usd", decimals: 6 });
    return { unsettledSales, ledgerDifference: totals.difference };
  }

  /**
   * The orders, order jobs and outbox rows still unfinished once a job held by a killed worker has
   * had its time to be noticed and run again (lock lapse, stalled check, a run): an order can be
   * fulfilled and captured while the job that did it is still marked running in a dead worker.
   */
  async #unfinished(): Promise<string[]> {
    const { db, queues } = this.stack;
    const deadline = Date.now() + JOB_LOCK_MS + 2 * STALLED_CHECK_MS + SETTLE_MARGIN_MS;
    for (;;) {
      const stuck = (await findStuckItems({ db: db.pool, queues }, { platformSeconds: 0, chainSeconds: 0 }))
        .filter(
          (i) =>
            i.kind === "order" ||
            i.kind === "outbox" ||
            (i.kind === "job" && ORDER_QUEUES.has(i.id.split("/")[0]!)),
        )
        .map((i) => `${i.kind} ${i.id} ${i.state}`);
      if (stuck.length === 0 || Date.now() > deadline) return stuck;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async close(): Promise<void> {
    this.#agent.destroy();
    for (const part of this.parts.values()) await part.kill();
    await this.stack.stop();
    await this.stripe.close();
  }
}
