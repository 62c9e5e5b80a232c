/** Redemption codes, coupons and sale windows as the web app uses them. */
import type { CodeStock, CodeUploadRequest, CodeUploadResult, OrderCode } from "../../lib/api/codes.ts";
import type { Coupon, CreateCoupon, CreateSale, Sale } from "../../lib/api/promotions.ts";
import { api, ApiError } from "./api.ts";

/** The code of a card order, or null when its offer sells no codes. */
export async function getOrderCode(id: string, secret: string): Promise<OrderCode | null> {
  try {
    return await api<OrderCode>(`/v1/orders/${id}/code?secret=${encodeURIComponent(secret)}`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}

/** An offer's code stock, for its creator (signed in). */
export function getCodeStock(offerId: string): Promise<CodeStock> {
  return api<CodeStock>(`/v1/offers/${offerId}/codes`);
}

export function uploadCodes(offerId: string, upload: CodeUploadRequest): Promise<CodeUploadResult> {
  return api<CodeUploadResult>(`/v1/offers/${offerId}/codes`, { method: "POST", json: upload });
}

export function listCoupons(): Promise<{ items: Coupon[] }> {
  return api<{ items: Coupon[] }>("/v1/coupons");
}

export function createCoupon(coupon: Omit<CreateCoupon, "code"> & { code: string }): Promise<Coupon> {
  return api<Coupon>("/v1/coupons", { method: "POST", json: coupon });
}

/** An offer's sale windows on now or still to come. */
export function listSales(offerId: string): Promise<{ items: Sale[] }> {
  return api<{ items: Sale[] }>(`/v1/offers/${offerId}/sales`);
}

export function createSale(offerId: string, sale: CreateSale): Promise<Sale> {
  return api<Sale>(`/v1/offers/${offerId}/sales`, { method: "POST", json: sale });
}

/** Ends a sale now, or removes one still to come. */
export function endSale(offerId: string, saleId: string): Promise<Sale> {
  return api<Sale>(`/v1/offers/${offerId}/sales/${saleId}`, { method: "DELETE" });
}
