import { withTransaction } from "../../../lib/transaction.ts";
import { PermanentError } from "../../errors.ts";
import { PaymentRejectedError } from "../../payments/provider.ts";
import { bookingJob, orderJob } from "../../queues/queues.ts";
import { mailClaimLink, type ClaimSettings } from "../claims.ts";
import { failOrder, type FulfilmentDeps } from "../fulfilment.ts";
import { transition, type Order } from "../store.ts";

export interface HoldLicenseDeps extends FulfilmentDeps {
  claims: ClaimSettings;
}

/**
 * Holds the license of a paid order that has no wallet, for the email address its buyer gave: the
 * card is captured (the unit is the buyer's; an authorization would lapse long before a late
 * claim), and in one transaction the order moves to `held` with its sale's booking, its claim token
 * is issued and the claim-link mail recorded (key `claim:<orderId>`). A retry after the capture
 * captures nothing twice; one after the commit finds the order held and does nothing.
 */
export async function holdLicense(deps: HoldLicenseDeps, order: Order): Promise<void> {
  if (!order.paymentIntent || !order.email) throw new PermanentError(`order ${order.id} cannot be held`);
  let fee: number;
  try {
    ({ fee } = await deps.payments.capture(order.paymentIntent, order.id));
  } catch (err) {
    if (!(err instanceof PaymentRejectedError)) throw err;
    await failOrder(deps, order, `payment could not be captured: ${err.message}`);
    throw new PermanentError(err.message);
  }
  const held = await withTransaction(deps.db, async (client) => {
    const moved = await transition(client, order.id, {
      from: ["paid"],
      to: "held",
      set: { paymentStatus: "captured", providerFee: fee },
      detail: { reason: "held for the buyer's email until a wallet claims it" },
      jobs: [bookingJob(order.id, "sale"), orderJob("receipt", order.id)],
    });
    if (!moved) return null;
    const mail = await mailClaimLink(client, deps.claims, order);
    return { moved, jobs: [...moved.jobs, ...mail] };
  });
  if (!held) return;
  await deps.outbox.deliver(held.jobs);
  deps.events.publish(held.moved.event);
  deps.logger.info({ orderId: order.id }, "card payment captured; license held for the buyer's email");
}
