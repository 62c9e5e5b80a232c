/** Offers on the wire: an offer with supply and card price, its publication, and the signed terms sent to publish it. */
import { z } from "zod";
import {
  addressSchema,
  finalitySchema,
  hexSignatureSchema,
  idSchema,
  limitSchema,
  uintString,
} from "./primitives.ts";
import { activeSaleSchema } from "./promotions.ts";

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

export const offerSchema = z
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
    sale: activeSaleSchema
      .nullable()
      .describe("the sale window the offer is in now: its card price is the sale's until it ends"),
    blockNumber: z.string(),
    txHash: z.string(),
    finality: finalitySchema,
  })
  .meta({ id: "Offer" });

export const publicationStatusSchema = z.enum(["pending", "submitted", "published", "failed"]);

export const publicationSchema = z
  .object({
    id: z.string(),
    status: publicationStatusSchema,
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

export const publishOfferBody = z.object({
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

export const listOffersQuery = z.object({
  workId: idSchema.optional(),
  creator: addressSchema.optional(),
  cursor: idSchema.optional().describe("nextCursor of the previous page"),
  limit: limitSchema,
});

/** A card price as parsed (currency lower case); clients may send any case. */
export type FiatPrice = z.output<typeof fiatPriceSchema>;
export type Offer = z.infer<typeof offerSchema>;
export type PublicationStatus = z.infer<typeof publicationStatusSchema>;
export type OfferPublication = z.infer<typeof publicationSchema>;
/** A publish request as parsed: addresses lower case, currency and revocable defaulted. */
export type PublishOfferRequest = z.output<typeof publishOfferBody>;
/** A publish request as a client sends it. */
export type PublishOfferBody = z.input<typeof publishOfferBody>;
export type ListOffersQuery = z.output<typeof listOffersQuery>;
