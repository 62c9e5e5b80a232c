import { z } from "zod";

/** Redis pub/sub channel (after the deployment's key prefix) on which the indexer announces committed changes. */
export const CHAIN_CHANGES_CHANNEL = "chain:changes";

/** The full channel name for a deployment's Redis key prefix such as `"rl"` (keys are `<prefix>:…`). */
export function chainChangesChannel(prefix: string): string {
  return `${prefix}:${CHAIN_CHANGES_CHANNEL}`;
}

/** Most keys of one kind listed in a message; past it the message is `truncated` and lists none. */
export const MAX_KEYS_PER_KIND = 1000;

const decimal = z.string().regex(/^\d+$/);
const hex = z.string().regex(/^0x[0-9a-f]*$/);

export const changedKeysSchema = z.object({
  workIds: z.array(decimal),
  /** License token ids. */
  tokenIds: z.array(decimal),
  offerIds: z.array(decimal),
  listingIds: z.array(decimal),
  /** Card payment references (bytes32, lowercase hex) of licenses minted or rolled back. */
  paymentRefs: z.array(hex),
  /** Game item ids. */
  itemIds: z.array(decimal),
  /** Revenue split addresses (lowercase). */
  splits: z.array(hex),
  /** Accounts whose licenses, items, listings or payouts changed (lowercase). */
  accounts: z.array(hex),
  /** Ids (bytes32, lowercase hex) of card revenue settlements paid or rolled back. */
  settlementIds: z.array(hex),
});

export const chainHeadsSchema = z.object({
  head: z.number().int().nonnegative(),
  safe: z.number().int().nonnegative(),
  finalized: z.number().int().nonnegative(),
});

/**
 * One message on the channel. `indexed`: rows of blocks `fromBlock..toBlock` were committed.
 * `rolledBack`: a reorg removed every row above `forkBlock` (up to `toBlock`); the keys are those of
 * the removed rows. `truncated` means some kind had more than MAX_KEYS_PER_KIND keys and the lists
 * are empty: treat everything in the range as changed. Messages are hints; PostgreSQL is the truth.
 */
export const chainChangeSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("indexed"),
    chainId: z.number().int().positive(),
    fromBlock: z.number().int().nonnegative(),
    toBlock: z.number().int().nonnegative(),
    events: z.number().int().nonnegative(),
    truncated: z.boolean(),
    keys: changedKeysSchema,
    heads: chainHeadsSchema,
  }),
  z.object({
    kind: z.literal("rolledBack"),
    chainId: z.number().int().positive(),
    forkBlock: z.number().int().nonnegative(),
    toBlock: z.number().int().nonnegative(),
    events: z.number().int().nonnegative(),
    truncated: z.boolean(),
    keys: changedKeysSchema,
    heads: chainHeadsSchema,
  }),
  z.object({
    kind: z.literal("heads"),
    chainId: z.number().int().positive(),
    heads: chainHeadsSchema,
  }),
]);

export type ChangedKeys = z.infer<typeof changedKeysSchema>;
export type ChainChange = z.infer<typeof chainChangeSchema>;

/** Changed keys with every kind empty. */
export function noChangedKeys(): ChangedKeys {
  return {
    workIds: [],
    tokenIds: [],
    offerIds: [],
    listingIds: [],
    paymentRefs: [],
    itemIds: [],
    splits: [],
    accounts: [],
    settlementIds: [],
  };
}

/** Parses a message received on the channel; null when it is not one. */
export function parseChainChange(message: string): ChainChange | null {
  try {
    const parsed = chainChangeSchema.safeParse(JSON.parse(message));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
