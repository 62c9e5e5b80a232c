/** Promotions on the wire: coupons creators give for their offers. */
import { z } from "zod";
import { idSchema } from "./primitives.ts";

export const couponCodeSchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9_-]{3,40}$/, "3–40 letters, digits, '_' or '-'")
  .transform((v) => v.toUpperCase());

export const createCouponBody = z
  .object({
    code: couponCodeSchema,
    kind: z.enum(["percent", "fixed"]),
    value: z
      .number()
      .int()
      .positive()
      .max(100_000_000)
      .describe("a percentage (1–100), or an amount in the currency's minor units"),
    currency: z
      .string()
      .regex(/^[a-z]{3}$/, "a lower-case ISO 4217 code")
      .optional()
      .describe("for a fixed amount: the offers' card currency"),
    maxUses: z.number().int().positive().max(10_000_000).optional().describe("uses by everyone"),
    maxUsesPerBuyer: z.number().int().positive().max(1000).optional().describe("uses per wallet"),
    startsAt: z.iso.datetime().optional(),
    endsAt: z.iso.datetime().optional(),
    offerIds: z.array(idSchema).min(1).max(100).describe("the creator's offers it applies to"),
  })
  .refine((c) => c.kind !== "percent" || c.value <= 100, {
    message: "a percentage is at most 100",
    path: ["value"],
  })
  .refine((c) => (c.kind === "fixed") === (c.currency !== undefined), {
    message: "a fixed amount needs its currency, a percentage none",
    path: ["currency"],
  })
  .refine((c) => !c.endsAt || Date.parse(c.endsAt) > Date.parse(c.startsAt ?? new Date().toISOString()), {
    message: "must end after it starts",
    path: ["endsAt"],
  });
export type CreateCoupon = z.infer<typeof createCouponBody>;

export const couponSchema = z
  .object({
    id: z.string(),
    code: z.string(),
    kind: z.enum(["percent", "fixed"]),
    value: z.number(),
    currency: z.string().nullable(),
    maxUses: z.number().nullable(),
    maxUsesPerBuyer: z.number().nullable(),
    startsAt: z.string(),
    endsAt: z.string().nullable(),
    offerIds: z.array(z.string()),
    used: z.number().describe("orders paid or still holding their checkout with it"),
    createdAt: z.string(),
  })
  .meta({ id: "Coupon" });
export type Coupon = z.infer<typeof couponSchema>;

export const couponsSchema = z.object({ items: z.array(couponSchema) });

export const createSaleBody = z
  .object({
    amount: z
      .number()
      .int()
      .positive()
      .max(Number.MAX_SAFE_INTEGER)
      .describe("the sale price in the offer's card currency's minor units, below its card price"),
    startsAt: z.iso.datetime({ offset: true }).optional().describe("now when omitted"),
    endsAt: z.iso.datetime({ offset: true }),
    maxPerWallet: z
      .number()
      .int()
      .positive()
      .max(1000)
      .describe("orders each wallet may make at the sale price"),
    maxTotal: z
      .number()
      .int()
      .positive()
      .max(10_000_000)
      .optional()
      .describe("orders everyone may make at the sale price"),
  })
  .refine((s) => Date.parse(s.endsAt) > Date.now(), { message: "must end in the future", path: ["endsAt"] })
  .refine((s) => !s.startsAt || Date.parse(s.endsAt) > Date.parse(s.startsAt), {
    message: "must end after it starts",
    path: ["endsAt"],
  });
export type CreateSale = z.infer<typeof createSaleBody>;

export const saleSchema = z
  .object({
    id: z.string(),
    offerId: z.string(),
    amount: z.number().describe("the sale price in minor units"),
    currency: z.string(),
    startsAt: z.string(),
    endsAt: z.string(),
    maxPerWallet: z.number(),
    maxTotal: z.number().nullable(),
    status: z.enum(["upcoming", "active", "ended"]),
    sold: z.number().describe("orders paid, or unpaid and still payable, at the sale price"),
  })
  .meta({ id: "Sale" });
export type Sale = z.infer<typeof saleSchema>;

export const salesSchema = z.object({ items: z.array(saleSchema) });

/** The sale an offer is on now, as offers show it beside their card price. */
export const activeSaleSchema = z
  .object({
    id: z.string(),
    amount: z.number().describe("the sale price in minor units of the card price's currency"),
    endsAt: z.string(),
    maxPerWallet: z.number(),
  })
  .meta({ id: "ActiveSale" });
export type ActiveSale = z.infer<typeof activeSaleSchema>;
