/** A buyer's orders: their history, lookup by email and order secret, and claims of held licenses. */
import type { BuyerOrdersPage, Order, OrderLookup } from "../../lib/api/orders.ts";
import { api, query } from "./api.ts";

/** The signed-in wallet's purchases, card and on chain, newest first. */
export function buyerOrders(cursor: string | null, signal?: AbortSignal): Promise<BuyerOrdersPage> {
  return api<BuyerOrdersPage>(`/v1/orders${query({ limit: 20, cursor })}`, { signal });
}

/** A card order found again by the email given at checkout and its order secret. */
export function lookupOrder(email: string, secret: string): Promise<OrderLookup> {
  return api<OrderLookup>("/v1/orders/lookup", { json: { email, secret } });
}

/** Claims the license held by a claim link's token for the signed-in wallet. */
export function claimLicense(token: string): Promise<Order> {
  return api<Order>("/v1/claims", { json: { token } });
}

/** Has a new claim link mailed for a held license whose link expired unused. */
export function mailNewClaimLink(orderId: string, secret: string): Promise<{ expiresAt: string }> {
  return api<{ expiresAt: string }>(`/v1/orders/${orderId}/claim-link${query({ secret })}`, {
    method: "POST",
  });
}
