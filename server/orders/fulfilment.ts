import type { Queue } from "bullmq";
import { keccak256, toUtf8Bytes } from "ethers";
import type { Pool } from "pg";
import type { Logger } from "pino";
import type { Checkpoint } from "../crash-points.ts";
import type { Outbox } from "../queues/outbox.ts";
import { orderJob, type OrderJob, type Queues } from "../queues/queues.ts";
import type { PaymentProvider } from "../payments/provider.ts";
import { updateOrder, type Order } from "./store.ts";
import type { OrderBatches } from "./batches.ts";
import { movingTo } from "./status.ts";
import type { OrderEvents } from "./events.ts";

/** What the steps of an order's fulfilment share, in the API and in the workers. */
export interface FulfilmentDeps {
  db: Pool;
  /** Order reads and transitions, those made at the same time grouped; the jobs they promise queued on commit. */
  orders: OrderBatches;
  outbox: Outbox;
  payments: PaymentProvider;
  events: OrderEvents;
  queues: Pick<Queues, "fulfillOrder" | "capturePayment" | "revokeLicense">;
  logger: Logger;
  checkpoint: Checkpoint;
}

/** The mintForFiat reference of a checkout session: usable once on chain, so a session mints once, ever. */
export function paymentRefOf(sessionId: string): string {
  return keccak256(toUtf8Bytes(sessionId));
}

/**
 * Adds an order's job of `kind` unless it is waiting, delayed or running. A failed one is retried
 * and a finished one is run again: jobs are idempotent, and a duplicate event must never leave a
 * failed fulfilment without its retry.
 */
export async function enqueueOnce(
  queues: FulfilmentDeps["queues"],
  kind: "fulfil" | "capture",
  orderId: string,
): Promise<void> {
  const queue: Queue<OrderJob> = kind === "fulfil" ? queues.fulfillOrder : queues.capturePayment;
  const { jobId, data } = orderJob(kind, orderId);
  const state = await queue.getJobState(jobId);
  if (state === "failed") {
    await (await queue.getJob(jobId))?.retry("failed");
    return;
  }
  if (state === "completed") await queue.remove(jobId).catch(() => undefined);
  else if (state !== "unknown") return;
  await queue.add(queue.name, data, { jobId });
}

/** Makes sure a paid order's fulfilment (its mint, or the capture once minted) is queued. */
export async function ensureFulfilment(deps: Pick<FulfilmentDeps, "queues">, orderId: string): Promise<void> {
  await enqueueOnce(deps.queues, "fulfil", orderId);
}

const FAILABLE = movingTo("failed");

/**
 * Fails an order for good and releases the buyer's authorization, so nobody is charged for a
 * license they do not hold; with `revoke`, the license it was minted is revoked for that reason
 * (the revocation job is committed with the failure). Safe to repeat: a failed order whose
 * authorization is still held is released again.
 */
export async function failOrder(
  deps: FulfilmentDeps,
  order: Order,
  reason: string,
  revoke?: { reason: string },
): Promise<Order> {
  const failed = await deps.orders.transition(order.id, {
    from: FAILABLE,
    to: "failed",
    set: { failureReason: reason, ...(revoke ? { revokeReason: revoke.reason } : {}) },
    detail: { reason },
    jobs: revoke ? [orderJob("revoke", order.id)] : [],
  });
  if (failed) deps.events.publish(failed.event);
  const current = failed?.order ?? order;
  await releaseAuthorization(deps, current);
  deps.logger.warn({ orderId: order.id, reason }, "order failed");
  return current;
}

/** Cancels a held card authorization of an order that will not be fulfilled. */
export async function releaseAuthorization(deps: FulfilmentDeps, order: Order): Promise<void> {
  if (order.paymentStatus !== "authorized" || !order.paymentIntent) return;
  await deps.payments.cancel(order.paymentIntent, order.id);
  await updateOrder(deps.db, order.id, { paymentStatus: "canceled" });
}
