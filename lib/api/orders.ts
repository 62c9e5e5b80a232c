/** Orders on the wire: card checkout, an order with its history, and an admin's revocation request. */
import { z } from "zod";
import { addressSchema, finalitySchema, idSchema } from "./primitives.ts";
import { transactionRequestSchema } from "./transactions.ts";
import { couponCodeSchema } from "./promotions.ts";

export const orderStatusSchema = z.enum([
  "created",
  "paid",
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
    wallet: z.string(),
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

export const checkoutBody = z.object({
  offerId: idSchema,
  wallet: addressSchema.describe("receives the license"),
  referrer: addressSchema.optional(),
  coupon: couponCodeSchema.optional().describe("a coupon the offer's creator gives for it"),
});

export const checkoutOrderSchema = orderSchema.extend({
  orderSecret: z.string().describe("lets its holder read the order (X-Order-Secret or ?secret=); shown once"),
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
