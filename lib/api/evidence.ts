/** Evidence on the wire: a bundle request and its progress, and the answer of the bundle verifier. */
import { z } from "zod";
import { idSchema, sha256Schema } from "./primitives.ts";

/** Clocks differ; an observation a few minutes "ahead" of ours is still plausible. */
const CLOCK_SKEW_MS = 5 * 60_000;

export const evidenceStatusSchema = z.enum(["queued", "building", "ready", "failed"]);

/** What the requester says about the infringement; parsed to its stored form (suspectSha256 0x lower case). */
export const infringementBodySchema = z.object({
  url: z
    .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
    .max(2048)
    .optional()
    .describe("where the suspect copy was found"),
  observedAt: z.iso
    .datetime({ offset: true, error: "must be an ISO 8601 date-time with a time zone" })
    .refine((v) => Date.parse(v) <= Date.now() + CLOCK_SKEW_MS, "must not be in the future")
    .transform((v) => new Date(v).toISOString())
    .describe("when the infringement was observed"),
  notes: z.string().max(4000).optional(),
  suspectSha256: sha256Schema
    .optional()
    .describe("SHA-256 of the suspect copy; the bundle states whether it matches the work"),
});

export const requestEvidenceBody = z
  .object({
    workId: idSchema.optional().describe("a directly registered work"),
    contentHash: sha256Schema.optional().describe("the work's SHA-256; also finds works anchored in a batch"),
    infringement: infringementBodySchema,
    includeOriginal: z.boolean().default(false).describe("put the registered file into the bundle"),
  })
  .refine((b) => (b.workId === undefined) !== (b.contentHash === undefined), {
    message: "give exactly one of workId and contentHash",
    path: ["workId"],
  });

/** The infringement as stored and answered. */
export const infringementSchema = z.object({
  url: z.string().optional(),
  observedAt: z.string(),
  notes: z.string().optional(),
  suspectSha256: z.string().optional(),
});

export const evidenceRequestSchema = z
  .object({
    id: z.string(),
    status: evidenceStatusSchema,
    workId: z.string().nullable().describe("null for a work anchored only in a Merkle batch"),
    contentHash: z.string(),
    creator: z.string(),
    requestedBy: z.object({ kind: z.enum(["apiKey", "address"]), id: z.string() }),
    infringement: infringementSchema,
    includeOriginal: z.boolean(),
    error: z.string().nullable(),
    bundle: z
      .object({
        sha256: z.string().describe("hex SHA-256 of the zip, also its ETag"),
        size: z.number(),
        url: z.string(),
      })
      .nullable(),
    createdAt: z.string(),
    completedAt: z.string().nullable(),
  })
  .meta({ id: "EvidenceRequest" });

export const evidenceIdParams = z.object({ id: z.uuid("must be a UUID") });

/** One verified fact. A skipped check was not possible with the given options and does not fail. */
export const verificationCheckSchema = z.object({
  name: z.string(),
  ok: z.boolean(),
  skipped: z.boolean().optional(),
  detail: z.string(),
});

export const bundleVerificationSchema = z
  .object({ ok: z.boolean(), checks: z.array(verificationCheckSchema) })
  .meta({ id: "BundleVerification" });

export type EvidenceStatus = z.infer<typeof evidenceStatusSchema>;
/** What a client sends to request a bundle. */
export type RequestEvidenceBody = z.input<typeof requestEvidenceBody>;
export type Infringement = z.infer<typeof infringementSchema>;
export type EvidenceRequest = z.infer<typeof evidenceRequestSchema>;
export type VerificationCheck = z.infer<typeof verificationCheckSchema>;
export type BundleVerification = z.infer<typeof bundleVerificationSchema>;
