import { Router, type Request } from "express";
import { z } from "zod";
import { hasScope, requireSession } from "../auth/middleware.ts";
import type { OpenApiRegistry } from "../http/openapi.ts";
import { route } from "../http/route.ts";
import { idSchema } from "../../lib/api/primitives.ts";
import { orderSecretQuery } from "../../lib/api/orders.ts";
import {
  orderRefundSchema,
  refundDecisionBody,
  refundRequestBody,
  refundRequestListSchema,
  refundRequestParams,
  refundRequestSchema,
  refundRequestsQuery,
  refundWindowBody,
  refundWindowSchema,
} from "../../lib/api/refunds.ts";
import type { RefundsService } from "../refunds/refunds.ts";
import { readerOf } from "./orders.ts";

/** The signed-in wallet deciding refunds, and whether it is an admin. */
function deciderOf(req: Request): { wallet: string; admin: boolean } {
  const session = requireSession(req);
  return { wallet: session.address, admin: session.isAdmin || hasScope(req, "admin") };
}

/** Refund requests: the buyer's request of a card order, the creator's decisions, an offer's refund window. */
export function refundsRouter(refunds: RefundsService, registry: OpenApiRegistry): Router {
  const router = Router();
  const orderParams = z.object({ id: z.uuid() });
  const offerParams = z.object({ id: idSchema });

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/orders/:id/refund",
      summary:
        "A card order's refund request and window, for its buyer (session of its wallet or the order secret)",
      tags: ["refunds"],
      security: ["session", "orderSecret"],
      params: orderParams,
      query: orderSecretQuery,
      responses: {
        200: { description: "The request (null if none) and the window", schema: orderRefundSchema },
        404: { description: "No such order, or another buyer's" },
      },
    },
    async ({ params, query, req, res }) => {
      res.setHeader("Cache-Control", "no-store");
      return refunds.ofOrder(params.id, readerOf(req, query.secret));
    },
  );

  route(
    router,
    registry,
    {
      method: "post",
      path: "/v1/orders/:id/refund",
      summary:
        "The buyer asks for a refund of a fulfilled card order, with a reason (and an address to mail the decision to), within the offer's refund window; one request per order",
      tags: ["refunds"],
      security: ["session", "orderSecret"],
      params: orderParams,
      query: orderSecretQuery,
      body: refundRequestBody,
      responses: {
        201: { description: "The request, awaiting the creator's decision", schema: refundRequestSchema },
        400: { description: "No reason, or one too long" },
        403: { description: "The refund window closed (REFUND_WINDOW_CLOSED)" },
        404: { description: "No such order, or another buyer's" },
        409: {
          description:
            "Not a fulfilled card order (ORDER_NOT_REFUNDABLE), or asked already (REFUND_ALREADY_REQUESTED)",
        },
      },
    },
    async ({ params, query, body, req }) => refunds.request(params.id, readerOf(req, query.secret), body),
  );

  route(
    router,
    registry,
    {
      method: "delete",
      path: "/v1/orders/:id/refund",
      summary: "The buyer withdraws a refund request the creator has not decided yet",
      tags: ["refunds"],
      security: ["session", "orderSecret"],
      params: orderParams,
      query: orderSecretQuery,
      responses: {
        200: { description: "The cancelled request", schema: refundRequestSchema },
        404: { description: "No such order or no open request" },
        409: { description: "Decided already" },
      },
    },
    async ({ params, query, req }) => refunds.withdraw(params.id, readerOf(req, query.secret)),
  );

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/refund-requests",
      summary: "Refund requests of the signed-in creator's offers (every offer's for an admin), newest first",
      tags: ["refunds"],
      security: ["session"],
      query: refundRequestsQuery,
      responses: {
        200: { description: "Requests", schema: refundRequestListSchema },
        403: { description: "Another creator's offer" },
      },
    },
    async ({ query, req, res }) => {
      res.setHeader("Cache-Control", "no-store");
      return refunds.list(deciderOf(req), query);
    },
  );

  route(
    router,
    registry,
    {
      method: "post",
      path: "/v1/refund-requests/:id/decision",
      summary:
        "The offer's creator (or an admin) approves or declines a refund request with a reason; an approval refunds through the payment provider once",
      tags: ["refunds"],
      security: ["session"],
      params: refundRequestParams,
      body: refundDecisionBody,
      responses: {
        200: { description: "The decided request", schema: refundRequestSchema },
        400: { description: "Malformed decision or reason" },
        403: { description: "Another creator's offer (NOT_OFFER_CREATOR)" },
        404: { description: "No such request" },
        409: { description: "Decided already (REFUND_ALREADY_DECIDED)" },
      },
    },
    async ({ params, body, req }) => refunds.decide(params.id, deciderOf(req), body),
  );

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/offers/:id/refund-window",
      summary: "How long after a card sale its buyer may ask for a refund",
      tags: ["refunds"],
      params: offerParams,
      responses: {
        200: { description: "Window", schema: refundWindowSchema },
        409: { description: "Not sold by card" },
      },
    },
    async ({ params }) => refunds.window(params.id),
  );

  route(
    router,
    registry,
    {
      method: "put",
      path: "/v1/offers/:id/refund-window",
      summary:
        "The offer's creator sets its refund window (0: no refunds on request), at most the platform's REFUND_WINDOW_SECONDS",
      tags: ["refunds"],
      security: ["session"],
      params: offerParams,
      body: refundWindowBody,
      responses: {
        200: { description: "Window", schema: refundWindowSchema },
        400: { description: "Longer than the platform's" },
        403: { description: "Another creator's offer" },
        404: { description: "No such offer" },
        409: { description: "Not sold by card" },
      },
    },
    async ({ params, body, req }) => refunds.setWindow(params.id, requireSession(req).address, body.seconds),
  );

  return router;
}
