/** Revenue splits on the wire: the shares asked for, the split they map to, and its creation by the relayer. */
import { z } from "zod";
import { addressSchema, hexSignatureSchema, uintString } from "./primitives.ts";
import { transactionRequestSchema } from "./transactions.ts";

const recipientsSchema = z.array(addressSchema).min(1).max(50);
const sharesSchema = z.array(z.number().int().min(1).max(10_000)).min(1).max(50);

export const prepareSplitBody = z.object({
  recipients: recipientsSchema,
  sharesBps: sharesSchema,
  from: addressSchema
    .optional()
    .describe("wallet that signs the request (or sends createSplit); the first recipient by default"),
});

export const createSplitTypedDataSchema = z.object({
  domain: z.object({
    name: z.string(),
    version: z.string(),
    chainId: z.string(),
    verifyingContract: z.string(),
  }),
  types: z.record(z.string(), z.array(z.object({ name: z.string(), type: z.string() }))),
  primaryType: z.literal("CreateSplit"),
  message: z.object({
    creator: z.string(),
    recipients: z.array(z.string()),
    sharesBps: z.array(z.number()),
    deadline: z.string(),
  }),
});

export const preparedSplitSchema = z
  .object({
    split: z
      .string()
      .describe("where the split lives (or will, once created): the offer's revenue recipient"),
    exists: z.boolean(),
    typedData: createSplitTypedDataSchema
      .nullable()
      .describe(
        "the EIP-712 CreateSplit for `from` to sign and send to POST /v1/splits/requests, the relayer paying gas; null when the split exists already",
      ),
    transaction: transactionRequestSchema
      .nullable()
      .describe(
        "the createSplit call, for a wallet that pays its own gas; null when the split exists already",
      ),
  })
  .meta({ id: "PreparedSplit" });

export const createSplitBody = z.object({
  creator: addressSchema.describe("the wallet that signed, whose gas budget the creation counts against"),
  recipients: recipientsSchema,
  sharesBps: sharesSchema,
  deadline: uintString.describe("unix seconds by the chain's clock"),
  signature: hexSignatureSchema.describe("the creator's EIP-712 CreateSplit signature"),
});

export const splitRequestStatusSchema = z.enum(["pending", "submitted", "created", "failed"]);

export const splitRequestSchema = z
  .object({
    split: z.string(),
    creator: z.string().nullable().describe("who asked the relayer for it; null when it existed already"),
    status: splitRequestStatusSchema.describe(
      "pending → submitted (createSplit sent by the relayer) → created, or failed",
    ),
    txHash: z.string().nullable(),
    error: z.string().nullable(),
    createdAt: z.string().nullable(),
  })
  .meta({ id: "SplitRequest" });

export const splitParams = z.object({ split: addressSchema });

export type PrepareSplitRequest = z.input<typeof prepareSplitBody>;
export type PreparedSplit = z.infer<typeof preparedSplitSchema>;
export type CreateSplitTypedData = z.infer<typeof createSplitTypedDataSchema>;
/** A creation request as a client sends it. */
export type CreateSplitBody = z.input<typeof createSplitBody>;
export type CreateSplitRequest = z.output<typeof createSplitBody>;
export type SplitRequestStatus = z.infer<typeof splitRequestStatusSchema>;
export type SplitRequest = z.infer<typeof splitRequestSchema>;
