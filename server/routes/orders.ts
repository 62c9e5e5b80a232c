import { createHash } from "node:crypto";
import { Router, type Request } from "express";
import { z } from "zod";
import { hasScope, requireAdmin, requireSession } from "../auth/middleware.ts";
import type { OpenApiRegistry } from "../http/openapi.ts";
import type { RateLimit } from "../http/rate-limit.ts";
import { route } from "../http/route.ts";
import {
  buyerOrdersPageSchema,
  buyerOrdersQuery,
  orderLookupBody,
  orderLookupSchema,
  orderSecretQuery,
  orderWithHistorySchema,
  revocationRequestSchema,
} from "../../lib/api/orders.ts";
import { clientOf } from "../http/client-address.ts";
import type { OrderStreams } from "../orders/streams.ts";
import type { OrderReader, OrdersService } from "../orders/orders.ts";

export interface OrdersRouterDeps {
  orders: OrdersService;
  streams: OrderStreams;
  /** Lookups by email and secret per client network, and per email address. */
  lookupLimits: { perClient: RateLimit; perEmail: RateLimit };
}

/** The caller as an order reader: its session and the order secret it sent (header or query). */
export function readerOf(req: Request, secret: string | undefined): OrderReader {
  const session = req.auth?.kind === "session" ? req.auth.session : null;
  return {
    wallet: session?.address ?? null,
    admin: session?.isAdmin === true || hasScope(req, "admin"),
    secret: req.get("x-order-secret") ?? secret,
  };
}

/**
 * Orders: a wallet's purchases, lookup by email and secret, status with history, a live event
 * stream, and the admin's revocation request.
 */
export function ordersRouter(deps: OrdersRouterDeps, registry: OpenApiRegistry): Router {
  const router = Router();
  const idParams = z.object({ id: z.uuid() });

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/orders",
      summary:
        "The signed-in wallet's purchases, newest first: its card orders and the licenses it holds that were bought on chain",
      tags: ["checkout"],
      security: ["session"],
      query: buyerOrdersQuery,
      responses: { 200: { description: "A page of purchases", schema: buyerOrdersPageSchema } },
    },
    async ({ query, req, res }) => {
      const { address } = requireSession(req);
      res.setHeader("Cache-Control", "no-store");
      return deps.orders.history(address, query.cursor, query.limit);
    },
  );

  route(
    router,
    registry,
    {
      method: "post",
      path: "/v1/orders/lookup",
      summary:
        "A card order found by the email address given at checkout and its order secret; a wrong email and a wrong secret get the same 404",
      tags: ["checkout"],
      body: orderLookupBody,
      responses: {
        200: { description: "The order, with its secret for its other routes", schema: orderLookupSchema },
        404: { description: "No order has this email and secret" },
        429: { description: "Too many lookups from this network or for this email (see Retry-After)" },
      },
    },
    async ({ body, req, res }) => {
      res.setHeader("Cache-Control", "no-store");
      await deps.lookupLimits.perClient.admit(clientOf(req), res, () => req.log);
      // Counted under the address's hash: refusals are logged, and the log keeps no email addresses.
      const emailKey = createHash("sha256").update(body.email).digest("hex").slice(0, 32);
      await deps.lookupLimits.perEmail.admit(emailKey, res, () => req.log);
      return deps.orders.lookup(body.email, body.secret);
    },
  );

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/orders/:id",
      summary: "An order with its status history, for its buyer (session of its wallet or the order secret)",
      tags: ["checkout"],
      security: ["session", "orderSecret"],
      params: idParams,
      query: orderSecretQuery,
      responses: {
        200: { description: "Order", schema: orderWithHistorySchema },
      },
    },
    async ({ params, query, req, res }) => {
      res.setHeader("Cache-Control", "no-store");
      await deps.orders.assertReadable(params.id, readerOf(req, query.secret));
      return deps.orders.withHistory(params.id);
    },
  );

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/orders/:id/events",
      summary:
        "Server-sent events of an order: created → paid → minting → fulfilled (or failed, with a reason)",
      tags: ["checkout"],
      security: ["session", "orderSecret"],
      params: idParams,
      query: orderSecretQuery,
      responses: {
        200: {
          description:
            "`status` events ({seq, status, detail, at, order}, id = seq; Last-Event-ID resumes) and `license` events when the mint's finality changes",
          contentType: "text/event-stream",
        },
      },
    },
    async ({ params, query, req, res }) => {
      await deps.orders.assertReadable(params.id, readerOf(req, query.secret));
      await deps.streams.open(params.id, clientOf(req), req.get("last-event-id"), res);
      return undefined;
    },
  );

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/orders/:id/receipt.pdf",
      summary:
        "The order's receipt as a PDF, as mailed to its buyer, once its payment is captured (session of its wallet or the order secret)",
      tags: ["checkout"],
      security: ["session", "orderSecret"],
      params: idParams,
      query: orderSecretQuery,
      responses: {
        200: { description: "The receipt", contentType: "application/pdf" },
        404: { description: "No such order, or not the caller's" },
        409: { description: "The payment is not captured yet" },
      },
    },
    async ({ params, query, req, res }) => {
      await deps.orders.assertReadable(params.id, readerOf(req, query.secret));
      const { fileName, pdf } = await deps.orders.receiptPdf(params.id);
      res
        .set("cache-control", "no-store")
        .set("content-disposition", `attachment; filename="${fileName}"`)
        .type("application/pdf")
        .send(pdf);
      return undefined;
    },
  );

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/admin/orders/:id/revocation",
      summary: "The revoke transaction a refunded or disputed order needs, for an admin wallet to sign",
      tags: ["admin"],
      security: ["session", "apiKey"],
      params: idParams,
      responses: {
        200: {
          description: "Revocation to sign",
          schema: revocationRequestSchema,
        },
      },
    },
    async ({ params, req }) => {
      requireAdmin(req);
      return deps.orders.revocationRequest(params.id);
    },
  );

  return router;
}
