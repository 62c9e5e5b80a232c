import type { Pool } from "pg";
import type { Logger } from "pino";
import type { PaymentProvider } from "../../payments/provider.ts";
import { expireUnpaid } from "../store.ts";
import type { OrderEvents } from "../events.ts";

export interface ExpireOrdersDeps {
  db: Pool;
  payments: PaymentProvider;
  events: OrderEvents;
  logger: Logger;
}

const BATCH = 500;

/**
 * Expires orders left unpaid past the time they could be paid and closes their checkout sessions.
 * Their units were back on sale from the moment their hold lapsed (availability counts only live
 * holds); this makes it visible and stops the buyer from paying a stale session.
 */
export async function expireOrders(deps: ExpireOrdersDeps): Promise<{ expired: number }> {
  let expired = 0;
  for (;;) {
    const batch = await expireUnpaid(deps.db, BATCH);
    for (const { order, event } of batch) {
      deps.events.publish(event);
      if (!order.sessionId) continue;
      await deps.payments.expireSession(order.sessionId).catch((err: unknown) => {
        deps.logger.warn(
          { err, orderId: order.id },
          "could not close the checkout session of an expired order",
        );
      });
    }
    expired += batch.length;
    if (batch.length < BATCH) break;
  }
  if (expired > 0) deps.logger.info({ expired }, "expired unpaid orders");
  return { expired };
}
