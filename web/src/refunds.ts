/** Refund requests as the web app uses them: the buyer's, with the order secret, and the creator's decisions. */
import type {
  OrderRefund,
  RefundDecision,
  RefundRequest,
  RefundRequestList,
  RefundWindow,
} from "../../lib/api/refunds.ts";
import { api, query } from "./api.ts";

const withSecret = (orderId: string, secret: string) =>
  `/v1/orders/${orderId}/refund?secret=${encodeURIComponent(secret)}`;

/** The order's refund request (if any) and window. */
export function getOrderRefund(orderId: string, secret: string): Promise<OrderRefund> {
  return api<OrderRefund>(withSecret(orderId, secret));
}

/** Asks for a refund; the decision is mailed to `email` when given. */
export function requestRefund(
  orderId: string,
  secret: string,
  reason: string,
  email: string,
): Promise<RefundRequest> {
  return api<RefundRequest>(withSecret(orderId, secret), {
    method: "POST",
    json: { reason, ...(email.trim() ? { email: email.trim() } : {}) },
  });
}

export function withdrawRefund(orderId: string, secret: string): Promise<RefundRequest> {
  return api<RefundRequest>(withSecret(orderId, secret), { method: "DELETE" });
}

/** Refund requests of the signed-in creator's offers (of one offer when given). */
export function listRefundRequests(offerId?: string): Promise<RefundRequestList> {
  return api<RefundRequestList>(`/v1/refund-requests${query({ offerId })}`);
}

export function decideRefund(requestId: string, decision: RefundDecision): Promise<RefundRequest> {
  return api<RefundRequest>(`/v1/refund-requests/${requestId}/decision`, { method: "POST", json: decision });
}

export function getRefundWindow(offerId: string): Promise<RefundWindow> {
  return api<RefundWindow>(`/v1/offers/${offerId}/refund-window`);
}

export function setRefundWindow(offerId: string, seconds: number): Promise<RefundWindow> {
  return api<RefundWindow>(`/v1/offers/${offerId}/refund-window`, { method: "PUT", json: { seconds } });
}
