import type { Logger } from "pino";
import type { ChainHeads } from "../lib/finality.ts";
import { isRpcRejection, type BlockHeader, type ChainClient } from "./chain.ts";
import type { IndexerConfig } from "./config.ts";

/** The latest block and the heads derived from it. */
export interface HeadView {
  latest: BlockHeader;
  heads: ChainHeads;
}

/**
 * Follows the chain's head and its `safe` and `finalized` blocks: from the chain's block tags, or
 * at configured depths below the head when the chain has no such tags (or finality is set to depth).
 * Safe and finalized never move back, so a provider that briefly lags cannot un-finalize a block.
 */
export function createHeadTracker(options: {
  chain: ChainClient;
  config: Pick<IndexerConfig, "finality" | "confirmations" | "safeConfirmations">;
  logger: Logger;
  initial: ChainHeads;
}) {
  const { chain, config, logger } = options;
  let useTags = config.finality === "tags";
  let heads: ChainHeads = { ...options.initial };

  async function readTags(): Promise<{ safe: number; finalized: number } | null> {
    try {
      const [safe, finalized] = await Promise.all([chain.block("safe"), chain.block("finalized")]);
      return { safe: safe?.number ?? 0, finalized: finalized?.number ?? 0 };
    } catch (error) {
      if (!isRpcRejection(error)) throw error;
      useTags = false;
      logger.info(
        { err: error, confirmations: config.confirmations },
        "chain has no safe/finalized block tags; finality falls back to confirmation depth",
      );
      return null;
    }
  }

  return {
    /** Heads as last refreshed. */
    current(): ChainHeads {
      return heads;
    },

    /** Reads the latest block and updates the heads; null when the provider has no latest block. */
    async refresh(): Promise<HeadView | null> {
      const [latest, tags] = await Promise.all([chain.block("latest"), useTags ? readTags() : null]);
      if (!latest) return null;
      const { safe, finalized } = tags ?? {
        safe: Math.max(0, latest.number - config.safeConfirmations),
        finalized: Math.max(0, latest.number - config.confirmations),
      };
      const final = Math.max(heads.finalized, Math.min(finalized, latest.number));
      heads = {
        head: latest.number,
        safe: Math.max(heads.safe, final, Math.min(safe, latest.number)),
        finalized: final,
      };
      return { latest, heads };
    },
  };
}

export type HeadTracker = ReturnType<typeof createHeadTracker>;
