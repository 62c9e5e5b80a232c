import { randomUUID } from "node:crypto";
import type { Pool, PoolClient } from "pg";
import type { Logger } from "pino";
import { withTransaction } from "../../lib/transaction.ts";
import type {
  OrderRefund,
  RefundDecision,
  RefundRequest,
  RefundRequestList,
  RefundStatus,
  RefundWindow,
} from "../../lib/api/refunds.ts";
import type { OrderSecrets } from "../auth/order-secrets.ts";
import { checksum } from "../../lib/address.ts";
import { AppError, notFound } from "../errors.ts";
import type { OrderEvents } from "../orders/events.ts";
import { findOrder, lockOrder, transition, type Order, type OrderEvent } from "../orders/store.ts";
import type { Outbox, OutboxJob } from "../queues/outbox.ts";
import { refundPaymentJob } from "../queues/queues.ts";
import { recordMail } from "../mail/mails.ts";
import {
  creatorOfOffer,
  findRequest,
  insertRequest,
  listRequests,
  lockOpenRequestOfOrder,
  lockRequest,
  moveRequest,
  refundWindowOf,
  refundWindowStart,
  requestOfOrder,
  setRefundWindow,
  type RefundRequestRecord,
  type RequestChange,
} from "./refund-store.ts";

/** Who asks about an order: a signed-in wallet (lower case), whether it is an admin, and the order secret given. */
export interface RefundCaller {
  wallet: string | null;
  admin: boolean;
  secret: string | undefined;
}

export interface RefundsServiceDeps {
  db: Pool;
  outbox: Outbox;
  events: OrderEvents;
  secrets: OrderSecrets;
  /** The chain's clock: an order's window counts from its sale's booking, dated by it. */
  clock: { nowSeconds(): Promise<number> };
  /** REFUND_WINDOW_SECONDS: the window of offers whose creator set none, and the longest one may set. */
  platformWindowSeconds: number;
  logger: Logger;
}

export function toRefundView(r: RefundRequestRecord): RefundRequest {
  return {
    requestId: r.id,
    orderId: r.orderId,
    offerId: r.offerId,
    status: r.status,
    reason: r.reason,
    amount: r.amount,
    currency: r.currency,
    decision:
      r.decidedAt && r.decidedBy && r.decisionReason !== null
        ? {
            approved: r.status === "approved" || r.status === "refunded",
            reason: r.decisionReason,
            by: checksum(r.decidedBy)!,
            at: r.decidedAt.toISOString(),
          }
        : null,
    refundedAt: r.refundedAt?.toISOString() ?? null,
    requestedAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

/** What a request's step adds to its order's history, so the order's event stream carries it. */
function stepOf(r: RefundRequestRecord, reason: string | null): Record<string, unknown> {
  return { refund: { requestId: r.id, status: r.status, ...(reason === null ? {} : { reason }) } };
}

/**
 * Refund requests of card orders. A buyer asks with a reason within the offer's refund window, once
 * per order; the offer's creator or an admin approves or declines with a reason. An approval
 * records the provider's refund as a job in the same commit, under the request's idempotency key,
 * so approving twice, at once, or a retried job refunds once; the provider's refund webhook then
 * refunds the order (license revoked, code void, ledger debited) and closes the request. Every step
 * is an event of the order, streamed to its buyer; the decision is mailed (`refund-decision`) to the
 * address the buyer gave with the request.
 */
export class RefundsService {
  constructor(private readonly deps: RefundsServiceDeps) {}

  /** The order, if `caller` is its buyer (its wallet's session, or its secret): 404 for anyone else. */
  async #buyersOrder(orderId: string, caller: RefundCaller, admins: boolean): Promise<Order> {
    const order = await findOrder(this.deps.db, orderId);
    const allowed =
      order !== null &&
      ((admins && caller.admin) ||
        (caller.wallet !== null && caller.wallet === order.wallet) ||
        this.deps.secrets.matches(orderId, caller.secret));
    if (!allowed) throw notFound("order", { orderId });
    return order;
  }

  async #windowSeconds(offerId: string): Promise<number> {
    const set = await refundWindowOf(this.deps.db, offerId);
    return Math.min(set ?? this.deps.platformWindowSeconds, this.deps.platformWindowSeconds);
  }

  async #window(order: Order): Promise<OrderRefund["window"]> {
    const seconds = await this.#windowSeconds(order.offerId);
    const start = await refundWindowStart(this.deps.db, order.id);
    if (!start) return { seconds, closesAt: null, open: seconds > 0 };
    const closesAt = new Date(start.getTime() + seconds * 1000);
    const now = (await this.deps.clock.nowSeconds()) * 1000;
    return { seconds, closesAt: closesAt.toISOString(), open: now < closesAt.getTime() };
  }

  /** The order's request and window, for its buyer (or an admin). */
  async ofOrder(orderId: string, caller: RefundCaller): Promise<OrderRefund> {
    const order = await this.#buyersOrder(orderId, caller, true);
    const request = await requestOfOrder(this.deps.db, orderId);
    const window = await this.#window(order);
    const open = request !== null && request.status !== "cancelled";
    return {
      request: request ? toRefundView(request) : null,
      window,
      refundable: window.open && !open && refundable(order),
    };
  }

  /** The buyer asks for a refund: 404 another's order, 409 not refundable or already asked, 403 past the window. */
  async request(
    orderId: string,
    caller: RefundCaller,
    input: { reason: string; email?: string | undefined },
  ): Promise<RefundRequest> {
    const { reason } = input;
    const order = await this.#buyersOrder(orderId, caller, false);
    if (!refundable(order)) throw notRefundable(order);
    const window = await this.#window(order);
    if (!window.open) {
      throw new AppError(
        "REFUND_WINDOW_CLOSED",
        403,
        window.seconds === 0
          ? "this offer's licenses are not refunded on request"
          : `the refund window of this order closed at ${window.closesAt}`,
        { closesAt: window.closesAt, windowSeconds: window.seconds },
      );
    }
    const { request, jobs, event } = await withTransaction(this.deps.db, async (client) => {
      const current = await lockOrder(client, orderId);
      if (!current || !refundable(current)) throw notRefundable(current ?? order);
      const inserted = await insertRequest(client, {
        id: randomUUID(),
        orderId,
        offerId: current.offerId,
        reason,
        email: input.email ?? current.email,
      });
      if (!inserted) {
        throw new AppError("REFUND_ALREADY_REQUESTED", 409, "this order already has a refund request", {
          orderId,
        });
      }
      return { request: inserted, ...(await this.#step(client, current, inserted, reason)) };
    });
    await this.#announce(jobs, event);
    this.deps.logger.info({ orderId, requestId: request.id }, "refund requested");
    return toRefundView(request);
  }

  /** The buyer withdraws an open request that is not decided yet. */
  async withdraw(orderId: string, caller: RefundCaller): Promise<RefundRequest> {
    await this.#buyersOrder(orderId, caller, false);
    const { moved, jobs, event } = await withTransaction(this.deps.db, async (client) => {
      const order = (await lockOrder(client, orderId))!;
      const open = await lockOpenRequestOfOrder(client, orderId);
      if (!open) throw notFound("refund request", { orderId });
      const cancelled = await moveRequest(client, open.id, "cancelled");
      if (!cancelled) throw alreadyDecided(open.status);
      return { moved: cancelled, ...(await this.#step(client, order, cancelled, "withdrawn by the buyer")) };
    });
    await this.#announce(jobs, event);
    return toRefundView(moved);
  }

  /**
   * The offer's creator (or an admin) decides: 404 unknown request, 403 another creator's offer, 409
   * decided already. An approval records the provider's refund job in the same commit.
   */
  async decide(
    requestId: string,
    caller: { wallet: string; admin: boolean },
    decision: RefundDecision,
  ): Promise<RefundRequest> {
    const found = await findRequest(this.deps.db, requestId);
    if (!found) throw notFound("refund request", { requestId });
    await this.#assertDecider(found.offerId, caller);
    const approve = decision.decision === "approve";
    const to: RefundStatus = approve ? "approved" : "declined";
    const { moved, jobs, event } = await withTransaction(this.deps.db, async (client) => {
      // The order first, as every writer of an order and its request locks them.
      const order = (await lockOrder(client, found.orderId))!;
      const current = (await lockRequest(client, requestId))!;
      if (current.status !== "requested") throw alreadyDecided(current.status);
      const change: RequestChange = {
        decisionReason: decision.reason,
        decidedBy: caller.wallet,
        decided: true,
      };
      const decided = (await moveRequest(client, requestId, to, change))!;
      const step = await this.#step(client, order, decided, decision.reason, approve ? [requestId] : []);
      const mail = decided.email
        ? await recordMail(client, {
            key: `refund-decision:${requestId}`,
            to: decided.email,
            template: "refund-decision",
            data: {
              orderId: decided.orderId,
              offerId: decided.offerId,
              approved: approve,
              reason: decision.reason,
              requestReason: decided.reason,
              amount: String(decided.amount),
              currency: decided.currency,
              decidedAt: decided.decidedAt!.toISOString(),
            },
          })
        : [];
      return { moved: decided, jobs: [...step.jobs, ...mail], event: step.event };
    });
    await this.#announce(jobs, event);
    this.deps.logger.info({ requestId, orderId: moved.orderId, decision: to }, "refund request decided");
    return toRefundView(moved);
  }

  /** Refund requests of the caller's offers (every offer's for an admin), newest first. */
  async list(
    caller: { wallet: string; admin: boolean },
    filter: { offerId?: string; status?: RefundStatus },
  ): Promise<RefundRequestList> {
    if (filter.offerId) await this.#assertDecider(filter.offerId, caller);
    const requests = await listRequests(this.deps.db, {
      creator: caller.admin ? null : caller.wallet,
      ...filter,
      limit: 200,
    });
    return { requests: requests.map(toRefundView) };
  }

  /**
   * Closes the open request of an order whose payment the provider refunded or a bank charged back:
   * refunded, or cancelled by the chargeback. Idempotent: a replayed webhook finds nothing open.
   */
  async paymentReversed(orderId: string, kind: "refunded" | "disputed"): Promise<void> {
    const { jobs, event } = await withTransaction(this.deps.db, async (client) => {
      const order = await lockOrder(client, orderId);
      const open = order && (await lockOpenRequestOfOrder(client, orderId));
      if (!order || !open) return { jobs: [], event: null };
      const moved =
        kind === "refunded"
          ? await moveRequest(client, open.id, "refunded", { refunded: true })
          : await moveRequest(client, open.id, "cancelled");
      if (!moved) return { jobs: [], event: null };
      return this.#step(client, order, moved, kind === "refunded" ? null : "the payment was charged back");
    });
    await this.#announce(jobs, event);
  }

  /** The offer's refund window (anyone may read it: buyers see it before paying). */
  async window(offerId: string): Promise<RefundWindow> {
    const set = await refundWindowOf(this.deps.db, offerId);
    if (set === undefined) throw notCardOffer(offerId);
    const platform = this.deps.platformWindowSeconds;
    return {
      offerId,
      seconds: Math.min(set ?? platform, platform),
      platformDefault: set === null,
      platformSeconds: platform,
    };
  }

  /** The offer's creator sets its refund window, at most the platform's. */
  async setWindow(offerId: string, caller: string, seconds: number): Promise<RefundWindow> {
    await this.#assertDecider(offerId, { wallet: caller, admin: false });
    const platform = this.deps.platformWindowSeconds;
    if (seconds > platform) {
      throw new AppError(
        "REFUND_WINDOW_TOO_LONG",
        400,
        `an offer's refund window is at most the platform's, ${platform} seconds: card revenue is paid out once it passes`,
        { maximum: platform },
      );
    }
    if (!(await setRefundWindow(this.deps.db, offerId, seconds))) throw notCardOffer(offerId);
    return this.window(offerId);
  }

  async #assertDecider(offerId: string, caller: { wallet: string; admin: boolean }): Promise<void> {
    const creator = await creatorOfOffer(this.deps.db, offerId);
    if (creator === null) throw notFound("offer", { offerId });
    if (!caller.admin && creator !== caller.wallet) {
      throw new AppError("NOT_OFFER_CREATOR", 403, `offer ${offerId} belongs to another creator`);
    }
  }

  /** Records the request's step as an event of its order (the order keeps its status), with the jobs it calls for. */
  async #step(
    client: PoolClient,
    order: Order,
    request: RefundRequestRecord,
    reason: string | null,
    refunds: string[] = [],
  ): Promise<{ jobs: OutboxJob[]; event: OrderEvent | null }> {
    const moved = await transition(client, order.id, {
      from: [order.status],
      to: order.status,
      detail: stepOf(request, reason),
      jobs: refunds.map((id) => refundPaymentJob(id)),
    });
    return { jobs: moved?.jobs ?? [], event: moved?.event ?? null };
  }

  async #announce(jobs: OutboxJob[], event: OrderEvent | null): Promise<void> {
    await this.deps.outbox.deliver(jobs);
    if (event) this.deps.events.publish(event);
  }
}

/** A refund can be asked for a card order that was paid and captured: its license delivered, or held for a claim. */
function refundable(order: Order): boolean {
  return (order.status === "fulfilled" || order.status === "held") && order.paymentStatus === "captured";
}

function notRefundable(order: Order): AppError {
  const message =
    order.status === "refunded" || order.status === "disputed"
      ? `this order was ${order.status} already`
      : "only a paid order whose license was delivered or is held for its buyer can be refunded";
  return new AppError("ORDER_NOT_REFUNDABLE", 409, message, { status: order.status });
}

function alreadyDecided(status: RefundStatus): AppError {
  return new AppError("REFUND_ALREADY_DECIDED", 409, `this refund request is ${status} already`, { status });
}

function notCardOffer(offerId: string): AppError {
  return new AppError(
    "NO_CARD_PRICE",
    409,
    `offer ${offerId} is not sold by card; only card sales are refunded`,
  );
}
