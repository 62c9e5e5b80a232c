import Stripe from "stripe";
import {
  PaymentRejectedError,
  WebhookSignatureError,
  type CheckoutRequest,
  type CapturedPayment,
  type CheckoutSession,
  type Money,
  type PaymentEvent,
  type PaymentProvider,
} from "./provider.ts";

export interface StripeProviderOptions {
  secretKey: string;
  webhookSecret: string;
  /** Where the Stripe API is reached; Stripe's own by default (tests point it at a local fake). */
  api?: { host?: string; port?: number; protocol?: "http" | "https" };
}

function idOf(value: string | { id: string } | null | undefined): string | null {
  if (!value) return null;
  return typeof value === "string" ? value : value.id;
}

function moneyOf(amount: number | null | undefined, currency: string | null | undefined): Money {
  return { amount: amount ?? null, currency: currency?.toLowerCase() ?? null };
}

/** Verifies a Stripe webhook with the SDK and reduces it to the events fulfilment acts on. */
export function parseStripeEvent(
  rawBody: Buffer,
  signature: string | undefined,
  secret: string,
): PaymentEvent {
  if (!signature) throw new WebhookSignatureError("missing Stripe-Signature header");
  let event: Stripe.Event;
  try {
    event = Stripe.webhooks.constructEvent(rawBody, signature, secret);
  } catch (err) {
    throw new WebhookSignatureError(err instanceof Error ? err.message : "invalid signature");
  }
  const base = { id: event.id, stripeType: event.type };
  switch (event.type) {
    case "checkout.session.completed": {
      const session = event.data.object;
      const paymentIntent = idOf(session.payment_intent);
      if (!paymentIntent) return { ...base, kind: "ignored" };
      return {
        ...base,
        kind: "checkout.completed",
        sessionId: session.id,
        paymentIntent,
        orderId: session.metadata?.orderId ?? session.client_reference_id ?? null,
        ...moneyOf(session.amount_total, session.currency),
      };
    }
    case "checkout.session.expired":
      return { ...base, kind: "checkout.expired", sessionId: event.data.object.id };
    case "charge.refunded": {
      const charge = event.data.object;
      const paymentIntent = idOf(charge.payment_intent);
      // A partial refund leaves the sale standing; only a full refund takes the license back.
      if (!paymentIntent || !charge.refunded) return { ...base, kind: "ignored" };
      return { ...base, kind: "refunded", paymentIntent, ...moneyOf(charge.amount, charge.currency) };
    }
    case "charge.dispute.created": {
      const dispute = event.data.object;
      const paymentIntent = idOf(dispute.payment_intent);
      // An inquiry (warning_…) takes no money and may never become a chargeback.
      if (!paymentIntent || dispute.status.startsWith("warning_")) return { ...base, kind: "ignored" };
      return {
        ...base,
        kind: "disputed",
        paymentIntent,
        reason: dispute.reason,
        fee: disputeFeeOf(dispute),
        ...moneyOf(dispute.amount, dispute.currency),
      };
    }
    case "charge.dispute.closed": {
      const dispute = event.data.object;
      const paymentIntent = idOf(dispute.payment_intent);
      // Only a decided dispute counts; one closed as a warning never took money.
      if (!paymentIntent || (dispute.status !== "won" && dispute.status !== "lost")) {
        return { ...base, kind: "ignored" };
      }
      return { ...base, kind: "dispute.closed", paymentIntent, won: dispute.status === "won" };
    }
    default:
      return { ...base, kind: "ignored" };
  }
}

/**
 * A balance transaction's amount in the charge's currency: Stripe reports fees in the account's
 * settlement currency, with the rate that converted the charge into it.
 */
function inChargeCurrency(amount: number, txn: Stripe.BalanceTransaction, currency: string): number {
  if (txn.currency.toLowerCase() === currency.toLowerCase() || !txn.exchange_rate) return amount;
  return Math.round(amount / txn.exchange_rate);
}

/** What Stripe withdrew as the dispute's fee (its balance transactions' fees), in the dispute's currency. */
function disputeFeeOf(dispute: Stripe.Dispute): number | null {
  const txns = dispute.balance_transactions ?? [];
  if (txns.length === 0) return null;
  return txns.reduce((sum, txn) => sum + inChargeCurrency(txn.fee, txn, dispute.currency), 0);
}

/** The fee Stripe kept of a captured payment, from its charge's balance transaction. */
function capturedOf(intent: Stripe.PaymentIntent): CapturedPayment {
  const charge = intent.latest_charge;
  const txn = charge && typeof charge !== "string" ? charge.balance_transaction : null;
  if (!txn || typeof txn === "string" || !charge || typeof charge === "string") {
    // The balance transaction comes with the capture; until Stripe has it, the capture is retried.
    throw new Error(`payment ${intent.id} has no balance transaction yet`);
  }
  return { fee: inChargeCurrency(txn.fee, txn, charge.currency) };
}

const WITH_FEE = ["latest_charge.balance_transaction"];

function isUnexpectedState(err: unknown): boolean {
  return (
    err instanceof Stripe.errors.StripeInvalidRequestError && err.code === "payment_intent_unexpected_state"
  );
}

/** Stripe Checkout with manual capture: the card is authorized at checkout and captured after the mint. */
export class StripePaymentProvider implements PaymentProvider {
  readonly name = "stripe";
  readonly #stripe: Stripe;
  readonly #webhookSecret: string;

  constructor(options: StripeProviderOptions) {
    this.#stripe = new Stripe(options.secretKey, {
      ...(options.api?.host ? { host: options.api.host } : {}),
      ...(options.api?.port ? { port: options.api.port } : {}),
      ...(options.api?.protocol ? { protocol: options.api.protocol } : {}),
      maxNetworkRetries: 2,
      timeout: 20_000,
      telemetry: false,
    });
    this.#webhookSecret = options.webhookSecret;
  }

  async createCheckout(request: CheckoutRequest): Promise<CheckoutSession> {
    const back = `${request.returnUrl}${request.returnUrl.includes("?") ? "&" : "?"}orderId=${request.orderId}`;
    const session = await this.#stripe.checkout.sessions.create(
      {
        mode: "payment",
        line_items: [
          {
            quantity: 1,
            price_data: {
              currency: request.currency,
              unit_amount: request.amount,
              product_data: { name: `License to work #${request.workId} (offer ${request.offerId})` },
            },
          },
        ],
        payment_intent_data: { capture_method: "manual", metadata: { orderId: request.orderId } },
        metadata: { orderId: request.orderId, offerId: request.offerId },
        client_reference_id: request.orderId,
        success_url: `${back}&session_id={CHECKOUT_SESSION_ID}`,
        cancel_url: `${back}&cancelled=1`,
      },
      { idempotencyKey: `checkout-${request.orderId}` },
    );
    if (!session.url) throw new Error(`Stripe returned checkout session ${session.id} without a URL`);
    return { sessionId: session.id, url: session.url };
  }

  async capture(paymentIntent: string, orderId: string): Promise<CapturedPayment> {
    try {
      const intent = await this.#stripe.paymentIntents.capture(
        paymentIntent,
        { expand: WITH_FEE },
        { idempotencyKey: `capture-${orderId}` },
      );
      return capturedOf(intent);
    } catch (err) {
      if (!isUnexpectedState(err)) throw err;
      const intent = await this.#stripe.paymentIntents.retrieve(paymentIntent, { expand: WITH_FEE });
      if (intent.status !== "succeeded") {
        throw new PaymentRejectedError(`payment ${paymentIntent} cannot be captured: it is ${intent.status}`);
      }
      return capturedOf(intent);
    }
  }

  async cancel(paymentIntent: string, orderId: string): Promise<void> {
    try {
      await this.#stripe.paymentIntents.cancel(paymentIntent, {}, { idempotencyKey: `cancel-${orderId}` });
    } catch (err) {
      if (!isUnexpectedState(err)) throw err;
      const intent = await this.#stripe.paymentIntents.retrieve(paymentIntent);
      if (intent.status !== "canceled") {
        throw new PaymentRejectedError(
          `payment ${paymentIntent} cannot be cancelled: it is ${intent.status}`,
        );
      }
    }
  }

  async refund(paymentIntent: string, idempotencyKey: string): Promise<void> {
    try {
      await this.#stripe.refunds.create({ payment_intent: paymentIntent }, { idempotencyKey });
    } catch (err) {
      if (!(err instanceof Stripe.errors.StripeInvalidRequestError)) throw err;
      // Refunded already (in the dashboard, say): its webhook did or will do the rest.
      if (err.code === "charge_already_refunded") return;
      throw new PaymentRejectedError(`payment ${paymentIntent} cannot be refunded: ${err.message}`);
    }
  }

  async expireSession(sessionId: string): Promise<void> {
    try {
      await this.#stripe.checkout.sessions.expire(sessionId);
    } catch (err) {
      // Only open sessions expire; one completed meanwhile is handled by its webhook.
      if (!(err instanceof Stripe.errors.StripeInvalidRequestError)) throw err;
    }
  }

  parseWebhook(rawBody: Buffer, signature: string | undefined): PaymentEvent {
    return parseStripeEvent(rawBody, signature, this.#webhookSecret);
  }
}
