import { Router } from "express";
import { AppError } from "../errors.ts";
import { clientOf } from "../http/client-address.ts";
import type { OpenApiRegistry } from "../http/openapi.ts";
import { route } from "../http/route.ts";
import { checkoutBody, checkoutOrderSchema } from "../../lib/api/orders.ts";
import type { CheckoutService } from "../orders/checkout.ts";
import type { OrderSecrets } from "../auth/order-secrets.ts";
import type { OrdersService } from "../orders/orders.ts";

/** Card checkout: one license of an offer, paid through the payment provider's hosted page. */
export function checkoutRouter(
  checkout: CheckoutService,
  orders: OrdersService,
  secrets: OrderSecrets,
  registry: OpenApiRegistry,
): Router {
  const router = Router();

  route(
    router,
    registry,
    {
      method: "post",
      path: "/v1/checkout",
      summary:
        "Hold one unit of an offer briefly and open a card checkout; the license is minted to `wallet` once paid",
      tags: ["checkout"],
      body: checkoutBody,
      responses: {
        201: {
          description: "Order created; send the buyer to checkoutUrl and follow GET /v1/orders/:id/events",
          schema: checkoutOrderSchema,
        },
        403: { description: "A purchase limit of the offer was reached (details.rule names it)" },
        409: { description: "Sold out, paused, or not for sale by card" },
        429: {
          description:
            "Too many checkouts, or too many unpaid holds of this buyer (details.rule names the rule); see Retry-After",
        },
      },
    },
    async ({ body, req, res }) => {
      try {
        const order = await checkout.checkout(body, clientOf(req), req.log);
        return { ...orders.view(order, null), orderSecret: secrets.of(order.id) };
      } catch (err) {
        if (err instanceof AppError && err.status === 429) {
          res.setHeader(
            "Retry-After",
            String((err.details as { retryAfterSeconds: number }).retryAfterSeconds),
          );
        }
        throw err;
      }
    },
  );

  return router;
}
