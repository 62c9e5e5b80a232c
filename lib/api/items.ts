/** Game items on the wire: what a wallet holds, as indexed. */
import { z } from "zod";
import { addressSchema, finalitySchema } from "./primitives.ts";

export const itemHoldingSchema = z
  .object({
    token: z.string(),
    itemId: z.string(),
    balance: z.string(),
    uri: z.string().nullable(),
    maxSupply: z.string().nullable().describe("0 for uncapped"),
    finality: finalitySchema,
  })
  .meta({ id: "ItemHolding" });

export const holdingsSchema = z.object({ items: z.array(itemHoldingSchema) });

export const itemsQuery = z.object({ owner: addressSchema });

export type ItemHolding = z.infer<typeof itemHoldingSchema>;
export type Holdings = z.infer<typeof holdingsSchema>;
