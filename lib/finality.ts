/** How settled a block is: `pending` may still be reorganised away, `safe` is unlikely to be, `final` cannot be. */
export type Finality = "pending" | "safe" | "final";

/** The chain's head and its safe and finalized blocks, as last seen by the indexer. */
export interface ChainHeads {
  head: number;
  safe: number;
  finalized: number;
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
