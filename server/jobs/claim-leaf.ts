import type { Pool } from "pg";
import type { Logger } from "pino";
import type { WorkRegistry } from "../../types/typechain/index.ts";
import { leafRef, type BatchClaimer } from "../chain/batch-claimer.ts";
import { TransactionRevertedError, type Relayer } from "../chain/relayer.ts";
import { PermanentError } from "../errors.ts";
import {
  findLeaf,
  markLeafClaimed,
  markLeafClaimFailed,
  signedRegistration,
} from "../repositories/registrations.ts";

export interface ClaimLeafDeps {
  db: Pool;
  relayer: Relayer;
  claimer: BatchClaimer;
  registry: WorkRegistry;
  logger: Logger;
}

export interface ClaimLeafResult {
  status: "claimed" | "claimed-by-other" | "already-recorded";
  workId: string;
  txHash?: string;
}

/**
 * Claims leaf `leafIndex` of anchored batch `batchId` (the server's id), making it the work its
 * anchor reserved: until then a later direct claim of the same hash holds the work. The leaf's key
 * is the batch's root and the index; a retried job waits for the transaction an earlier attempt
 * recorded under it instead of sending another, and a leaf someone else claimed counts as done.
 */
export async function claimLeaf(
  deps: ClaimLeafDeps,
  batchId: string,
  leafIndex: number,
): Promise<ClaimLeafResult> {
  const { db, relayer, claimer, registry, logger } = deps;
  const leaf = await findLeaf(db, batchId, leafIndex);
  if (!leaf) throw new PermanentError(`batch ${batchId} has no leaf ${leafIndex}`);
  const { request } = leaf;
  if (leaf.chainBatchId === null || request.workId === null || request.proof === null) {
    throw new PermanentError(`batch ${batchId} is not anchored`);
  }
  const workId = request.workId;
  if (leaf.claimedAt !== null) {
    return { status: "already-recorded", workId, txHash: leaf.claimTxHash ?? undefined };
  }
  const ref = leafRef(leaf.merkleRoot, leafIndex);
  let hash = await relayer.sentFor(["claimBatched", "claimBatchedMany"], ref);
  if (!hash) {
    try {
      ({ hash } = await claimer.claim({
        ref,
        batchId: BigInt(leaf.chainBatchId),
        index: BigInt(leafIndex),
        registration: signedRegistration(request),
        signature: request.signature,
        proof: request.proof,
      }));
    } catch (err) {
      if (err instanceof TransactionRevertedError && err.errorName === "LeafAlreadyClaimed") {
        await markLeafClaimed(db, batchId, leafIndex, null);
        logger.info({ batchId, leafIndex, workId }, "batch leaf was claimed by someone else");
        return { status: "claimed-by-other", workId };
      }
      if (err instanceof TransactionRevertedError) {
        await markLeafClaimFailed(db, batchId, leafIndex, err.message);
        throw new PermanentError(err.message);
      }
      throw err;
    }
  }
  const receipt = await relayer.wait(hash);
  if (receipt.status !== 1) {
    // Someone claimed the leaf between the estimate and the block: done. Otherwise the ledger shows
    // the transaction reverted, so the next attempt sends a new claim.
    if (await claimedOnChain(registry, workId)) {
      await markLeafClaimed(db, batchId, leafIndex, null);
      return { status: "claimed-by-other", workId };
    }
    throw new Error(`claim of leaf ${leafIndex} of batch ${batchId} in ${receipt.hash} reverted`);
  }
  // A group skips a leaf claimed before it was mined: the leaf is ours only if this transaction revealed it.
  const ours = receipt.logs.some((log) => {
    const parsed = registry.interface.parseLog(log);
    return parsed?.name === "WorkRegistered" && parsed.args.workId === BigInt(workId);
  });
  await markLeafClaimed(db, batchId, leafIndex, ours ? receipt.hash : null);
  return { status: ours ? "claimed" : "claimed-by-other", workId, txHash: ours ? receipt.hash : undefined };
}

/** Whether the work id a leaf reserved has been revealed (by anyone: a leaf binds its creator). */
async function claimedOnChain(registry: WorkRegistry, workId: string): Promise<boolean> {
  try {
    await registry.getWork(BigInt(workId));
    return true;
  } catch (err) {
    if (registry.interface.parseError((err as { data?: string }).data ?? "0x")?.name === "UnknownWork") {
      return false;
    }
    throw err;
  }
}
