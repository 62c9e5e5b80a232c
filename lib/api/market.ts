/**
 * The market on the wire: every open listing from every player, searched, filtered, sorted and paged
 * by keyset; a listing's page with the seller's reputation and the item's provenance; the market's
 * settings (the commission in force, the currencies the app knows).
 */
import { z } from "zod";
import { itemMetadataSchema, provenanceStepSchema } from "./items.ts";
import { addressSchema, limitSchema, uintString } from "./primitives.ts";
import { tradeSchema, tradeStepSchema } from "./trades.ts";

export const MARKET_SORTS = ["newest", "price_asc", "price_desc", "ending"] as const;

export const marketSortSchema = z.enum(MARKET_SORTS);

/**
 * Keyset position after the last listing of a page: `<listing id>` for `newest`,
 * `<price or deadline>.<listing id>` for the other sorts. The page's `nextCursor` is one.
 */
export const marketCursor = z
  .string()
  .regex(/^(\d{1,78}\.)?\d{1,78}$/, "must be a cursor from a previous page of the same sort");

export const marketQuery = z
  .object({
    q: z.string().trim().min(1).max(100).optional().describe("words of the item's name (case-insensitive)"),
    itemId: uintString.optional(),
    seller: addressSchema.optional(),
    currency: addressSchema.optional().describe("0x000…0 for the native currency"),
    minPrice: uintString.optional().describe("in the currency's smallest unit"),
    maxPrice: uintString.optional(),
    sort: marketSortSchema.default("newest"),
    cursor: marketCursor.optional(),
    limit: limitSchema,
  })
  // Zod runs every check, so this one must tolerate prices the field's own check refused.
  .refine(
    (q) =>
      !/^\d+$/.test(q.minPrice ?? "") ||
      !/^\d+$/.test(q.maxPrice ?? "") ||
      BigInt(q.minPrice!) <= BigInt(q.maxPrice!),
    { message: "minPrice must not exceed maxPrice", path: ["minPrice"] },
  );

/** What a sale pays: the commission fixed when the listing was made, and the rest to the seller. */
export const priceBreakdownSchema = z
  .object({
    price: z.string(),
    commissionBps: z.number(),
    commission: z.string().describe("rounded down, as the escrow rounds it"),
    sellerReceives: z.string(),
  })
  .meta({ id: "PriceBreakdown" });

export const marketListingSchema = tradeSchema
  .extend({
    item: itemMetadataSchema,
    breakdown: priceBreakdownSchema,
  })
  .meta({ id: "MarketListing" });

export const marketPageSchema = z.object({
  items: z.array(marketListingSchema),
  nextCursor: z.string().nullable(),
});

/** A wallet's record as a trader, from indexed history. */
export const sellerReputationSchema = z
  .object({
    address: z.string(),
    completedSales: z.number(),
    completedPurchases: z.number(),
    disputesLost: z.number().describe("disputes of its sales an arbiter refunded to the buyer"),
    disputesWon: z.number().describe("disputes of its sales an arbiter rejected"),
    disputesLapsed: z.number().describe("disputes of its sales nobody resolved in time, unwound"),
    disputesOpen: z.number(),
    openListings: z.number(),
    firstListedAt: z.string().nullable(),
  })
  .meta({ id: "SellerReputation" });

export const listingPageSchema = marketListingSchema
  .extend({
    buyable: z.boolean().describe("listed and its deadline not passed (by the chain's clock)"),
    history: z.array(tradeStepSchema.extend({ at: z.string().nullable() })),
    seller: z.string(),
    reputation: sellerReputationSchema,
    provenance: z.array(provenanceStepSchema).describe("the item's latest steps, newest first"),
    provenanceCursor: z.string().nullable().describe("continues with GET /v1/items/:itemId/history"),
  })
  .meta({ id: "ListingPage" });

export const marketCurrencySchema = z.object({
  address: z.string().describe("0x000…0 for the native currency"),
  symbol: z.string(),
  decimals: z.number(),
});

export const marketSettingsSchema = z
  .object({
    escrow: z.string(),
    itemToken: z.string(),
    commissionBps: z.number().describe("the commission new listings are made at, read from the escrow"),
    maxCommissionBps: z.number(),
    confirmationWindowSeconds: z.number(),
    disputeWindowSeconds: z.number(),
    currencies: z.array(marketCurrencySchema),
    chainTime: z.string().describe("the chain's time now (ISO 8601): deadlines are judged by it"),
  })
  .meta({ id: "MarketSettings" });

export const sellerParams = z.object({ address: addressSchema });

export const setCommissionBody = z.object({
  commissionBps: z.number().int().min(0).max(1500).describe("at most 1500 (15%), the escrow's cap"),
});

export type MarketSort = z.infer<typeof marketSortSchema>;
export type MarketQuery = z.output<typeof marketQuery>;
export type PriceBreakdown = z.infer<typeof priceBreakdownSchema>;
export type MarketListing = z.infer<typeof marketListingSchema>;
export type MarketPage = z.infer<typeof marketPageSchema>;
export type SellerReputation = z.infer<typeof sellerReputationSchema>;
export type ListingPage = z.infer<typeof listingPageSchema>;
export type MarketCurrency = z.infer<typeof marketCurrencySchema>;
export type MarketSettings = z.infer<typeof marketSettingsSchema>;
