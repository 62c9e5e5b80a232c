/** Refund requests on the wire: a card buyer's request, its state, the creator's decision, an offer's refund window. */
import { z } from "zod";
import { emailAddressSchema } from "./mail.ts";

/** Printable text without control characters (new lines allowed). */
const TEXT = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$/u;

/** A reason typed by a buyer or a creator: 3 to 1,000 characters of text, new lines allowed. */
export const refundReasonSchema = z
  .string()
  .trim()
  .min(3, "must be at least 3 characters")
  .max(1000, "must be at most 1000 characters")
  .refine((v) => TEXT.test(v.replace(/\r?\n/g, " ")), "must not contain control characters");

export const refundStatusSchema = z.enum(["requested", "approved", "refunded", "declined", "cancelled"]);

export const refundRequestSchema = z
  .object({
    requestId: z.string(),
    orderId: z.string(),
    offerId: z.string(),
    status: refundStatusSchema,
    reason: z.string().describe("the buyer's"),
    amount: z.number().describe("what the refund pays back, in minor units: the whole price paid"),
    currency: z.string(),
    decision: z
      .object({
        approved: z.boolean(),
        reason: z.string(),
        by: z.string().describe("the wallet that decided (the offer's creator or an admin)"),
        at: z.string(),
      })
      .nullable(),
    refundedAt: z.string().nullable(),
    requestedAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: "RefundRequest" });

/** An order's refund standing: its request (if any) and the window in which one may be made. */
export const orderRefundSchema = z.object({
  request: refundRequestSchema.nullable(),
  window: z.object({
    seconds: z.number().describe("the offer's refund window"),
    closesAt: z.string().nullable().describe("when requests stop being taken; null until the sale is booked"),
    open: z.boolean(),
  }),
  refundable: z
    .boolean()
    .describe(
      "whether a request may be made now: a paid card order, fulfilled or held for a claim, in its window, without one",
    ),
});

export const refundRequestBody = z.object({
  reason: refundReasonSchema,
  email: emailAddressSchema
    .optional()
    .describe("where the creator's decision is mailed; the order's email address by default"),
});

export const refundDecisionBody = z.object({
  decision: z.enum(["approve", "decline"]),
  reason: refundReasonSchema,
});

export const refundRequestParams = z.object({ id: z.uuid() });

export const refundRequestsQuery = z.object({
  offerId: z
    .string()
    .regex(/^[1-9][0-9]{0,77}$/, "must be a positive integer in decimal")
    .optional(),
  status: refundStatusSchema.optional(),
});

export const refundRequestListSchema = z.object({ requests: z.array(refundRequestSchema) });

/** The longest refund window an offer may have: a year. The platform's REFUND_WINDOW_SECONDS caps it further. */
export const MAX_REFUND_WINDOW_SECONDS = 366 * 86_400;

export const refundWindowBody = z.object({
  seconds: z
    .number()
    .int()
    .min(0)
    .max(MAX_REFUND_WINDOW_SECONDS)
    .describe("0: no refunds on request; at most the platform's REFUND_WINDOW_SECONDS"),
});

export const refundWindowSchema = z.object({
  offerId: z.string(),
  seconds: z.number(),
  /** Whether the offer uses the platform's window (its creator set none). */
  platformDefault: z.boolean(),
  platformSeconds: z.number(),
});

export type RefundStatus = z.infer<typeof refundStatusSchema>;
export type RefundRequest = z.infer<typeof refundRequestSchema>;
export type OrderRefund = z.infer<typeof orderRefundSchema>;
export type RefundDecision = z.infer<typeof refundDecisionBody>;
export type RefundRequestList = z.infer<typeof refundRequestListSchema>;
export type RefundWindow = z.infer<typeof refundWindowSchema>;
