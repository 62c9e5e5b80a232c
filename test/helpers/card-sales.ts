/** Card sales through the dev checkout, as a buyer makes them: paid, fulfilled, captured and booked. */
import { expect } from "chai";
import request from "supertest";
import type { ServedStack } from "./served-stack.ts";

export interface CardSale {
  orderId: string;
  /** The dev checkout page of the order, whose buttons pay, refund and dispute it. */
  checkoutUrl: string;
}

/** What the dev checkout page does besides paying: refund, open a chargeback and close it. */
export type CheckoutAction = "refund" | "dispute" | "dispute/won" | "dispute/lost";

async function press(checkoutUrl: string, action: "pay" | CheckoutAction): Promise<void> {
  const res = await fetch(`${checkoutUrl}/${action}`, { method: "POST", redirect: "manual" });
  expect(res.status, `${action}: ${await res.text()}`).to.equal(303);
}

/** Checks out `offerId` for `buyer` (naming `referrer`) and pays on the dev checkout page. */
export async function payByCard(
  served: Pick<ServedStack, "stack">,
  offerId: string,
  buyer: string,
  referrer?: string,
): Promise<CardSale> {
  const res = await request(served.stack.app)
    .post("/v1/checkout")
    .send({ offerId, wallet: buyer, ...(referrer ? { referrer } : {}) });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  const checkoutUrl = res.body.checkoutUrl as string;
  await press(checkoutUrl, "pay");
  return { orderId: res.body.orderId as string, checkoutUrl };
}

/** Refunds or disputes a captured card sale on the dev checkout page. */
export async function onCheckout(sale: CardSale, action: CheckoutAction): Promise<void> {
  await press(sale.checkoutUrl, action);
}

/** Waits until the payout ledger holds the order's booking of `kind`, mining blocks so its mint settles and is captured. */
export async function waitBooked(
  served: Pick<ServedStack, "stack">,
  sale: CardSale,
  kind: string,
): Promise<void> {
  const { stack } = served;
  await stack.waitFor(async () => {
    await stack.provider.send("evm_mine", []);
    const { rows } = await stack.db.pool.query(
      `SELECT 1 FROM ledger_transactions WHERE order_id = $1 AND kind = $2`,
      [sale.orderId, kind],
    );
    return rows.length > 0;
  }, 60_000);
}
