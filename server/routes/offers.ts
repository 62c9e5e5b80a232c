import { Router } from "express";
import { z } from "zod";
import { requireSession } from "../auth/middleware.ts";
import type { OpenApiRegistry } from "../http/openapi.ts";
import { route } from "../http/route.ts";
import { idSchema, pageOf } from "../../lib/api/primitives.ts";
import {
  fiatPriceSchema,
  listOffersQuery,
  offerSchema,
  publicationSchema,
  publishOfferBody,
} from "../../lib/api/offers.ts";
import type { OffersService } from "../services/offers.ts";

/** Offers: publish a signed offer (creators), read offers with supply and card price (everyone). */
export function offersRouter(service: OffersService, registry: OpenApiRegistry): Router {
  const router = Router();

  route(
    router,
    registry,
    {
      method: "post",
      path: "/v1/works/:id/offers",
      summary:
        "Publish an offer signed by the work's creator (EIP-712 CreateOffer); the relayer sends createOfferFor. A card price needs the creator's session",
      security: ["anonymous", "session"],
      tags: ["offers"],
      params: z.object({ id: idSchema }),
      body: publishOfferBody,
      responses: {
        202: {
          description: "Accepted; poll GET /v1/offers/publications/:id",
          schema: publicationSchema,
        },
        401: { description: "A card price was sent without a session" },
        403: {
          description: "Not signed by the work's creator, or a card price from another wallet's session",
        },
        409: {
          description: "The nonce was used for other terms, or this offer was sent with another card price",
        },
      },
    },
    async ({ params, body, req }) =>
      service.publish(params.id, body, req.auth?.kind === "session" ? req.auth.session.address : null),
  );

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/offers/publications/:id",
      summary: "Progress of an offer publication: pending → submitted → published",
      tags: ["offers"],
      params: z.object({ id: z.uuid() }),
      responses: { 200: { description: "Publication", schema: publicationSchema } },
    },
    async ({ params }) => service.publication(params.id),
  );

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/offers",
      summary: "Offers of a work (or a creator), with sold count, remaining supply and card price",
      tags: ["offers"],
      query: listOffersQuery,
      responses: {
        200: {
          description: "A page of offers, oldest first",
          schema: pageOf(offerSchema),
        },
      },
    },
    async ({ query }) => service.list(query),
  );

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/offers/:id",
      summary: "An offer",
      tags: ["offers"],
      params: z.object({ id: idSchema }),
      responses: { 200: { description: "Offer", schema: offerSchema } },
    },
    async ({ params }) => service.get(params.id),
  );

  route(
    router,
    registry,
    {
      method: "put",
      path: "/v1/offers/:id/fiat-price",
      summary: "Set the card price of an offer (its creator, signed in)",
      tags: ["offers"],
      security: ["session"],
      params: z.object({ id: idSchema }),
      body: fiatPriceSchema,
      responses: { 200: { description: "The offer with its new card price", schema: offerSchema } },
    },
    async ({ params, body, req }) => service.setFiatPrice(params.id, requireSession(req).address, body),
  );

  return router;
}
