/**
 * A local stand-in for the few Stripe API endpoints checkout uses, for the real Stripe SDK to talk
 * to (Stripe is unreachable from tests). It records what was asked, honours idempotency keys and
 * answers errors the way Stripe does, so the SDK raises its own error classes.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Express } from "express";
import Stripe from "stripe";
import request from "supertest";
import { modelledCardFee } from "../../server/payments/card-fees.ts";

export type IntentStatus = "requires_capture" | "succeeded" | "canceled";

export interface FakeSession {
  id: string;
  /** The form-encoded parameters the SDK sent, flattened (`payment_intent_data[capture_method]`). */
  params: Record<string, string>;
  paymentIntent: string | null;
}

export interface FakeStripeCall {
  action: "capture" | "cancel" | "expire" | "refund";
  id: string;
  at: number;
}

export interface FakeStripe {
  port: number;
  webhookSecret: string;
  /** Environment that points the server's Stripe client here. */
  env: Record<string, string>;
  sessions: Map<string, FakeSession>;
  intents: Map<string, IntentStatus>;
  calls: FakeStripeCall[];
  /** The buyer pays: an authorization (manual capture) is taken for the session. */
  authorize(sessionId: string): string;
  /** Calls of `action` on payment intent or session `id`. */
  count(action: FakeStripeCall["action"], id: string): number;
  close(): Promise<void>;
}

const random = () => randomBytes(12).toString("hex");

async function body(req: IncomingMessage): Promise<Record<string, string>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString("utf8")));
}

function send(res: ServerResponse, status: number, payload: unknown): void {
  res.writeHead(status, { "content-type": "application/json", "request-id": `req_${random()}` });
  res.end(JSON.stringify(payload));
}

function unexpectedState(res: ServerResponse, id: string, status: IntentStatus): void {
  send(res, 400, {
    error: {
      type: "invalid_request_error",
      code: "payment_intent_unexpected_state",
      message: `This PaymentIntent (${id}) has a status of ${status}.`,
    },
  });
}

export async function startFakeStripe(webhookSecret = `whsec_test_${random()}`): Promise<FakeStripe> {
  const sessions = new Map<string, FakeSession>();
  const intents = new Map<string, IntentStatus>();
  const calls: FakeStripeCall[] = [];
  const replies = new Map<string, { status: number; payload: unknown }>();

  const amounts = new Map<string, number>();
  const refunded = new Set<string>();
  /** A payment intent; a captured one carries its charge and the balance transaction with Stripe's fee. */
  const intent = (id: string) => {
    const status = intents.get(id);
    const amount = amounts.get(id) ?? 0;
    const charge =
      status === "succeeded"
        ? {
            id: `ch_${id}`,
            object: "charge",
            amount,
            currency: "usd",
            balance_transaction: {
              id: `txn_${id}`,
              object: "balance_transaction",
              amount,
              fee: modelledCardFee(amount),
              currency: "usd",
              exchange_rate: null,
            },
          }
        : null;
    return { id, object: "payment_intent", status, amount, latest_charge: charge };
  };

  const server = createServer((req, res) => {
    void (async () => {
      const params = await body(req);
      const key = req.headers["idempotency-key"];
      const replay = typeof key === "string" ? replies.get(key) : undefined;
      if (replay) return send(res, replay.status, replay.payload);
      const reply = (status: number, payload: unknown) => {
        if (typeof key === "string" && status < 500) replies.set(key, { status, payload });
        send(res, status, payload);
      };
      const path = (req.url ?? "").split("?")[0]!;
      let match: RegExpExecArray | null;
      if (req.method === "POST" && path === "/v1/checkout/sessions") {
        const id = `cs_test_${random()}`;
        sessions.set(id, { id, params, paymentIntent: null });
        return reply(200, {
          id,
          object: "checkout.session",
          status: "open",
          url: `https://checkout.stripe.test/c/pay/${id}`,
          payment_intent: null,
          metadata: { orderId: params["metadata[orderId]"] },
        });
      }
      if (req.method === "POST" && (match = /^\/v1\/checkout\/sessions\/([^/]+)\/expire$/.exec(path))) {
        calls.push({ action: "expire", id: match[1]!, at: Date.now() });
        return reply(200, { id: match[1], object: "checkout.session", status: "expired" });
      }
      if (req.method === "POST" && path === "/v1/refunds") {
        const id = params.payment_intent ?? "";
        if (intents.get(id) !== "succeeded") {
          return reply(400, {
            error: { type: "invalid_request_error", message: `PaymentIntent ${id} has no captured charge.` },
          });
        }
        if (refunded.has(id)) {
          return reply(400, {
            error: {
              type: "invalid_request_error",
              code: "charge_already_refunded",
              message: `Charge ch_${id} has already been refunded.`,
            },
          });
        }
        refunded.add(id);
        calls.push({ action: "refund", id, at: Date.now() });
        return reply(200, {
          id: `re_${random()}`,
          object: "refund",
          payment_intent: id,
          status: "succeeded",
        });
      }
      if ((match = /^\/v1\/payment_intents\/([^/]+)(\/(capture|cancel))?$/.exec(path))) {
        const id = match[1]!;
        const status = intents.get(id);
        if (!status)
          return reply(404, { error: { type: "invalid_request_error", code: "resource_missing" } });
        const action = match[3] as "capture" | "cancel" | undefined;
        if (!action) return reply(200, intent(id));
        if (status !== "requires_capture") return unexpectedState(res, id, status);
        calls.push({ action, id, at: Date.now() });
        intents.set(id, action === "capture" ? "succeeded" : "canceled");
        return reply(200, intent(id));
      }
      reply(404, { error: { type: "invalid_request_error", message: `no fake for ${req.method} ${path}` } });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    port,
    webhookSecret,
    env: {
      PAYMENTS_PROVIDER: "stripe",
      STRIPE_SECRET_KEY: "sk_test_fake",
      STRIPE_WEBHOOK_SECRET: webhookSecret,
      STRIPE_API_HOST: "127.0.0.1",
      STRIPE_API_PORT: String(port),
      STRIPE_API_PROTOCOL: "http",
    },
    sessions,
    intents,
    calls,
    authorize(sessionId) {
      const session = sessions.get(sessionId);
      if (!session) throw new Error(`no checkout session ${sessionId}`);
      session.paymentIntent ??= `pi_test_${random()}`;
      intents.set(session.paymentIntent, "requires_capture");
      amounts.set(
        session.paymentIntent,
        Number(session.params["line_items[0][price_data][unit_amount]"] ?? 0),
      );
      return session.paymentIntent;
    },
    count(action, id) {
      return calls.filter((c) => c.action === action && c.id === id).length;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A Stripe event as Stripe would post it, signed with the SDK's own test-header helper. */
export function signedEvent(
  secret: string,
  type: string,
  object: Record<string, unknown>,
  id = `evt_${random()}`,
): { id: string; payload: string; signature: string } {
  const payload = JSON.stringify({
    id,
    object: "event",
    api_version: "2025-01-01",
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
    data: { object },
  });
  return { id, payload, signature: Stripe.webhooks.generateTestHeaderString({ payload, secret }) };
}

/** `checkout.session.completed` for a session paid with `paymentIntent` (by default 12.00 USD, the tests' card price). */
export function sessionCompleted(
  secret: string,
  sessionId: string,
  paymentIntent: string,
  orderId: string,
  paid: { amount: number; currency: string } = { amount: 1200, currency: "usd" },
) {
  return signedEvent(secret, "checkout.session.completed", {
    id: sessionId,
    object: "checkout.session",
    mode: "payment",
    status: "complete",
    payment_status: "unpaid",
    payment_intent: paymentIntent,
    amount_total: paid.amount,
    currency: paid.currency,
    client_reference_id: orderId,
    metadata: { orderId },
  });
}

/** Posts a signed Stripe event to the app's webhook route, as Stripe would. */
export function postStripeEvent(app: Express, event: { payload: string; signature: string }): request.Test {
  return request(app)
    .post("/v1/webhooks/stripe")
    .set("content-type", "application/json")
    .set("stripe-signature", event.signature)
    .send(event.payload);
}

/**
 * Pays an order as a buyer would: authorizes its checkout session's card on the fake Stripe and
 * posts the session's completion `times` times (Stripe may deliver twice). Answers the payment intent.
 */
export async function payOrder(
  app: Express,
  stripe: FakeStripe,
  orderId: string,
  times = 1,
): Promise<string> {
  const session = [...stripe.sessions.values()].find((s) => s.params["metadata[orderId]"] === orderId)!;
  const paymentIntent = stripe.authorize(session.id);
  const event = sessionCompleted(stripe.webhookSecret, session.id, paymentIntent, orderId);
  for (let i = 0; i < times; i++) await postStripeEvent(app, event).expect(200);
  return paymentIntent;
}
