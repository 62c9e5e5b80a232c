/** Works on the wire: upload, registration and the registered work as the API answers them. */
import { z } from "zod";
import {
  addressSchema,
  finalitySchema,
  hexSignatureSchema,
  idSchema,
  limitSchema,
  sha256Schema,
  uintString,
  valueNotesSchema,
} from "./primitives.ts";

export const visibilitySchema = z
  .enum(["private", "public"])
  .describe(
    "private: stored encrypted, delivered only to licence holders; public: stored in the clear, served by /ipfs to anyone",
  );

export const previewSchema = z
  .object({
    cid: z.string(),
    url: z.string().describe("where anyone reads it: /ipfs/<cid>"),
    size: z.number(),
    filename: z.string().nullable(),
    contentType: z.string().nullable(),
  })
  .meta({ id: "Preview" });

export const workSchema = z
  .object({
    workId: z.string(),
    contentHash: z.string(),
    creator: z.string(),
    parentId: z.string().nullable(),
    rootId: z.string().describe("the first version of the work's version chain"),
    version: z.number().describe("1 for the first version"),
    title: z.string().nullable().describe("the title the creator gave at upload, when known"),
    cid: z.string(),
    metadataURI: z.string(),
    visibility: visibilitySchema
      .nullable()
      .describe("how the platform stores the file; null when it was not uploaded here"),
    preview: previewSchema.nullable().describe("the creator's public preview, shown on the work's page"),
    coAuthors: z.array(z.string()),
    valueNotes: valueNotesSchema,
    registeredAt: z
      .string()
      .describe("ISO 8601 time the claim's id was reserved (its commitment's or batch's block)"),
    supersededBy: z
      .string()
      .nullable()
      .describe(
        "The earlier claim of the same file that holds the work; this claim's creator is not its author",
      ),
    blockNumber: z.string(),
    blockHash: z.string(),
    txHash: z.string(),
    logIndex: z.number(),
    finality: finalitySchema,
  })
  .meta({ id: "Work" });

export const registrationStatusSchema = z.enum(["pending", "submitted", "anchored", "failed"]);

export const registrationSchema = z
  .object({
    contentHash: z.string(),
    status: registrationStatusSchema,
    mode: z.enum(["direct", "batch"]).nullable(),
    creator: z.string(),
    txHash: z.string().nullable(),
    error: z.string().nullable(),
    work: workSchema.nullable(),
    batch: z
      .object({
        id: z.string(),
        merkleRoot: z.string().nullable(),
        leaf: z.string(),
        leafIndex: z.number().nullable(),
        registrationDigest: z.string().nullable(),
        proof: z.array(z.string()),
      })
      .nullable(),
  })
  .meta({ id: "Registration" });

/** The EIP-712 `Register` message a creator signs to register an upload. */
export const registerTypedDataSchema = z.object({
  domain: z.object({
    name: z.string(),
    version: z.string(),
    chainId: z.string(),
    verifyingContract: z.string(),
  }),
  types: z.record(z.string(), z.array(z.object({ name: z.string(), type: z.string() }))),
  primaryType: z.literal("Register"),
  message: z.record(z.string(), z.string()),
});

export const uploadSchema = z
  .object({
    sha256: z.string(),
    cid: z.string().describe("the stored file's CID: of the sealed (encrypted) file when private"),
    size: z.number(),
    visibility: visibilitySchema,
    metadataURI: z.string(),
    alreadyRegistered: z.boolean(),
    registration: workSchema.nullable(),
    typedData: registerTypedDataSchema
      .nullable()
      .describe("EIP-712 payload for the creator to sign; null when the file is registered already"),
  })
  .meta({ id: "Upload" });

export const sha256Params = z.object({ sha256: sha256Schema });

export const registerBody = z.object({
  creator: addressSchema,
  cid: z.string().min(1).max(128),
  metadataURI: z.string().min(1).max(512),
  parentId: uintString.default("0"),
  nonce: uintString,
  deadline: uintString,
  signature: hexSignatureSchema,
});

export const listWorksQuery = z.object({
  creator: addressSchema.optional(),
  q: z.string().max(200).optional().describe("text in the title or description"),
  cursor: idSchema.optional().describe("nextCursor of the previous page"),
  limit: limitSchema,
});

export type Work = z.infer<typeof workSchema>;
export type RegistrationStatus = z.infer<typeof registrationStatusSchema>;
export type Registration = z.infer<typeof registrationSchema>;
export type RegisterTypedData = z.infer<typeof registerTypedDataSchema>;
export type Upload = z.infer<typeof uploadSchema>;
export type Visibility = z.infer<typeof visibilitySchema>;
export type Preview = z.infer<typeof previewSchema>;
/** A registration request as parsed: addresses lower case, parentId defaulted. */
export type RegisterRequest = z.output<typeof registerBody>;
export type ListWorksQuery = z.output<typeof listWorksQuery>;
