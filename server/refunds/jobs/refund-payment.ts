import type { Pool } from "pg";
import type { Logger } from "pino";
import { PermanentError } from "../../errors.ts";
import { findOrder } from "../../orders/store.ts";
import { PaymentRejectedError, type PaymentProvider } from "../../payments/provider.ts";
import { findRequest } from "../refund-store.ts";

export interface RefundPaymentDeps {
  db: Pool;
  payments: Pick<PaymentProvider, "refund">;
  logger: Logger;
}

export type RefundPaymentResult = "sent" | "skipped";

/**
 * Refunds the payment of an approved refund request through the provider, under the request's
 * idempotency key: a retried job, or one queued twice, refunds once. The provider's refund webhook
 * does the rest (the order refunded, its license revoked, its code void, the ledger debited, the
 * request closed). A request no longer approved (a chargeback cancelled it, or it is refunded) is skipped.
 */
export async function refundPayment(
  deps: RefundPaymentDeps,
  requestId: string,
): Promise<RefundPaymentResult> {
  const request = await findRequest(deps.db, requestId);
  if (!request) throw new PermanentError(`no refund request ${requestId}`);
  if (request.status !== "approved") return "skipped";
  const order = await findOrder(deps.db, request.orderId);
  if (!order?.paymentIntent) throw new PermanentError(`order ${request.orderId} has no payment to refund`);
  try {
    await deps.payments.refund(order.paymentIntent, request.idempotencyKey);
  } catch (err) {
    if (err instanceof PaymentRejectedError) throw new PermanentError(err.message, { cause: err });
    throw err;
  }
  deps.logger.info({ requestId, orderId: order.id }, "refund sent to the payment provider");
  return "sent";
}
