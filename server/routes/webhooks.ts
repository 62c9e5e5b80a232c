import express, { Router } from "express";
import { z } from "zod";
import { AppError } from "../errors.ts";
import type { OpenApiRegistry } from "../http/openapi.ts";
import { route } from "../http/route.ts";
import type { WebhookService } from "../orders/webhooks.ts";

const PATH = "/v1/webhooks/stripe";

/**
 * Stripe webhooks. Mounted before the JSON body parser: the signature covers the exact bytes, so
 * the body is read raw.
 */
export function webhooksRouter(service: WebhookService, registry: OpenApiRegistry): Router {
  const router = Router();
  router.post(PATH, express.raw({ type: () => true, limit: "512kb" }));

  route(
    router,
    registry,
    {
      method: "post",
      path: PATH,
      summary:
        "Stripe events (checkout completed or expired, refunds, disputes); signature verified on the raw body",
      tags: ["checkout"],
      bodyContentType: "application/json",
      responses: {
        200: {
          description: "Recorded; fulfilment runs in the background",
          schema: z.object({ received: z.literal(true), eventId: z.string(), duplicate: z.boolean() }),
        },
        400: { description: "Missing or wrong Stripe-Signature; nothing recorded" },
      },
    },
    async ({ req }) => {
      if (!Buffer.isBuffer(req.body)) throw new AppError("INVALID_BODY", 400, "expected the raw event body");
      return service.receive(req.body, req.get("stripe-signature"), req.log);
    },
  );

  return router;
}
