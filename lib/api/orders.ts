/**
 * Orders on the wire: card checkout (to a wallet, or held for an email address), an order with its
 * history, a buyer's orders, lookup by email and secret, claims, and an admin's revocation request.
 */
import { z } from "zod";
import { addressSchema, finalitySchema, idSchema, limitSchema, pageOf } from "./primitives.ts";
import { transactionRequestSchema } from "./transactions.ts";
import { couponCodeSchema } from "./promotions.ts";
import { emailAddressSchema } from "./mail.ts";

export const orderStatusSchema = z.enum([
  "created",
  "paid",
  "held",
  "minting",
  "fulfilled",
  "failed",
  "expired",
  "refunded",
  "disputed",
]);

export const paymentStatusSchema = z.enum(["none", "authorized", "captured", "canceled"]);

export const orderSchema = z
  .object({
    orderId: z.string(),
    offerId: z.string(),
    wallet: z
      .string()
      .nullable()
      .describe("receives the license; null while it is held for the buyer's email until claimed"),
    email: z.string().nullable().describe("the buyer's email address, when they gave one"),
    referrer: z.string().nullable(),
    amount: z.number().describe("what the buyer pays, in minor units"),
    listAmount: z.number().describe("the offer's card price at checkout"),
    saleAmount: z
      .number()
      .nullable()
      .describe(
        "the sale price the order started from, when made during a sale window; the coupon's discount comes off it",
      ),
    saleId: z.string().nullable(),
    discount: z.number().describe("what the coupon took off"),
    coupon: z.string().nullable().describe("the coupon's code"),
    currency: z.string(),
    status: orderStatusSchema,
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
    payment: paymentStatusSchema,
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

/** A step of an order's status history. */
export const orderEventSchema = z.object({
  seq: z.string(),
  status: orderStatusSchema,
  detail: z.record(z.string(), z.unknown()),
  at: z.string(),
});

export const orderWithHistorySchema = orderSchema.extend({ history: z.array(orderEventSchema) });

export const orderSecretQuery = z.object({
  secret: z
    .string()
    .max(64)
    .optional()
    .describe("the order secret from the checkout (or send it as X-Order-Secret)"),
});

const ZERO_ADDRESS = `0x${"0".repeat(40)}`;

export const checkoutBody = z
  .object({
    offerId: idSchema,
    wallet: addressSchema
      .refine((v) => v !== ZERO_ADDRESS, "must not be the zero address")
      .optional()
      .describe("receives the license; without it the license is held for `email` until claimed"),
    email: emailAddressSchema
      .optional()
      .describe("where the claim link (without a wallet) and the order's mail go"),
    referrer: addressSchema.optional(),
    coupon: couponCodeSchema.optional().describe("a coupon the offer's creator gives for it"),
  })
  .refine((b) => b.wallet !== undefined || b.email !== undefined, {
    message: "give a wallet address or an email address",
    path: ["wallet"],
  });

export const checkoutOrderSchema = orderSchema.extend({
  orderSecret: z.string().describe("lets its holder read the order (X-Order-Secret or ?secret=); shown once"),
});

/** Finds a card order again without a wallet: the email given at checkout and the order secret. */
export const orderLookupBody = z.object({
  email: emailAddressSchema,
  secret: z.string().min(1).max(64).describe("the order secret from the checkout"),
});

export const orderLookupSchema = orderWithHistorySchema.extend({
  orderSecret: z.string().describe("the secret again, for the order's other routes"),
});

/** A claim link's token (the part after `#token=`), sent by a signed-in wallet to take the held license. */
export const claimBody = z.object({
  token: z.string().regex(/^[A-Za-z0-9_-]{43}$/, "must be a claim token: 43 base64url characters"),
});

export const claimLinkSchema = z.object({
  expiresAt: z.string().describe("until when the newly mailed link can be used"),
});

/** One purchase in a wallet's order history: a card order, or a license bought on chain. */
export const buyerOrderSchema = z
  .object({
    kind: z.enum(["card", "crypto"]),
    id: z.string().describe("the card order's id, or `chain:<tokenId>`"),
    offerId: z.string(),
    workId: z.string().nullable(),
    tokenId: z.string().nullable(),
    amount: z.string().describe("what the buyer paid, in the currency's smallest unit"),
    currency: z
      .string()
      .describe("a card order's ISO 4217 code, or the ERC-20 (zero address: native) paid on chain"),
    status: z
      .string()
      .describe("a card order's status, or `fulfilled` / `revoked` for a license bought on chain"),
    txHash: z.string().nullable(),
    at: z.string(),
  })
  .meta({ id: "BuyerOrder" });

export const buyerOrdersPageSchema = pageOf(buyerOrderSchema);

export const buyerOrdersQuery = z.object({
  cursor: z.string().max(200).optional(),
  limit: limitSchema,
});

export const revocationRequestSchema = z.object({
  reason: z.string(),
  transaction: transactionRequestSchema,
});

export type OrderStatus = z.infer<typeof orderStatusSchema>;
export type PaymentStatus = z.infer<typeof paymentStatusSchema>;
export type Order = z.infer<typeof orderSchema>;
export type OrderEvent = z.infer<typeof orderEventSchema>;
export type OrderWithHistory = z.infer<typeof orderWithHistorySchema>;
export type CheckoutRequest = z.output<typeof checkoutBody>;
/** A checkout as a client sends it. */
export type CheckoutBody = z.input<typeof checkoutBody>;
export type CheckoutOrder = z.infer<typeof checkoutOrderSchema>;
export type RevocationRequest = z.infer<typeof revocationRequestSchema>;
export type OrderLookup = z.infer<typeof orderLookupSchema>;
export type BuyerOrder = z.infer<typeof buyerOrderSchema>;
export type BuyerOrdersPage = z.infer<typeof buyerOrdersPageSchema>;
