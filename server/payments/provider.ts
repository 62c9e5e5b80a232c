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
  | ({ kind: "disputed"; paymentIntent: string; reason: string } & Money)
  | { kind: "ignored" }
);

/** The webhook's signature does not match its body (or is missing or stale). */
export class WebhookSignatureError extends Error {
  override name = "WebhookSignatureError";
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
  capture(paymentIntent: string, orderId: string): Promise<void>;
  cancel(paymentIntent: string, orderId: string): Promise<void>;
  /** Closes an unpaid session so the buyer can no longer pay it; a session already completed is left alone. */
  expireSession(sessionId: string): Promise<void>;
  /** Verifies the signature over the raw body and parses the event; throws WebhookSignatureError. */
  parseWebhook(rawBody: Buffer, signature: string | undefined): PaymentEvent;
}
