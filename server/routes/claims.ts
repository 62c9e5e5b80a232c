import { Router } from "express";
import { z } from "zod";
import { requireSession } from "../auth/middleware.ts";
import type { OpenApiRegistry } from "../http/openapi.ts";
import { route } from "../http/route.ts";
import { claimBody, claimLinkSchema, orderSchema, orderSecretQuery } from "../../lib/api/orders.ts";
import type { ClaimsService } from "../orders/claims.ts";
import type { OrdersService } from "../orders/orders.ts";
import { readerOf } from "./orders.ts";

/**
 * Claims of licenses held for a card buyer's email: the mailed link's token and a signed-in wallet,
 * and a new link once one expired unused.
 */
export function claimsRouter(
  claims: ClaimsService,
  orders: OrdersService,
  registry: OpenApiRegistry,
): Router {
  const router = Router();

  route(
    router,
    registry,
    {
      method: "post",
      path: "/v1/claims",
      summary:
        "Claim a license held for a card buyer's email with the token of the mailed link: it is minted to the signed-in wallet, once",
      tags: ["checkout"],
      security: ["session"],
      body: claimBody,
      responses: {
        200: {
          description: "Claimed; the order is minting to the wallet (follow GET /v1/orders/:id/events)",
          schema: orderSchema,
        },
        404: { description: "CLAIM_NOT_FOUND: no such link" },
        409: { description: "CLAIM_UNAVAILABLE: the order is no longer held (refunded, disputed)" },
        410: { description: "CLAIM_USED (the link was used) or CLAIM_EXPIRED" },
      },
    },
    async ({ body, req, res }) => {
      const { address } = requireSession(req);
      res.setHeader("Cache-Control", "no-store");
      return orders.view(await claims.claim(body.token, address), null);
    },
  );

  route(
    router,
    registry,
    {
      method: "post",
      path: "/v1/orders/:id/claim-link",
      summary:
        "Mail a new claim link for a held license whose link expired unused (order secret or the buyer's session)",
      tags: ["checkout"],
      security: ["orderSecret"],
      params: z.object({ id: z.uuid() }),
      query: orderSecretQuery,
      responses: {
        202: { description: "A new link is mailed to the order's email address", schema: claimLinkSchema },
        404: { description: "No such order for this reader" },
        409: { description: "CLAIM_LINK_LIVE (the mailed link still works) or CLAIM_UNAVAILABLE" },
        410: { description: "CLAIM_USED: the license was claimed" },
      },
    },
    async ({ params, query, req }) => {
      await orders.assertReadable(params.id, readerOf(req, query.secret));
      return claims.reissue(params.id);
    },
  );

  return router;
}
