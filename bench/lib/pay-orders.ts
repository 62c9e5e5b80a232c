/** Pays a benchmark's card orders at once, as a payment provider's delivery pool would. */
import { Agent, request as httpRequest } from "node:http";
import type { TestStack } from "../../test/helpers/stack.ts";

export interface PaidOrder {
  orderId: string;
  /** The signed `checkout.session.completed` webhook that pays it. */
  event: { payload: string; signature: string };
}

/**
 * Delivers every order's webhook twice (as Stripe may), all at once over `connections` persistent
 * connections to `apiUrl`, then waits until every order of the offer is fulfilled (throwing when one
 * fails). Answers when the first delivery of each order was sent, and when the deliveries began.
 */
export async function payEveryOrderTwice(
  stack: Pick<TestStack, "db" | "waitFor">,
  apiUrl: string,
  offerId: string,
  orders: readonly PaidOrder[],
  connections: number,
): Promise<{ sentAt: Map<string, number>; started: number }> {
  const url = new URL(`${apiUrl}/v1/webhooks/stripe`);
  // As a payment provider's delivery pool reaches the API through a proxy: persistent connections.
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const deliver = (event: PaidOrder["event"]) =>
    new Promise<void>((resolve, reject) => {
      const req = httpRequest(
        url,
        {
          method: "POST",
          agent,
          headers: { "content-type": "application/json", "stripe-signature": event.signature },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => {
            if (res.statusCode === 200) resolve();
            else reject(new Error(`webhook answered ${res.statusCode}: ${Buffer.concat(chunks).toString()}`));
          });
        },
      );
      req.on("error", reject);
      req.end(event.payload);
    });
  console.log(`${orders.length} orders paid at once (every webhook delivered twice)…`);
  const sentAt = new Map<string, number>();
  const started = Date.now();
  await Promise.all(
    orders.flatMap((order) =>
      [0, 1].map(async () => {
        if (!sentAt.has(order.orderId)) sentAt.set(order.orderId, Date.now());
        await deliver(order.event);
      }),
    ),
  );
  agent.destroy();
  await stack.waitFor(async () => {
    const { rows } = await stack.db.pool.query<{ n: number; failed: number }>(
      `SELECT count(*) FILTER (WHERE status = 'fulfilled')::int AS n,
              count(*) FILTER (WHERE status = 'failed')::int AS failed
         FROM orders WHERE offer_id = $1`,
      [offerId],
    );
    if (rows[0]!.failed > 0) throw new Error(`${rows[0]!.failed} orders failed`);
    return rows[0]!.n >= orders.length;
  }, 600_000);
  return { sentAt, started };
}
