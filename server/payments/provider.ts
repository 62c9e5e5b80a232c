/** What a payment provider is asked to charge for: one license of an offer. */
export interface CheckoutRequest {
  orderId: string;
  offerId: string;
  workId: string;
  /** In the currency's minor units. */
  amount: number;
  /** ISO 4217, lower case. */
  currency: string;
  /** Where the buyer lands after paying or giving up. */
  returnUrl: string;
}

export interface CheckoutSession {
  sessionId: string;
  url: string;
}

/** What a payment event says was paid, refunded or disputed: minor units and lower-case ISO 4217; null when it does not say. */
export interface Money {
  amount: number | null;
  currency: string | null;
}

/** A verified webhook event, reduced to what fulfilment needs. */
export type PaymentEvent = { id: string; stripeType: string } & (
  | ({ kind: "checkout.completed"; sessionId: string; paymentIntent: string; orderId: string | null } & Money)
  | { kind: "checkout.expired"; sessionId: string }
  | ({ kind: "refunded"; paymentIntent: string } & Money)
  | ({
      kind: "disputed";
      paymentIntent: string;
      reason: string;
      /** What the provider charged for the dispute, in the payment's minor units; null when it does not say. */
      fee: number | null;
    } & Money)
  | { kind: "dispute.closed"; paymentIntent: string; won: boolean }
  | { kind: "ignored" }
);

/** The webhook's signature does not match its body (or is missing or stale). */
export class WebhookSignatureError extends Error {
  override name = "WebhookSignatureError";
}

/** A captured payment: what the provider kept of it, in the payment's currency and minor units. */
export interface CapturedPayment {
  fee: number;
}

/** The provider refused the operation for good (e.g. capturing a cancelled authorization); retrying cannot help. */
export class PaymentRejectedError extends Error {
  override name = "PaymentRejectedError";
}

/**
 * Card payments, authorized at checkout and captured only once the license is minted. `capture` and
 * `cancel` are idempotent: repeating one that already happened succeeds. Network faults throw plain
 * errors (retry); refusals throw PaymentRejectedError.
 */
export interface PaymentProvider {
  readonly name: "stripe" | "dev";
  createCheckout(request: CheckoutRequest): Promise<CheckoutSession>;
  /** Captures the authorization (or finds it captured) and reports the provider's fee. */
  capture(paymentIntent: string, orderId: string): Promise<CapturedPayment>;
  cancel(paymentIntent: string, orderId: string): Promise<void>;
  /**
   * Refunds a captured payment in full, once per `idempotencyKey` (repeating it, or refunding a
   * payment already refunded, succeeds without a second refund); the provider then sends its
   * refund webhook. A payment that cannot be refunded (not captured, disputed) throws PaymentRejectedError.
   */
  refund(paymentIntent: string, idempotencyKey: string): Promise<void>;
  /** Closes an unpaid session so the buyer can no longer pay it; a session already completed is left alone. */
  expireSession(sessionId: string): Promise<void>;
  /** Verifies the signature over the raw body and parses the event; throws WebhookSignatureError. */
  parseWebhook(rawBody: Buffer, signature: string | undefined): PaymentEvent;
}
