/** Referrers on the wire: a creator's signed approval of a referrer on an offer, and an offer's approvals. */
import { z } from "zod";
import { addressSchema, finalitySchema, hexSignatureSchema, idSchema, uintString } from "./primitives.ts";

export const referrerParams = z.object({ id: idSchema, address: addressSchema });

export const setReferrerBody = z.object({
  approved: z.boolean().describe("true approves the referrer, false withdraws the approval"),
  nonce: uintString.describe("unused by the creator in any CreateOffer or SetReferrer signature"),
  deadline: uintString.describe("unix seconds by the chain's clock"),
  signature: hexSignatureSchema.describe(
    "the offer creator's EIP-712 SetReferrer(offerId, referrer, approved, nonce, deadline) signature",
  ),
});

export const referrerRequestStatusSchema = z.enum(["pending", "submitted", "confirmed", "failed"]);

export const referrerRequestSchema = z
  .object({
    id: z.string(),
    offerId: z.string(),
    referrer: z.string(),
    approved: z.boolean(),
    nonce: z.string(),
    status: referrerRequestStatusSchema.describe(
      "pending → submitted (setReferrerFor sent by the relayer) → confirmed, or failed",
    ),
    txHash: z.string().nullable(),
    error: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: "ReferrerRequest" });

export const offerReferrerSchema = z
  .object({
    referrer: z.string(),
    approved: z.boolean().describe("false once the creator withdrew the approval"),
    blockNumber: z.string(),
    txHash: z.string(),
    finality: finalitySchema,
  })
  .meta({ id: "OfferReferrer" });

export const offerReferrersSchema = z
  .object({
    offerId: z.string(),
    referrerBps: z.number().describe("the commission an approved referrer earns on each sale"),
    referrers: z.array(offerReferrerSchema).describe("approvals as the chain has them, latest first"),
    requests: z
      .array(referrerRequestSchema)
      .describe("approvals sent through the API and not yet confirmed, or failed, latest first"),
  })
  .meta({ id: "OfferReferrers" });

/** An approval as a client sends it. */
export type SetReferrerBody = z.input<typeof setReferrerBody>;
export type SetReferrerRequest = z.output<typeof setReferrerBody>;
export type ReferrerRequestStatus = z.infer<typeof referrerRequestStatusSchema>;
export type ReferrerRequest = z.infer<typeof referrerRequestSchema>;
export type OfferReferrer = z.infer<typeof offerReferrerSchema>;
export type OfferReferrers = z.infer<typeof offerReferrersSchema>;
