/** Licenses on the wire: a license, its history, and the answer of the verify path. */
import { z } from "zod";
import { addressSchema, finalitySchema, idSchema, limitSchema } from "./primitives.ts";

export const licenseSchema = z
  .object({
    tokenId: z.string(),
    offerId: z.string(),
    workId: z.string(),
    holder: z.string(),
    payer: z.string(),
    paymentRef: z.string().nullable(),
    expiresAt: z.string().nullable().describe("ISO 8601; null for perpetual licenses"),
    perpetual: z.boolean(),
    valid: z.boolean(),
    revoked: z.boolean(),
    revokedReason: z.string().nullable(),
    renewals: z.number(),
    blockNumber: z.string(),
    txHash: z.string(),
    finality: finalitySchema,
  })
  .meta({ id: "License" });

/** A renewal or transfer of a license. */
export const licenseEventSchema = z.object({
  kind: z.string(),
  blockNumber: z.string(),
  txHash: z.string(),
  detail: z.record(z.string(), z.string()),
});

export const licenseWithHistorySchema = licenseSchema.extend({ history: z.array(licenseEventSchema) });

export const licenseCheckSchema = z
  .object({
    valid: z.boolean(),
    tokenId: z.string().nullable(),
    validUntil: z.string().nullable().describe("ISO 8601; null when perpetual or invalid"),
    perpetual: z.boolean(),
    finality: finalitySchema.nullable(),
  })
  .meta({ id: "LicenseCheck" });

export const verifyLicenseQuery = z.object({ workId: idSchema, holder: addressSchema });

export const listLicensesQuery = z.object({
  holder: addressSchema,
  workId: idSchema.optional(),
  cursor: idSchema.optional(),
  limit: limitSchema,
});

export type License = z.infer<typeof licenseSchema>;
export type LicenseEvent = z.infer<typeof licenseEventSchema>;
export type LicenseWithHistory = z.infer<typeof licenseWithHistorySchema>;
export type LicenseCheck = z.infer<typeof licenseCheckSchema>;
export type ListLicensesQuery = z.output<typeof listLicensesQuery>;
