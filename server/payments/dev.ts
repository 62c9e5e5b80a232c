import { randomBytes } from "node:crypto";
import type { Pool } from "pg";
import Stripe from "stripe";
import { parseStripeEvent } from "./stripe.ts";
import { MODELLED_DISPUTE_FEE, modelledCardFee } from "./card-fees.ts";
import {
  PaymentRejectedError,
  type CapturedPayment,
  type CheckoutRequest,
  type CheckoutSession,
  type PaymentEvent,
  type PaymentProvider,
} from "./provider.ts";

export interface DevPaymentProviderOptions {
  db: Pool;
  webhookSecret: string;
  /** The API's public URL: the checkout page lives there and its webhooks are posted there. */
  publicUrl: string;
}

export interface DevSession {
  sessionId: string;
  orderId: string;
  offerId: string;
  amount: number;
  currency: string;
  orderStatus: string;
  paymentIntent: string | null;
  paymentStatus: "requires_capture" | "succeeded" | "canceled" | null;
  refunded: boolean;
  dispute: "open" | "won" | "lost" | null;
}

const STRIPE_API_VERSION = "2025-01-01";

/**
 * Payments without Stripe, for development and demos: a local checkout page stands in for Stripe
 * Checkout and completes a payment by posting the Stripe event Stripe would send, signed with the
 * webhook secret by the Stripe SDK, to the real webhook route. Authorizations live in PostgreSQL, and
 * captures keep the fee Stripe would (card-fees.ts).
 */
export class DevPaymentProvider implements PaymentProvider {
  readonly name = "dev";

  constructor(private readonly options: DevPaymentProviderOptions) {}

  async createCheckout(_request: CheckoutRequest): Promise<CheckoutSession> {
    const sessionId = `cs_dev_${randomBytes(12).toString("hex")}`;
    return { sessionId, url: `${this.options.publicUrl}/dev/checkout/${sessionId}` };
  }

  async capture(paymentIntent: string): Promise<CapturedPayment> {
    const { fee } = await this.#settle(paymentIntent, "succeeded");
    return { fee: fee! };
  }

  async cancel(paymentIntent: string): Promise<void> {
    await this.#settle(paymentIntent, "canceled");
  }

  async expireSession(): Promise<void> {
    // The local page checks the order's status before taking a payment; nothing to close.
  }

  parseWebhook(rawBody: Buffer, signature: string | undefined): PaymentEvent {
    return parseStripeEvent(rawBody, signature, this.options.webhookSecret);
  }

  /** The session as the checkout page shows it, or null when no order has it. */
  async session(sessionId: string): Promise<DevSession | null> {
    const { rows } = await this.options.db.query<{
      id: string;
      offer_id: string;
      amount: string;
      currency: string;
      status: string;
      pi: string | null;
      pi_status: DevSession["paymentStatus"];
      refunded: boolean | null;
      dispute: DevSession["dispute"];
    }>(
      `SELECT o.id, o.offer_id::text, o.amount::text, o.currency, o.status,
              p.id AS pi, p.status AS pi_status, p.refunded, p.dispute
         FROM orders o LEFT JOIN dev_payment_intents p ON p.session_id = o.session_id
        WHERE o.session_id = $1`,
      [sessionId],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      sessionId,
      orderId: row.id,
      offerId: row.offer_id,
      amount: Number(row.amount),
      currency: row.currency,
      orderStatus: row.status,
      paymentIntent: row.pi,
      paymentStatus: row.pi_status,
      refunded: row.refunded ?? false,
      dispute: row.dispute,
    };
  }

  /** Authorizes the card (once per session) and posts `checkout.session.completed`, as Stripe would. */
  async pay(session: DevSession): Promise<void> {
    const { rows } = await this.options.db.query<{ id: string }>(
      `INSERT INTO dev_payment_intents (id, session_id, amount, currency, status)
       VALUES ($1, $2, $3, $4, 'requires_capture')
       ON CONFLICT (session_id) DO UPDATE SET updated_at = now()
       RETURNING id`,
      [`pi_dev_${randomBytes(12).toString("hex")}`, session.sessionId, session.amount, session.currency],
    );
    await this.#post("checkout.session.completed", {
      id: session.sessionId,
      object: "checkout.session",
      mode: "payment",
      status: "complete",
      payment_status: "unpaid",
      payment_intent: rows[0]!.id,
      amount_total: session.amount,
      currency: session.currency,
      client_reference_id: session.orderId,
      metadata: { orderId: session.orderId, offerId: session.offerId },
    });
  }

  /** The checkout page's refund button: refunds a captured payment not refunded yet, as Stripe's dashboard would. */
  async refundSession(session: DevSession): Promise<void> {
    if (
      !session.paymentIntent ||
      session.paymentStatus !== "succeeded" ||
      session.refunded ||
      session.dispute
    ) {
      throw new PaymentRejectedError("only a captured payment, not refunded or disputed, can be refunded");
    }
    await this.refund(session.paymentIntent);
  }

  /**
   * Refunds a captured payment in full and posts `charge.refunded`, as Stripe would; once per
   * payment (the idempotency key Stripe would keep is the payment's own refunded flag here). A
   * payment refunded already has its event posted again: the process that refunded it may have
   * stopped before posting, and the webhook applies a refund once.
   */
  async refund(paymentIntent: string): Promise<void> {
    const { rows } = await this.options.db.query<{ amount: string; currency: string; refunded: boolean }>(
      `WITH fresh AS (
         UPDATE dev_payment_intents SET refunded = true, updated_at = now()
          WHERE id = $1 AND status = 'succeeded' AND dispute IS NULL AND NOT refunded
         RETURNING amount
       )
       SELECT amount::text, currency, refunded OR EXISTS (SELECT 1 FROM fresh) AS refunded
         FROM dev_payment_intents WHERE id = $1`,
      [paymentIntent],
    );
    const found = rows[0];
    if (!found?.refunded) {
      throw new PaymentRejectedError(
        `payment ${paymentIntent} cannot be refunded: only a captured, undisputed payment can`,
      );
    }
    await this.#post("charge.refunded", {
      id: `ch_dev_${paymentIntent.slice("pi_dev_".length)}`,
      object: "charge",
      amount: Number(found.amount),
      amount_refunded: Number(found.amount),
      currency: found.currency,
      payment_intent: paymentIntent,
      refunded: true,
    });
  }

  /** The buyer's bank disputes a captured payment: `charge.dispute.created`, with Stripe's dispute fee. */
  async dispute(session: DevSession, reason = "fraudulent"): Promise<void> {
    const paymentIntent = this.#disputable(session, null);
    await this.options.db.query(
      `UPDATE dev_payment_intents SET dispute = 'open', updated_at = now() WHERE id = $1`,
      [paymentIntent],
    );
    await this.#post("charge.dispute.created", {
      ...this.#disputeObject(session, paymentIntent, "needs_response"),
      reason,
      balance_transactions: [
        {
          id: `txn_dev_${randomBytes(12).toString("hex")}`,
          object: "balance_transaction",
          amount: -session.amount,
          fee: MODELLED_DISPUTE_FEE,
          currency: session.currency,
          exchange_rate: null,
        },
      ],
    });
  }

  /** The bank decides an open dispute: `charge.dispute.closed`, won (the money comes back) or lost. */
  async closeDispute(session: DevSession, won: boolean): Promise<void> {
    const paymentIntent = this.#disputable(session, "open");
    await this.options.db.query(
      `UPDATE dev_payment_intents SET dispute = $2, updated_at = now() WHERE id = $1`,
      [paymentIntent, won ? "won" : "lost"],
    );
    await this.#post(
      "charge.dispute.closed",
      this.#disputeObject(session, paymentIntent, won ? "won" : "lost"),
    );
  }

  #disputable(session: DevSession, dispute: DevSession["dispute"]): string {
    if (
      !session.paymentIntent ||
      session.paymentStatus !== "succeeded" ||
      session.refunded ||
      session.dispute !== dispute
    ) {
      throw new PaymentRejectedError(
        dispute
          ? "only an open dispute can be closed"
          : "only a captured, undisputed payment can be disputed",
      );
    }
    return session.paymentIntent;
  }

  #disputeObject(session: DevSession, paymentIntent: string, status: string): Record<string, unknown> {
    return {
      id: `dp_dev_${paymentIntent.slice("pi_dev_".length)}`,
      object: "dispute",
      amount: session.amount,
      currency: session.currency,
      payment_intent: paymentIntent,
      charge: `ch_dev_${paymentIntent.slice("pi_dev_".length)}`,
      status,
      reason: "fraudulent",
      balance_transactions: [],
    };
  }

  async #settle(paymentIntent: string, status: "succeeded" | "canceled"): Promise<{ fee: number | null }> {
    const { rows: found } = await this.options.db.query<{ amount: string }>(
      `SELECT amount::text FROM dev_payment_intents WHERE id = $1`,
      [paymentIntent],
    );
    const fee = found[0] && status === "succeeded" ? modelledCardFee(Number(found[0].amount)) : null;
    const { rows } = await this.options.db.query<{ fee: string | null }>(
      `UPDATE dev_payment_intents SET status = $2, fee = coalesce(fee, $3), updated_at = now()
        WHERE id = $1 AND status IN ('requires_capture', $2)
        RETURNING fee::text`,
      [paymentIntent, status, fee],
    );
    if (rows.length === 0) {
      throw new PaymentRejectedError(`payment ${paymentIntent} cannot move to ${status}`);
    }
    return { fee: rows[0]!.fee === null ? null : Number(rows[0]!.fee) };
  }

  async #post(type: string, object: Record<string, unknown>): Promise<void> {
    const payload = JSON.stringify({
      id: `evt_dev_${randomBytes(12).toString("hex")}`,
      object: "event",
      api_version: STRIPE_API_VERSION,
      created: Math.floor(Date.now() / 1000),
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type,
      data: { object },
    });
    const signature = Stripe.webhooks.generateTestHeaderString({
      payload,
      secret: this.options.webhookSecret,
    });
    const res = await fetch(`${this.options.publicUrl}/v1/webhooks/stripe`, {
      method: "POST",
      headers: { "content-type": "application/json", "stripe-signature": signature },
      body: payload,
    });
    if (!res.ok) throw new Error(`the webhook answered ${res.status}: ${await res.text()}`);
  }
}
