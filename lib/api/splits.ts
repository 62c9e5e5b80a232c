/** Revenue splits on the wire: the shares asked for and the split they map to. */
import { z } from "zod";
import { addressSchema } from "./primitives.ts";
import { transactionRequestSchema } from "./transactions.ts";

export const prepareSplitBody = z.object({
  recipients: z.array(addressSchema).min(1).max(50),
  sharesBps: z.array(z.number().int().min(1).max(10_000)).min(1).max(50),
  from: addressSchema
    .optional()
    .describe("wallet that will send createSplit; the first recipient by default"),
});

export const preparedSplitSchema = z
  .object({
    split: z
      .string()
      .describe("where the split lives (or will, once created): the offer's revenue recipient"),
    exists: z.boolean(),
    transaction: transactionRequestSchema
      .nullable()
      .describe("the createSplit call to send; null when the split exists already"),
  })
  .meta({ id: "PreparedSplit" });

export type PrepareSplitRequest = z.input<typeof prepareSplitBody>;
export type PreparedSplit = z.infer<typeof preparedSplitSchema>;
