/** Escrowed trades on the wire: a trade, its steps, and the requests that prepare escrow transactions. */
import { z } from "zod";
import { addressSchema, finalitySchema, idSchema, limitSchema, uintString } from "./primitives.ts";

const NATIVE = "0x0000000000000000000000000000000000000000";

export const TRADE_STATES = [
  "listed",
  "paid",
  "disputed",
  "completed",
  "cancelled",
  "expired",
  "refunded",
] as const;

export const tradeStateSchema = z.enum(TRADE_STATES);

export const tradeSchema = z
  .object({
    listingId: z.string(),
    seller: z.string(),
    buyer: z.string().nullable(),
    token: z.string(),
    itemId: z.string(),
    amount: z.string(),
    price: z.string(),
    currency: z.string().describe("0x000…0 for the native currency"),
    deadline: z.string(),
    confirmBy: z.string().nullable(),
    state: tradeStateSchema,
    commissionBps: z.number().describe("commission fixed at listing, in basis points"),
    resolveBy: z.string().nullable().describe("end of the arbiter's time; after it anyone can unwind"),
    sellerProceeds: z.string().nullable(),
    commission: z.string().nullable(),
    settled: z.boolean().nullable(),
    arbiter: z.string().nullable().describe("who resolved the dispute (null when it lapsed)"),
    assignedArbiter: z.string().nullable(),
    itemsClaimed: z.boolean(),
    fundsClaimed: z.boolean(),
    blockNumber: z.string(),
    txHash: z.string(),
    finality: finalitySchema,
  })
  .meta({ id: "Trade" });

/** A change of a trade's state, as indexed. */
export const tradeStepSchema = z.object({
  event: z.string(),
  state: tradeStateSchema,
  blockNumber: z.string(),
  txHash: z.string(),
  finality: finalitySchema,
});

export const tradeWithHistorySchema = tradeSchema.extend({ history: z.array(tradeStepSchema) });

export const listTradesQuery = z.object({
  seller: addressSchema.optional(),
  buyer: addressSchema.optional(),
  state: tradeStateSchema.optional(),
  cursor: idSchema.optional(),
  limit: limitSchema,
});

export const listItemsBody = z.object({
  seller: addressSchema,
  itemId: uintString,
  amount: idSchema,
  price: idSchema,
  currency: addressSchema.default(NATIVE),
  deadline: uintString.describe("unix seconds: last moment a buyer can pay"),
});

export const withdrawBody = z.object({ account: addressSchema, currency: addressSchema.default(NATIVE) });

export type TradeState = z.infer<typeof tradeStateSchema>;
export type Trade = z.infer<typeof tradeSchema>;
export type TradeStep = z.infer<typeof tradeStepSchema>;
export type TradeWithHistory = z.infer<typeof tradeWithHistorySchema>;
export type ListTradesQuery = z.output<typeof listTradesQuery>;
/** A listing request as parsed: addresses lower case, the currency defaulted. */
export type ListItemsRequest = z.output<typeof listItemsBody>;
