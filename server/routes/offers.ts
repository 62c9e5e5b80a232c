import { Router } from "express";
import { z } from "zod";
import { requireSession } from "../auth/middleware.ts";
import type { OpenApiRegistry } from "../http/openapi.ts";
import { route } from "../http/route.ts";
import {
  addressSchema,
  finalitySchema,
  hexSignatureSchema,
  idSchema,
  limitSchema,
  uintString,
} from "../../lib/api/primitives.ts";
import type { OffersService } from "../services/offers.ts";

const MAX_UINT64 = 2n ** 64n - 1n;

export const fiatPriceSchema = z
  .object({
    amount: z
      .number()
      .int()
      .positive()
      .max(Number.MAX_SAFE_INTEGER)
      .describe("minor units (cents for USD, EUR)"),
    currency: z
      .string()
      .regex(/^[A-Za-z]{3}$/, "must be an ISO 4217 code such as usd")
      .transform((c) => c.toLowerCase()),
  })
  .meta({ id: "FiatPrice" });

const offerSchema = z
  .object({
    offerId: z.string(),
    workId: z.string(),
    creator: z.string(),
    currency: z.string().describe("0x000…0 for the native currency"),
    price: z.string().describe("on-chain price in the currency's smallest unit"),
    duration: z.string().describe("seconds; 0 for perpetual"),
    perpetual: z.boolean(),
    maxSupply: z.number().describe("0 for unlimited"),
    sold: z.number(),
    reserved: z.number().describe("units held by card orders not yet minted"),
    remaining: z.number().nullable().describe("units left; null when unlimited"),
    active: z.boolean(),
    workSuperseded: z
      .boolean()
      .describe(
        "the offer's work lost to an earlier claim of its file: nothing sells on it, on chain or by card",
      ),
    transferable: z.boolean(),
    commercialUse: z.boolean(),
    referrerBps: z.number(),
    royaltyBps: z.number(),
    split: z.string(),
    territory: z.string(),
    revocable: z.boolean().describe("the creator may revoke licenses for breach of the offer's terms"),
    platformFeeBps: z.number().describe("platform fee fixed when the offer was published"),
    fiatPrice: fiatPriceSchema.nullable().describe("card price; null when the offer is not for sale by card"),
    blockNumber: z.string(),
    txHash: z.string(),
    finality: finalitySchema,
  })
  .meta({ id: "Offer" });

const publicationSchema = z
  .object({
    id: z.string(),
    status: z.enum(["pending", "submitted", "published", "failed"]),
    creator: z.string(),
    workId: z.string(),
    nonce: z.string(),
    offerId: z.string().nullable(),
    txHash: z.string().nullable(),
    error: z.string().nullable(),
    fiatPrice: fiatPriceSchema.nullable(),
    createdAt: z.string(),
  })
  .meta({ id: "OfferPublication" });

const publishBody = z.object({
  creator: addressSchema,
  currency: addressSchema.default("0x0000000000000000000000000000000000000000"),
  price: uintString,
  duration: uintString
    .refine((v) => BigInt(v) <= MAX_UINT64, "must fit in 64 bits")
    .describe("seconds; 0 for perpetual"),
  maxSupply: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1)
    .describe("0 for unlimited"),
  transferable: z.boolean(),
  commercialUse: z.boolean(),
  referrerBps: z.number().int().min(0).max(10_000),
  royaltyBps: z.number().int().min(0).max(10_000),
  split: addressSchema,
  territory: z.string().min(1).max(200),
  revocable: z.boolean().default(false).describe("licenses may be revoked for breach of the offer's terms"),
  nonce: uintString,
  deadline: uintString,
  signature: hexSignatureSchema,
  fiatPrice: fiatPriceSchema
    .optional()
    .describe("card price; only in a session of the creator, as the signature does not cover it"),
});

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
      security: ["session"],
      tags: ["offers"],
      params: z.object({ id: idSchema }),
      body: publishBody,
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
      query: z.object({
        workId: idSchema.optional(),
        creator: addressSchema.optional(),
        cursor: idSchema.optional().describe("nextCursor of the previous page"),
        limit: limitSchema,
      }),
      responses: {
        200: {
          description: "A page of offers, oldest first",
          schema: z.object({ items: z.array(offerSchema), nextCursor: z.string().nullable() }),
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
