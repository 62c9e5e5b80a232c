import type { RpcSender } from "../../lib/evidence/rpc.ts";

/** The raw JSON-RPC answers an evidence bundle keeps, exactly as the node gave them. */
export interface ChainFacts {
  receipt: Record<string, unknown>;
  blockHeader: Record<string, unknown>;
}

/** The transaction is not (or no longer) in a block the node agrees on; worth retrying later. */
export class ChainFactsPendingError extends Error {}

/**
 * Fetches the receipt of `txHash` and the header of its block (`eth_getBlockByNumber(n, false)`),
 * making sure both describe the same block, so a reorg between the two calls cannot mix chains.
 */
export async function fetchChainFacts(provider: RpcSender, txHash: string): Promise<ChainFacts> {
  const receipt = (await provider.send("eth_getTransactionReceipt", [txHash])) as Record<
    string,
    unknown
  > | null;
  if (!receipt) throw new ChainFactsPendingError(`transaction ${txHash} has no receipt yet`);
  const blockHeader = (await provider.send("eth_getBlockByNumber", [receipt.blockNumber, false])) as Record<
    string,
    unknown
  > | null;
  if (!blockHeader || String(blockHeader.hash).toLowerCase() !== String(receipt.blockHash).toLowerCase()) {
    throw new ChainFactsPendingError(
      `block ${String(receipt.blockNumber)} changed while reading ${txHash} (reorg)`,
    );
  }
  return { receipt, blockHeader };
}
