import express, { Router } from "express";
import { z } from "zod";
import { AppError } from "../errors.ts";
import { sendJson, type HotPath } from "../http/hot-route.ts";
import type { OpenApiRegistry } from "../http/openapi.ts";
import { route } from "../http/route.ts";
import type { WebhookService } from "../orders/webhooks.ts";

const PATH = "/v1/webhooks/stripe";
/** The largest event body taken (Stripe's events are a few KiB). */
const BODY_LIMIT = 512 * 1024;

/**
 * Stripe webhooks. Mounted before the JSON body parser: the signature covers the exact bytes, so
 * the body is read raw.
 */
export function webhooksRouter(service: WebhookService, registry: OpenApiRegistry): Router {
  const router = Router();
  router.post(PATH, express.raw({ type: () => true, limit: BODY_LIMIT }));

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

/**
 * The webhook route answered ahead of Express (see hot-route.ts): a payment provider delivers a
 * burst of events when many buyers pay at once, and Express's own handling of each request cost
 * more than recording its payment. The router above answers what this path leaves to it.
 */
export function webhookPath(service: WebhookService): HotPath<true> {
  return {
    route: PATH,
    logged: true,
    bodyLimit: BODY_LIMIT,
    // Mounted ahead of the per-client limit: a provider delivers from a few addresses.
    rateLimited: false,
    take: (method, url) => (method === "POST" && url === PATH ? true : undefined),
    async serve(_input, req, res, { body, log }) {
      const signature = req.headers["stripe-signature"];
      const result = await service.receive(
        body,
        typeof signature === "string" ? signature : undefined,
        log(),
      );
      sendJson(res, 200, result);
    },
  };
}
