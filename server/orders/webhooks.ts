import { withTransaction } from "../../lib/transaction.ts";
import type { Logger } from "pino";
import { Batcher } from "../../lib/batcher.ts";
import { AppError } from "../errors.ts";
import { WebhookSignatureError, type Money, type PaymentEvent } from "../payments/provider.ts";
import {
  findOrder,
  findOrderByPaymentIntent,
  findOrderBySession,
  lockOrder,
  transition,
  type Order,
} from "./store.ts";
import { lockFiatPrice, stockOf, available } from "../repositories/offer-stock.ts";
import { hasStock, holdCode } from "../codes/code-store.ts";
import type { OrderStatus, PaymentStatus } from "./status.ts";
import {
  claimEvent,
  markProcessed,
  recordCheckoutPayments,
  releaseEvent,
  type CheckoutPayment,
  type PaymentOutcome,
} from "./webhook-events.ts";
import { bookingJob, orderJob } from "../queues/queues.ts";
import { ensureFulfilment, type FulfilmentDeps } from "./fulfilment.ts";

/** Closes a refund request whose order's payment went back to its buyer (refunds/refunds.ts). */
export interface PaymentReversals {
  /** Idempotent: a replayed event finds nothing left to close. */
  paymentReversed(orderId: string, kind: "refunded" | "disputed"): Promise<void>;
}

export interface WebhookDeps extends FulfilmentDeps {
  refunds: PaymentReversals;
}

export interface WebhookResult {
  received: true;
  eventId: string;
  duplicate: boolean;
}

/** A paid order whose mint or capture is not done, or a failed one whose authorization is still held. */
function awaitsFulfilment(order: { status: OrderStatus; paymentStatus: PaymentStatus }): boolean {
  return (
    order.status === "paid" ||
    order.status === "minting" ||
    (order.status === "failed" && order.paymentStatus === "authorized")
  );
}

/** Most webhooks recorded together. */
const MAX_GROUP = 200;

/** An event still unprocessed this long after it arrived was abandoned half-way, not in progress. */
const UNFINISHED_AFTER_SECONDS = 30;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MISMATCH = "the payment's amount or currency does not match the order";

/** Whether a payment event is for exactly the order's price. */
function sameMoney(order: { amount: number; currency: string }, paid: Money): boolean {
  return paid.amount === order.amount && paid.currency === order.currency;
}

const LAPSED_AND_SOLD_OUT = "the reservation lapsed before payment and the offer sold out meanwhile";

/** A payment's outcome, and the queueing of the jobs its commit promised (which never rejects). */
type RecordedPayment = PaymentOutcome & { queued: Promise<void> };

/**
 * Payment webhooks: verified, recorded by event id, applied, answered fast. Slow work (minting,
 * capturing, revoking) is recorded in the outbox with the change that calls for it, with job ids
 * derived from the order so duplicates collapse, and queued right after the commit (or by the
 * workers' relay if this process dies first). A replayed `checkout.session.completed` still
 * re-queues the order's fulfilment while it is not done: recording an event as seen never stops a
 * failed fulfilment from being retried.
 */
export class WebhookService {
  /**
   * Payments arriving together, recorded with their fulfilment jobs in one statement (another
   * event for the same order waits for the next). A group's jobs are queued while the next group
   * is recorded.
   */
  readonly #payments: Batcher<CheckoutPayment, RecordedPayment>;
  /** Payments being recorded, by event id: a delivery of one already on its way shares its outcome. */
  readonly #recording = new Map<string, Promise<RecordedPayment>>();

  constructor(private readonly deps: WebhookDeps) {
    this.#payments = new Batcher(
      MAX_GROUP,
      async (payments) => {
        deps.checkpoint("webhook:before-commit");
        const outcomes = await recordCheckoutPayments(deps.db, payments, UNFINISHED_AFTER_SECONDS);
        deps.checkpoint("webhook:after-commit");
        const queued = deps.outbox.deliver(outcomes.flatMap((o) => o.paid?.jobs ?? []));
        return outcomes.map((outcome) => ({ ...outcome, queued }));
      },
      (payment) => payment.orderId,
    );
  }

  /** Records a payment, or shares the outcome of the same event's delivery being recorded now. */
  async #recordPayment(payment: CheckoutPayment): Promise<{ outcome: RecordedPayment; shared: boolean }> {
    const earlier = this.#recording.get(payment.eventId);
    if (earlier) {
      // A delivery that paid the order answers this one; one that did not leaves it its own way.
      const outcome = await earlier.catch(() => null);
      if (outcome?.paid) return { outcome, shared: true };
    }
    const recording = this.#payments.call(payment);
    this.#recording.set(payment.eventId, recording);
    try {
      return { outcome: await recording, shared: false };
    } finally {
      if (this.#recording.get(payment.eventId) === recording) this.#recording.delete(payment.eventId);
    }
  }

  async receive(rawBody: Buffer, signature: string | undefined, log: Logger): Promise<WebhookResult> {
    let event: PaymentEvent;
    try {
      event = this.deps.payments.parseWebhook(rawBody, signature);
    } catch (err) {
      if (!(err instanceof WebhookSignatureError)) throw err;
      log.warn({ err: err.message }, "refused a webhook with a bad signature");
      throw new AppError("INVALID_SIGNATURE", 400, `webhook signature verification failed: ${err.message}`);
    }
    const { db } = this.deps;
    let claimed: boolean | null = null;
    if (event.kind === "checkout.completed" && event.orderId && UUID.test(event.orderId)) {
      // The usual payment takes one statement; anything unusual goes the general way below.
      const { outcome, shared } = await this.#recordPayment({
        eventId: event.id,
        eventType: event.stripeType,
        orderId: event.orderId,
        sessionId: event.sessionId,
        paymentIntent: event.paymentIntent,
        amount: event.amount,
        currency: event.currency,
      });
      if (outcome.paid) {
        if (!shared) this.deps.events.publish(outcome.paid.event);
        await outcome.queued;
        return { received: true, eventId: event.id, duplicate: shared || !outcome.fresh };
      }
      if (outcome.fresh) claimed = true;
      else if (!outcome.abandoned) {
        if (outcome.previous && awaitsFulfilment(outcome.previous))
          await ensureFulfilment(this.deps, event.orderId);
        return { received: true, eventId: event.id, duplicate: true };
      }
    }
    claimed ??= await claimEvent(db, event.id, event.stripeType, UNFINISHED_AFTER_SECONDS);
    if (!claimed) {
      if (event.kind === "checkout.completed") await this.#resume(event.sessionId);
      return { received: true, eventId: event.id, duplicate: true };
    }
    try {
      await this.#apply(event, log);
    } catch (err) {
      await releaseEvent(db, event.id);
      throw err;
    }
    await markProcessed(db, event.id);
    return { received: true, eventId: event.id, duplicate: false };
  }

  async #apply(event: PaymentEvent, log: Logger): Promise<void> {
    switch (event.kind) {
      case "checkout.completed": {
        const order =
          (event.orderId && UUID.test(event.orderId) ? await findOrder(this.deps.db, event.orderId) : null) ??
          (await findOrderBySession(this.deps.db, event.sessionId));
        if (!order || order.sessionId !== event.sessionId) {
          log.warn({ sessionId: event.sessionId }, "payment for a checkout session with no order");
          return;
        }
        if (!sameMoney(order, event)) {
          await this.#flagMismatch(order, event, log);
          return;
        }
        const { order: paid, moved } = await this.#markPaid(order, event.paymentIntent);
        // A payment recorded just now queued its own fulfilment; an earlier one may need it again.
        if (!moved && awaitsFulfilment(paid)) await ensureFulfilment(this.deps, paid.id);
        return;
      }
      case "checkout.expired": {
        const order = await findOrderBySession(this.deps.db, event.sessionId);
        if (!order) return;
        const expired = await this.deps.orders.transition(order.id, {
          from: ["created"],
          to: "expired",
          detail: { reason: "checkout session expired" },
        });
        if (expired) this.deps.events.publish(expired.event);
        return;
      }
      case "refunded":
      case "disputed": {
        const order = await findOrderByPaymentIntent(this.deps.db, event.paymentIntent);
        if (!order) return;
        if (!sameMoney(order, event)) {
          // Money moved back that is not this order's: a person must look before a license is taken.
          log.error(
            {
              orderId: order.id,
              kind: event.kind,
              event: { amount: event.amount, currency: event.currency },
            },
            "flagged: a refund or dispute whose amount or currency does not match its order",
          );
          return;
        }
        const reason = event.kind === "refunded" ? "refunded" : `chargeback: ${event.reason}`;
        const booking = bookingJob(order.id, event.kind === "refunded" ? "refund" : "chargeback");
        // A license still held for a buyer's email was never minted: nothing to revoke, and its claim ends.
        const unclaimed = await this.deps.orders.transition(order.id, {
          from: ["held"],
          to: event.kind,
          set: event.kind === "disputed" ? { disputeFee: event.fee } : {},
          detail: { reason },
          jobs: [booking],
        });
        if (unclaimed) {
          this.deps.events.publish(unclaimed.event);
          await this.deps.refunds.paymentReversed(order.id, event.kind);
          return;
        }
        const moved = await this.deps.orders.transition(order.id, {
          // An authorization released on a failed order also reports a refund; there is no license to take back.
          from: ["minting", "fulfilled"],
          to: event.kind,
          set: { revokeReason: reason, ...(event.kind === "disputed" ? { disputeFee: event.fee } : {}) },
          detail: { reason },
          jobs: [orderJob("revoke", order.id), booking],
        });
        if (moved) this.deps.events.publish(moved.event);
        else {
          log.info(
            { orderId: order.id, status: order.status, kind: event.kind },
            "payment event left the order as is",
          );
        }
        // Its refund request closes with it; again on a replay, should the first delivery have stopped in between.
        if (moved || order.status === event.kind)
          await this.deps.refunds.paymentReversed(order.id, event.kind);
        return;
      }
      case "dispute.closed": {
        const order = await findOrderByPaymentIntent(this.deps.db, event.paymentIntent);
        if (!order) return;
        // A won chargeback brings the money back (booked again for the payees); the license stays revoked.
        const closed = await this.deps.orders.transition(order.id, {
          from: ["disputed"],
          to: "disputed",
          set: { disputeOutcome: event.won ? "won" : "lost" },
          detail: { reason: event.won ? "chargeback won" : "chargeback lost" },
          jobs: event.won ? [bookingJob(order.id, "chargeback_won")] : [],
        });
        if (closed) {
          this.deps.events.publish(closed.event);
          return;
        }
        if (order.status === "held" || order.status === "minting" || order.status === "fulfilled") {
          // Its dispute's opening has not arrived yet: refused, so the provider sends this again later.
          throw new AppError(
            "DISPUTE_NOT_OPEN",
            409,
            "the dispute this event closes has not been received yet",
            {
              orderId: order.id,
            },
          );
        }
        log.info({ orderId: order.id, status: order.status }, "a closed dispute for an order not disputed");
        return;
      }
      case "ignored":
        return;
    }
  }

  /**
   * A payment that is not the order's price: the order fails (its fulfilment job releases the
   * authorization, nothing is minted) and is flagged for a person to look at.
   */
  async #flagMismatch(order: Order, event: { paymentIntent: string } & Money, log: Logger): Promise<void> {
    const paid = { amount: event.amount, currency: event.currency };
    log.error(
      { orderId: order.id, paid, expected: { amount: order.amount, currency: order.currency } },
      "flagged: a payment whose amount or currency does not match its order",
    );
    const moved = await this.deps.orders.transition(order.id, {
      from: ["created", "expired"],
      to: "failed",
      set: { paymentIntent: event.paymentIntent, paymentStatus: "authorized", failureReason: MISMATCH },
      detail: { reason: MISMATCH, flagged: true, paid },
      jobs: [orderJob("fulfil", order.id)],
    });
    if (moved) this.deps.events.publish(moved.event);
  }

  /** Re-queues fulfilment of an order that is paid but not done yet. */
  async #resume(sessionId: string): Promise<void> {
    const order = await findOrderBySession(this.deps.db, sessionId);
    if (order && awaitsFulfilment(order)) await ensureFulfilment(this.deps, order.id);
  }

  /**
   * Records the authorization, with the fulfilment job that mints the license (or, for an order
   * that fails, releases the authorization). An order whose reservation lapsed (expired, or about
   * to be) is kept only if a unit is still free; otherwise it fails.
   */
  async #markPaid(order: Order, paymentIntent: string): Promise<{ order: Order; moved: boolean }> {
    // The usual case, a payment within the reservation, needs no lock on the offer.
    const result =
      (await this.deps.orders.transition(order.id, {
        from: ["created"],
        to: "paid",
        set: { paymentIntent, paymentStatus: "authorized" },
        detail: { paymentIntent },
        whileReserved: true,
        jobs: [orderJob("fulfil", order.id)],
      })) ?? (await this.#markPaidLate(order, paymentIntent));
    if (result) {
      this.deps.events.publish(result.event);
      return { order: result.order, moved: true };
    }
    return { order: (await findOrder(this.deps.db, order.id)) ?? order, moved: false };
  }

  /** Under the offer's lock: a lapsed reservation is honoured only if a unit (and a code, if it sells codes) is still free. */
  async #markPaidLate(order: Order, paymentIntent: string) {
    const moved = await withTransaction(this.deps.db, async (client) => {
      await lockFiatPrice(client, order.offerId);
      const current = await lockOrder(client, order.id);
      if (!current || (current.status !== "created" && current.status !== "expired")) return null;
      const { rows } = await client.query<{ live: boolean }>(
        `SELECT status = 'created' AND reserved_until > now() AS live FROM orders WHERE id = $1`,
        [order.id],
      );
      let keep = rows[0]!.live;
      if (!keep) {
        const stock = await stockOf(
          client,
          current.offerId,
          current.wallet ?? `email:${current.email}`,
          current.ip,
        );
        keep = stock !== null && stock.active && available(stock) !== 0;
      }
      // The order's code may have gone to another checkout once its hold lapsed: it needs one again.
      if (keep && (await hasStock(client, current.offerId)))
        keep = await holdCode(client, current.offerId, order.id);
      return transition(client, order.id, {
        from: ["created", "expired"],
        to: keep ? "paid" : "failed",
        set: {
          paymentIntent,
          paymentStatus: "authorized",
          ...(keep ? {} : { failureReason: LAPSED_AND_SOLD_OUT }),
        },
        detail: keep ? { paymentIntent } : { reason: LAPSED_AND_SOLD_OUT },
        jobs: [orderJob("fulfil", order.id)],
      });
    });
    if (moved) await this.deps.outbox.deliver(moved.jobs);
    return moved;
  }
}
