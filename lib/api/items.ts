/** Game items on the wire: what a wallet holds, what each item is (its ERC-1155 metadata), and its history. */
import { z } from "zod";
import { addressSchema, finalitySchema, limitSchema, uintString } from "./primitives.ts";

/**
 * An item's metadata document, read from its ERC-1155 URI (`{id}` replaced by the id): `data:` URIs
 * and `ipfs://` documents in the platform's store are read; other schemes are not fetched.
 */
export const itemMetadataSchema = z
  .object({
    status: z
      .enum(["resolved", "unsupported", "failed"])
      .describe(
        "resolved: read; unsupported: a URI the platform does not fetch (http, unknown scheme); failed: unreadable or not metadata",
      ),
    name: z.string().nullable().describe("chosen by the item's studio: show as untrusted text"),
    description: z.string().nullable(),
    image: z
      .string()
      .nullable()
      .describe("a data:image URI or a same-origin /ipfs/<cid> path; null when none can be shown"),
  })
  .meta({ id: "ItemMetadata" });

export const itemHoldingSchema = z
  .object({
    token: z.string(),
    itemId: z.string(),
    balance: z.string(),
    uri: z.string().nullable(),
    maxSupply: z.string().nullable().describe("0 for uncapped"),
    metadata: itemMetadataSchema,
    finality: finalitySchema.describe("of the balance's last change"),
  })
  .meta({ id: "ItemHolding" });

export const holdingsSchema = z.object({ items: z.array(itemHoldingSchema) });

export const itemsQuery = z.object({ owner: addressSchema });

export const itemParams = z.object({ itemId: uintString });

/** An item type with its supply and market figures. */
export const itemSchema = z
  .object({
    token: z.string(),
    itemId: z.string(),
    uri: z.string(),
    metadata: itemMetadataSchema,
    maxSupply: z.string().describe("0 for uncapped"),
    minted: z.string(),
    burned: z.string(),
    holders: z.number(),
    openListings: z.number(),
    blockNumber: z.string().describe("where the item was defined"),
    finality: finalitySchema,
  })
  .meta({ id: "Item" });

/**
 * One step of an item's provenance: a movement of the item (mint, transfer, burn; `from`/`to`/`amount`)
 * or an escrow event of a listing of it (`listingId`, `event`, `state`).
 */
export const provenanceStepSchema = z
  .object({
    kind: z.enum(["mint", "transfer", "burn", "trade"]),
    event: z
      .string()
      .describe("Transfer for a movement of the item; the escrow event (Listed, Bought…) of a trade"),
    listingId: z.string().nullable(),
    state: z.string().nullable().describe("the listing's state after a trade step"),
    from: z.string().nullable(),
    to: z.string().nullable(),
    amount: z.string().nullable(),
    blockNumber: z.string(),
    logIndex: z.number(),
    txHash: z.string(),
    at: z.string().nullable().describe("the block's time, ISO 8601"),
    finality: finalitySchema,
  })
  .meta({ id: "ProvenanceStep" });

/** Keyset position in a history, newest first: `<block>.<log>.<batch index>` of the last step seen. */
export const historyCursor = z
  .string()
  .regex(/^\d{1,15}\.\d{1,9}\.\d{1,9}$/, "must be a cursor from a previous page");

export const itemHistoryQuery = z.object({ cursor: historyCursor.optional(), limit: limitSchema });

export const itemHistorySchema = z.object({
  items: z.array(provenanceStepSchema),
  nextCursor: z.string().nullable(),
});

export type ItemMetadata = z.infer<typeof itemMetadataSchema>;
export type ItemHolding = z.infer<typeof itemHoldingSchema>;
export type Holdings = z.infer<typeof holdingsSchema>;
export type Item = z.infer<typeof itemSchema>;
export type ProvenanceStep = z.infer<typeof provenanceStepSchema>;
export type ItemHistory = z.infer<typeof itemHistorySchema>;
export type ItemHistoryQuery = z.output<typeof itemHistoryQuery>;
