import { Router, type Response } from "express";
import type { OrderSecrets } from "../auth/order-secrets.ts";
import type { DevPaymentProvider, DevSession } from "../payments/dev.ts";
import { PaymentRejectedError } from "../payments/provider.ts";

const SESSION = /^cs_dev_[0-9a-f]{24}$/;

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function money(amount: number, currency: string): string {
  const format = new Intl.NumberFormat("en", { style: "currency", currency: currency.toUpperCase() });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(amount / 10 ** digits);
}

function page(res: Response, status: number, title: string, body: string): void {
  res
    .status(status)
    .type("html")
    .send(
      `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)} — Rights Ledger</title>
<style>
  body { font: 1rem/1.5 system-ui, sans-serif; margin: 0; padding: 2rem 1rem; color: #1a1a1a; background: #f6f6f4; }
  main { max-width: 32rem; margin: 0 auto; background: #fff; padding: 1.5rem 2rem; border-radius: 8px; }
  dt { font-weight: 600; } dd { margin: 0 0 .75rem; overflow-wrap: anywhere; }
  button { font: inherit; padding: .6rem 1.4rem; border: 0; border-radius: 6px; background: #1f4fd1; color: #fff; cursor: pointer; }
  button:focus-visible { outline: 3px solid #f0b400; outline-offset: 2px; }
  .secondary { background: #5a5a5a; }
  .note { color: #4a4a4a; font-size: .9rem; }
</style>
</head>
<body><main>${body}</main></body>
</html>`,
    );
}

function checkoutPage(res: Response, session: DevSession, secret: string): void {
  const price = money(session.amount, session.currency);
  const payable = session.orderStatus === "created";
  const refundable = session.paymentStatus === "succeeded" && !session.refunded && session.dispute === null;
  const action = (path: string, label: string) =>
    `<form method="post" action="/dev/checkout/${escape(session.sessionId)}/${path}"><button type="submit" class="secondary">${label}</button></form>`;
  page(
    res,
    200,
    "Test checkout",
    `<h1>Test checkout</h1>
<p class="note">This page stands in for Stripe Checkout (payments provider <code>dev</code>). No card is charged.</p>
<dl>
  <dt>Order</dt><dd>${escape(session.orderId)}</dd>
  <dt>License offer</dt><dd>#${escape(session.offerId)}</dd>
  <dt>Amount</dt><dd>${escape(price)}</dd>
</dl>
<p id="status" role="status" aria-live="polite" data-order="${escape(session.orderId)}" data-secret="${escape(secret)}">Order status: ${escape(session.orderStatus)}</p>
${
  payable
    ? `<form method="post" action="/dev/checkout/${escape(session.sessionId)}/pay"><button type="submit">Pay ${escape(price)}</button></form>`
    : ""
}
${refundable ? action("refund", `Refund ${escape(price)}`) + action("dispute", "Open a chargeback") : ""}
${session.dispute === "open" ? action("dispute/won", "Chargeback won") + action("dispute/lost", "Chargeback lost") : ""}
${session.dispute ? `<p class="note">Chargeback: ${escape(session.dispute)}</p>` : ""}
<script src="/dev/checkout/status.js" defer></script>`,
  );
}

/** Follows the order's server-sent events and keeps the status line current. */
const STATUS_SCRIPT = `(() => {
  const line = document.getElementById("status");
  if (!line || !window.EventSource) return;
  const source = new EventSource(
    "/v1/orders/" + encodeURIComponent(line.dataset.order) + "/events?secret=" + encodeURIComponent(line.dataset.secret),
  );
  source.addEventListener("status", (event) => {
    const update = JSON.parse(event.data);
    const reason = update.order && update.order.failureReason ? " (" + update.order.failureReason + ")" : "";
    line.textContent = "Order status: " + update.status + reason;
    if (update.status !== "created") document.querySelectorAll("form[action$='/pay']").forEach((f) => f.remove());
  });
})();
`;

/** The local checkout page of PAYMENTS_PROVIDER=dev: pay (and refund) without Stripe. */
export function devCheckoutRouter(provider: DevPaymentProvider, secrets: OrderSecrets): Router {
  const router = Router();

  router.get("/dev/checkout/status.js", (_req, res) => {
    res.type("application/javascript").send(STATUS_SCRIPT);
  });

  const withSession = async (sessionId: string | undefined, res: Response): Promise<DevSession | null> => {
    const session = sessionId && SESSION.test(sessionId) ? await provider.session(sessionId) : null;
    if (!session)
      page(
        res,
        404,
        "Checkout not found",
        "<h1>Checkout not found</h1><p>No order has this checkout session.</p>",
      );
    return session;
  };

  router.get("/dev/checkout/:sessionId", async (req, res) => {
    const session = await withSession(req.params.sessionId, res);
    if (session) checkoutPage(res, session, secrets.of(session.orderId));
  });

  router.post("/dev/checkout/:sessionId/pay", async (req, res) => {
    const session = await withSession(req.params.sessionId, res);
    if (!session) return;
    if (session.orderStatus !== "created") {
      page(
        res,
        409,
        "Not payable",
        `<h1>Not payable</h1><p>This order is ${escape(session.orderStatus)}.</p>`,
      );
      return;
    }
    await provider.pay(session);
    res.redirect(303, `/dev/checkout/${session.sessionId}`);
  });

  /** Runs a provider action on a captured payment, or answers 409 with why it does not apply. */
  const onPayment = (path: string, act: (session: DevSession) => Promise<void>) =>
    router.post(`/dev/checkout/:sessionId/${path}`, async (req, res) => {
      const session = await withSession(req.params.sessionId, res);
      if (!session) return;
      try {
        await act(session);
      } catch (err) {
        if (!(err instanceof PaymentRejectedError)) throw err;
        page(res, 409, "Not possible", `<h1>Not possible</h1><p>${escape(err.message)}.</p>`);
        return;
      }
      res.redirect(303, `/dev/checkout/${session.sessionId}`);
    });
  onPayment("refund", (session) => provider.refundSession(session));
  onPayment("dispute", (session) => provider.dispute(session));
  onPayment("dispute/won", (session) => provider.closeDispute(session, true));
  onPayment("dispute/lost", (session) => provider.closeDispute(session, false));

  return router;
}
