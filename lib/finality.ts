/** How settled a block is: `pending` may still be reorganised away, `safe` is unlikely to be, `final` cannot be. */
export type Finality = "pending" | "safe" | "final";

/** The chain's head and its safe and finalized blocks, as last seen by the indexer. */
export interface ChainHeads {
  head: number;
  safe: number;
  finalized: number;
}

/** The heads before the indexer has seen any block: nothing is safe or final yet. */
export const NO_HEADS: ChainHeads = { head: 0, safe: -1, finalized: -1 };

/** Heads read from the database as decimal strings (null when the indexer has not started). */
export function headsOf(row: {
  head: string | null;
  safe: string | null;
  finalized: string | null;
}): ChainHeads {
  return row.head === null
    ? NO_HEADS
    : { head: Number(row.head), safe: Number(row.safe), finalized: Number(row.finalized) };
}

/** The finality of something that happened in `blockNumber`, given the chain's heads. */
export function finalityOf(blockNumber: number | bigint | string, heads: ChainHeads): Finality {
  const block = Number(blockNumber);
  if (!Number.isSafeInteger(block) || block < 0)
    throw new Error(`invalid block number ${String(blockNumber)}`);
  if (block <= heads.finalized) return "final";
  if (block <= heads.safe) return "safe";
  return "pending";
}
