/**
 * The receipt of a card order whose payment was captured: what was bought, for how much, when, and
 * the payment's references. The same facts make the PDF a buyer downloads and the one mailed to them.
 */
import { z } from "zod";
import type { Queryable } from "../../lib/transaction.ts";

export const receiptSchema = z.object({
  orderId: z.string(),
  /** When the buyer paid (the authorization the capture took). */
  paidAt: z.string(),
  offerId: z.string(),
  workId: z.string().nullable(),
  /** The work's title, null when its metadata is not known. */
  title: z.string().nullable(),
  tokenId: z.string().nullable(),
  /** Minor units, as decimal strings. */
  listAmount: z.string(),
  /** The sale window's price the order was bought at, if any. */
  saleAmount: z.string().nullable(),
  /** What a coupon took off. */
  discount: z.string(),
  amount: z.string(),
  currency: z.string(),
  couponCode: z.string().nullable(),
  /** The payment provider's id of the payment. */
  paymentId: z.string(),
  /** The mint's payment reference on chain. */
  paymentRef: z.string(),
});

export type Receipt = z.infer<typeof receiptSchema>;

/** What the receipt names the license by. */
export function receiptItem(receipt: Receipt): string {
  return `${receipt.title ?? `Work #${receipt.workId ?? "?"}`}: license, offer #${receipt.offerId}`;
}

/**
 * The receipt of order `orderId`, or null while its payment is not captured (an authorization
 * can still be released, and nothing was charged).
 */
export async function findReceipt(db: Queryable, orderId: string): Promise<Receipt | null> {
  const { rows } = await db.query<{
    id: string;
    paid_at: Date | null;
    offer_id: string;
    work_id: string | null;
    title: string | null;
    token_id: string | null;
    list_amount: string;
    sale_amount: string | null;
    discount: string;
    amount: string;
    currency: string;
    coupon_code: string | null;
    payment_intent: string | null;
    payment_ref: string | null;
  }>(
    `SELECT o.id, o.offer_id::text, f.work_id::text, m.title, o.token_id::text,
            coalesce(o.list_amount, o.amount)::text AS list_amount, o.sale_amount::text, o.discount::text, o.amount::text,
            o.currency, o.coupon_code, o.payment_intent, o.payment_ref,
            (SELECT min(e.created_at) FROM order_events e WHERE e.order_id = o.id AND e.status = 'paid') AS paid_at
       FROM orders o
       LEFT JOIN offers f ON f.offer_id = o.offer_id
       LEFT JOIN works w ON w.work_id = f.work_id
       LEFT JOIN work_metadata m ON m.metadata_uri = w.metadata_uri
      WHERE o.id = $1 AND o.payment_status = 'captured'`,
    [orderId],
  );
  const r = rows[0];
  if (!r || !r.payment_intent || !r.payment_ref || !r.paid_at) return null;
  return {
    orderId: r.id,
    paidAt: r.paid_at.toISOString(),
    offerId: r.offer_id,
    workId: r.work_id,
    title: r.title,
    tokenId: r.token_id,
    listAmount: r.list_amount,
    saleAmount: r.sale_amount,
    discount: r.discount,
    amount: r.amount,
    currency: r.currency,
    couponCode: r.coupon_code,
    paymentId: r.payment_intent,
    paymentRef: r.payment_ref,
  };
}
