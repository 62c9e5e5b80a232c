import { Router, type Request } from "express";
import { z } from "zod";
import { hasScope, requireAdmin } from "../auth/middleware.ts";
import type { OpenApiRegistry } from "../http/openapi.ts";
import { route } from "../http/route.ts";
import { finalitySchema } from "../../lib/api/primitives.ts";
import { transactionRequestSchema } from "../../lib/api/transactions.ts";
import { clientOf } from "../http/client-address.ts";
import type { OrderStreams } from "../orders/streams.ts";
import type { OrderReader, OrdersService } from "../orders/orders.ts";

const statusSchema = z.enum([
  "created",
  "paid",
  "minting",
  "fulfilled",
  "failed",
  "expired",
  "refunded",
  "disputed",
]);

export const orderSchema = z
  .object({
    orderId: z.string(),
    offerId: z.string(),
    wallet: z.string(),
    referrer: z.string().nullable(),
    amount: z.number().describe("minor units"),
    currency: z.string(),
    status: statusSchema,
    failureReason: z.string().nullable(),
    checkoutUrl: z
      .string()
      .nullable()
      .describe("where the buyer pays; null once the order is no longer payable"),
    reservedUntil: z.string().describe("the unit is held for the order until then unless paid"),
    payableUntil: z
      .string()
      .describe(
        "the order can be paid until then; paid after reservedUntil, it is kept only while a unit is free",
      ),
    paymentRef: z.string().nullable(),
    payment: z.enum(["none", "authorized", "captured", "canceled"]),
    tokenId: z.string().nullable().describe("the license minted for the order"),
    license: z
      .object({
        tokenId: z.string(),
        txHash: z.string().nullable(),
        blockNumber: z.number().nullable(),
        finality: finalitySchema.nullable(),
      })
      .nullable(),
    revocation: z
      .object({ reason: z.string(), txHash: z.string().nullable(), revokedAt: z.string().nullable() })
      .nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: "Order" });

const eventSchema = z.object({
  seq: z.string(),
  status: statusSchema,
  detail: z.record(z.string(), z.unknown()),
  at: z.string(),
});

export interface OrdersRouterDeps {
  orders: OrdersService;
  streams: OrderStreams;
}

const secretQuery = z.object({
  secret: z
    .string()
    .max(64)
    .optional()
    .describe("the order secret from the checkout (or send it as X-Order-Secret)"),
});

/** The caller as an order reader: its session and the order secret it sent (header or query). */
function readerOf(req: Request, secret: string | undefined): OrderReader {
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
      query: secretQuery,
      responses: {
        200: { description: "Order", schema: orderSchema.extend({ history: z.array(eventSchema) }) },
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
      query: secretQuery,
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
      path: "/v1/admin/orders/:id/revocation",
      summary: "The revoke transaction a refunded or disputed order needs, for an admin wallet to sign",
      tags: ["admin"],
      security: ["session", "apiKey"],
      params: idParams,
      responses: {
        200: {
          description: "Revocation to sign",
          schema: z.object({ reason: z.string(), transaction: transactionRequestSchema }),
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
