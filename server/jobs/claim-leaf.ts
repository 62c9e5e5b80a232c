import type { Pool } from "pg";
import type { Logger } from "pino";
import type { WorkRegistry } from "../../types/typechain/index.ts";
import { leafRef, type BatchClaimer } from "../chain/batch-claimer.ts";
import { TransactionRevertedError, type Relayer } from "../chain/relayer.ts";
import { PermanentError } from "../errors.ts";
import { findLeaf, markLeafClaimed, markLeafClaimFailed } from "../repositories/registrations.ts";

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
  let hash = (await relayer.sentFor("claimBatched", ref)) ?? (await relayer.sentFor("claimBatchedMany", ref));
  if (!hash) {
    try {
      ({ hash } = await claimer.claim({
        ref,
        batchId: BigInt(leaf.chainBatchId),
        index: BigInt(leafIndex),
        registration: {
          creator: request.creator,
          contentHash: request.contentHash,
          cid: request.cid,
          metadataURI: request.metadataUri,
          parentId: BigInt(request.parentId),
          nonce: BigInt(request.nonce),
          deadline: BigInt(request.deadline),
        },
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
    const error = `claim of leaf ${leafIndex} of batch ${batchId} in ${receipt.hash} reverted`;
    await markLeafClaimFailed(db, batchId, leafIndex, error);
    throw new PermanentError(error);
  }
  // A group skips a leaf claimed before it was mined: the registry says who holds the id.
  const work = await registry.getWork(BigInt(workId));
  if (work.creator.toLowerCase() !== request.creator.toLowerCase()) {
    throw new PermanentError(
      `work ${workId} names ${work.creator}, not the leaf's creator ${request.creator}`,
    );
  }
  const ours = receipt.logs.some((log) => {
    const parsed = registry.interface.parseLog(log);
    return parsed?.name === "WorkRegistered" && parsed.args.workId === BigInt(workId);
  });
  await markLeafClaimed(db, batchId, leafIndex, ours ? receipt.hash : null);
  return { status: ours ? "claimed" : "claimed-by-other", workId, txHash: ours ? receipt.hash : undefined };
}
