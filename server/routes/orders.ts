import { Router, type Request } from "express";
import { z } from "zod";
import { hasScope, requireAdmin } from "../auth/middleware.ts";
import type { OpenApiRegistry } from "../http/openapi.ts";
import { route } from "../http/route.ts";
import { orderSecretQuery, orderWithHistorySchema, revocationRequestSchema } from "../../lib/api/orders.ts";
import { clientOf } from "../http/client-address.ts";
import type { OrderStreams } from "../orders/streams.ts";
import type { OrderReader, OrdersService } from "../orders/orders.ts";

export interface OrdersRouterDeps {
  orders: OrdersService;
  streams: OrderStreams;
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

/** Orders: status with history, a live event stream, and the admin's revocation request. */
export function ordersRouter(deps: OrdersRouterDeps, registry: OpenApiRegistry): Router {
  const router = Router();
  const idParams = z.object({ id: z.uuid() });

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
