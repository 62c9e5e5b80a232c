/**
 * Disputes on the wire: the buyer's reason, both parties' evidence (statements and files, each with
 * its SHA-256), the arbiter's decisions with their reasons, and what the escrow allows next.
 */
import { z } from "zod";
import { addressSchema, idSchema, limitSchema } from "./primitives.ts";
import { tradeSchema } from "./trades.ts";

export const DISPUTE_REASONS = ["not_received", "not_as_described", "wrong_amount", "other"] as const;
export const disputeReasonSchema = z.enum(DISPUTE_REASONS);

export const PARTIES = ["buyer", "seller"] as const;
export const partySchema = z.enum(PARTIES);

/** What an arbiter may decide: the escrow's two resolutions, and (admins) handing the dispute to another arbiter. */
export const DECISION_OUTCOMES = ["refund_buyer", "complete_sale", "reassign"] as const;
export const decisionOutcomeSchema = z.enum(DECISION_OUTCOMES);

export const evidenceSchema = z
  .object({
    id: z.string(),
    party: partySchema,
    submittedBy: z.string(),
    kind: z.enum(["statement", "file"]),
    sha256: z.string().describe("SHA-256 of the statement's UTF-8 bytes or of the file, 0x-prefixed"),
    size: z.number().describe("bytes"),
    text: z.string().nullable().describe("the statement; null for a file"),
    filename: z.string().nullable(),
    mediaType: z.string().nullable().describe("as the party declared it; the file is served as a download"),
    submittedAt: z.string(),
  })
  .meta({ id: "DisputeEvidence" });

export const decisionSchema = z
  .object({
    id: z.string(),
    outcome: decisionOutcomeSchema,
    reason: z.string(),
    decidedBy: z.string().describe("the admin's wallet, or `key:<id>` for an API key"),
    signer: z.string().describe("the wallet that must send the decision's transaction"),
    arbiter: z.string().nullable().describe("the new arbiter of a reassignment"),
    decidedAt: z.string(),
  })
  .meta({ id: "DisputeDecision" });

/** An outcome the escrow allows now, and who must sign it. */
export const allowedOutcomeSchema = z.object({
  outcome: z.enum(["refund_buyer", "complete_sale", "reassign", "unwind"]),
  signer: z.string().nullable().describe("null: anyone may send it"),
  description: z.string(),
});

export const disputeSchema = z
  .object({
    listingId: z.string(),
    trade: tradeSchema,
    status: z
      .enum(["opening", "open", "lapsed", "resolved"])
      .describe(
        "opening: evidence given, the escrow's dispute not indexed yet; lapsed: past the arbiter's deadline",
      ),
    reason: disputeReasonSchema.nullable(),
    openedBy: z.string().nullable(),
    openedAt: z.string().nullable(),
    evidence: z.object({ buyer: z.array(evidenceSchema), seller: z.array(evidenceSchema) }),
    evidenceHashes: z.array(z.string()).describe("every piece of evidence's SHA-256, in submission order"),
    decisions: z.array(decisionSchema),
    resolveBy: z.string().nullable(),
    arbiter: z.string().nullable().describe("who may resolve it: the assigned arbiter, else the escrow's"),
    allowedOutcomes: z.array(allowedOutcomeSchema),
  })
  .meta({ id: "Dispute" });

export const statementBody = z.object({
  text: z.string().trim().min(1).max(10_000),
  reason: disputeReasonSchema
    .optional()
    .describe("the buyer's reason, required with the buyer's first evidence"),
});

export const evidenceParams = z.object({ id: idSchema, evidenceId: idSchema });

export const disputeQueueQuery = z.object({
  status: z.enum(["open", "lapsed", "resolved"]).default("open"),
  cursor: z
    .string()
    .regex(/^\d{1,20}\.\d{1,78}$/, "must be a cursor from a previous page")
    .optional(),
  limit: limitSchema,
});

export const disputeQueueItemSchema = z
  .object({
    listingId: z.string(),
    trade: tradeSchema,
    reason: disputeReasonSchema.nullable(),
    evidenceCount: z.object({ buyer: z.number(), seller: z.number() }),
    lastEvidenceAt: z.string().nullable(),
    decisions: z.number(),
  })
  .meta({ id: "DisputeQueueItem" });

export const disputeQueueSchema = z.object({
  items: z.array(disputeQueueItemSchema),
  nextCursor: z.string().nullable(),
});

export const resolveTradeBody = z.object({
  refundBuyer: z.boolean(),
  reason: z.string().trim().min(10).max(2000).describe("recorded with the decision; both parties see it"),
});

export const assignArbiterBody = z.object({
  arbiter: addressSchema,
  reason: z.string().trim().min(10).max(2000),
});

export type DisputeReason = z.infer<typeof disputeReasonSchema>;
export type Party = z.infer<typeof partySchema>;
export type DecisionOutcome = z.infer<typeof decisionOutcomeSchema>;
export type Evidence = z.infer<typeof evidenceSchema>;
export type Decision = z.infer<typeof decisionSchema>;
export type AllowedOutcome = z.infer<typeof allowedOutcomeSchema>;
export type Dispute = z.infer<typeof disputeSchema>;
export type StatementBody = z.infer<typeof statementBody>;
export type DisputeQueueQuery = z.output<typeof disputeQueueQuery>;
export type DisputeQueueItem = z.infer<typeof disputeQueueItemSchema>;
export type DisputeQueue = z.infer<typeof disputeQueueSchema>;
export type ResolveTradeBody = z.infer<typeof resolveTradeBody>;
export type AssignArbiterBody = z.infer<typeof assignArbiterBody>;
