/** Redemption codes on the wire: a creator's stock uploads and generations, its state, and a buyer's code. */
import { z } from "zod";
import { idSchema } from "./primitives.ts";

/** Most codes one upload or generation adds. */
export const MAX_CODES_PER_BATCH = 10_000;
/** The least entropy a generated code may have: guessing one stays out of reach. */
export const MIN_CODE_ENTROPY_BITS = 40;
export const DEFAULT_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/** Printable text without control characters or surrounding spaces. */
const PRINTABLE = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+$/u;

export const codeSchema = z
  .string()
  .min(4)
  .max(128)
  .regex(PRINTABLE, "must be printable text without control characters")
  .refine((v) => v.trim() === v, "must not start or end with spaces");

const generateSchema = z
  .object({
    count: z.number().int().min(1).max(MAX_CODES_PER_BATCH),
    alphabet: z
      .string()
      .min(2)
      .max(128)
      .regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces")
      .refine((v) => new Set(v).size === v.length, "must not repeat a character")
      .refine((v) => !v.includes("#"), "must not contain '#', the format's placeholder")
      .default(DEFAULT_CODE_ALPHABET),
    length: z.number().int().min(4).max(64).optional(),
    format: z
      .string()
      .max(128)
      .regex(/^[\x20-\x7e]+$/, "must be printable ASCII")
      .refine((v) => v.includes("#"), "must contain '#' placeholders for the drawn characters")
      .optional()
      .describe("e.g. 'GAME-####-####'; each '#' is drawn from the alphabet"),
  })
  .refine((g) => (g.length === undefined) !== (g.format === undefined), {
    message: "give either length or format",
  });

export const codeUploadBody = z
  .object({
    codes: z.array(codeSchema).min(1).max(MAX_CODES_PER_BATCH).optional(),
    generate: generateSchema.optional(),
    lowStockAt: z
      .number()
      .int()
      .min(0)
      .max(1_000_000)
      .optional()
      .describe("warn the creator when this many unsold codes are left (default 10)"),
  })
  .refine((b) => (b.codes === undefined) !== (b.generate === undefined), {
    message: "give either codes or generate",
  });
export type CodeUpload = z.infer<typeof codeUploadBody>;
/** An upload as a client sends it (the alphabet may be left out). */
export type CodeUploadRequest = z.input<typeof codeUploadBody>;

export const codeBatchSchema = z.object({
  batchId: z.string(),
  count: z.number(),
  source: z.enum(["upload", "generated"]),
  createdAt: z.string(),
  commitment: z
    .object({
      status: z.enum(["pending", "submitted", "committed", "failed"]),
      merkleRoot: z.string().nullable(),
      txHash: z.string().nullable(),
    })
    .describe("the batch's Merkle root on chain (CodeCommitments.commitCodes), sent once per batch"),
});
export type CodeBatch = z.infer<typeof codeBatchSchema>;

export const codeStockSchema = z
  .object({
    offerId: z.string(),
    total: z.number().describe("codes ever added"),
    sold: z.number().describe("codes kept for paid orders (void ones included)"),
    held: z.number().describe("unsold codes held by unpaid checkouts within their hold"),
    available: z.number().describe("codes the next checkout can take"),
    void: z.number().describe("sold codes whose order was refunded, charged back or failed"),
    lowStockAt: z.number(),
    batches: z.array(codeBatchSchema),
  })
  .meta({ id: "CodeStock" });
export type CodeStock = z.infer<typeof codeStockSchema>;

export const codeUploadResultSchema = z.object({ batch: codeBatchSchema, stock: codeStockSchema });
export type CodeUploadResult = z.infer<typeof codeUploadResultSchema>;

export const codeAlertSchema = z.object({
  id: z.string(),
  offerId: z.string(),
  remaining: z.number(),
  createdAt: z.string(),
});
export const codeAlertsSchema = z.object({ alerts: z.array(codeAlertSchema) });
export type CodeAlerts = z.infer<typeof codeAlertsSchema>;

export const orderCodeStatusSchema = z.enum(["pending", "delivered", "void"]);

export const orderCodeSchema = z
  .object({
    orderId: z.string(),
    offerId: z.string(),
    status: orderCodeStatusSchema.describe(
      "pending until the paid order's code is kept for it; void after a refund, chargeback or failure",
    ),
    code: z.string().nullable().describe("only while delivered"),
    deliveredAt: z.string().nullable(),
  })
  .meta({ id: "OrderCode" });
export type OrderCode = z.infer<typeof orderCodeSchema>;

export const codeProofSchema = z
  .object({
    orderId: z.string(),
    offerId: z.string(),
    code: z.string(),
    batchId: z.string().describe("the bytes32 the batch is committed under"),
    salt: z.string(),
    codeHash: z.string().describe("keccak256 of the code's UTF-8 bytes"),
    leaf: z.string().describe("keccak256(keccak256(abi.encode(offerId, salt, codeHash)))"),
    proof: z.array(z.string()),
    merkleRoot: z.string(),
    contract: z.string().describe("CodeCommitments: verifyCode(batchId, salt, codeHash, proof) answers true"),
    chainId: z.number(),
    txHash: z.string().nullable(),
    blockNumber: z.number().nullable(),
  })
  .meta({ id: "CodeProof" });
export type CodeProof = z.infer<typeof codeProofSchema>;

export const redeemBody = z.object({
  code: codeSchema,
  offerId: idSchema
    .optional()
    .describe("the offer the code was sold with; by default any of the key's creator's"),
  redeemer: z
    .string()
    .max(200)
    .regex(PRINTABLE, "must be printable text without control characters")
    .optional()
    .describe("who redeems it, as the creator's system knows them (an account id, an email)"),
});
export type RedeemRequest = z.infer<typeof redeemBody>;

export const redemptionSchema = z
  .object({
    status: z.literal("redeemed"),
    offerId: z.string(),
    orderId: z.string(),
    wallet: z.string().describe("the buyer's wallet"),
    redeemedAt: z.string(),
    redeemer: z.string().nullable(),
    keyId: z.string(),
  })
  .meta({ id: "Redemption" });
export type Redemption = z.infer<typeof redemptionSchema>;

export const createRedeemKeyBody = z.object({ name: z.string().trim().min(1).max(100) });
