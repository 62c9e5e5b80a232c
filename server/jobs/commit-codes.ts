import type { Pool } from "pg";
import type { Logger } from "pino";
import type { CodeCommitments } from "../../types/typechain/index.ts";
import { codeBatchIdOf } from "../../lib/code-commitments.ts";
import { TransactionRevertedError, type Relayer } from "../chain/relayer.ts";
import { PermanentError } from "../errors.ts";
import type { CodeCipher } from "../codes/code-cipher.ts";
import { findBatch, markBatch } from "../codes/code-store.ts";
import { batchTree } from "../codes/code-tree.ts";

export interface CommitCodesDeps {
  db: Pool;
  relayer: Relayer;
  commitments: CodeCommitments;
  cipher: CodeCipher;
  logger: Logger;
}

export interface CommitCodesResult {
  status: "committed" | "skipped";
  txHash?: string;
}

/**
 * Commits a batch of redemption codes on chain: the Merkle root of its codes' leaves, sent by the
 * relayer once per batch (a retried job waits for the transaction an earlier attempt recorded). A
 * batch the contract already holds counts as committed when its root is this one.
 */
export async function commitCodes(deps: CommitCodesDeps, batchId: string): Promise<CommitCodesResult> {
  const { db, relayer, commitments } = deps;
  const batch = await findBatch(db, batchId);
  if (!batch) throw new PermanentError(`no code batch ${batchId}`);
  if (batch.commit_status === "committed" || batch.commit_status === "failed") return { status: "skipped" };
  const built = await batchTree(db, deps.cipher, batchId);
  if (!built) throw new PermanentError(`code batch ${batchId} has no codes`);
  const root = built.tree.root;
  const onChainId = codeBatchIdOf(batchId);

  let hash: string;
  try {
    ({ hash } = await relayer.sendOnce({
      to: await commitments.getAddress(),
      data: commitments.interface.encodeFunctionData("commitCodes", [
        BigInt(batch.offer_id),
        onChainId,
        root,
        BigInt(built.codes.length),
      ]),
      purpose: "commitCodes",
      ref: batchId,
    }));
  } catch (err) {
    if (!(err instanceof TransactionRevertedError)) throw err;
    if (err.errorName === "CodeBatchCommitted") return settleCommitted(deps, batchId, root, err.message);
    await markBatch(db, batchId, { status: "failed", root, error: err.message });
    throw new PermanentError(err.message);
  }
  await markBatch(db, batchId, { status: "submitted", root, txHash: hash });
  const receipt = await relayer.wait(hash);
  if (receipt.status !== 1) {
    return settleCommitted(deps, batchId, root, `commitCodes ${receipt.hash} reverted`);
  }
  await markBatch(db, batchId, {
    status: "committed",
    root,
    txHash: receipt.hash,
    block: receipt.blockNumber,
  });
  deps.logger.info({ batchId, root, txHash: receipt.hash }, "code batch committed on chain");
  return { status: "committed", txHash: receipt.hash };
}

/** The batch is on chain already (or the commit reverted): committed if the chain holds this root, failed otherwise. */
async function settleCommitted(
  deps: CommitCodesDeps,
  batchId: string,
  root: string,
  reason: string,
): Promise<CommitCodesResult> {
  const onChainId = codeBatchIdOf(batchId);
  const committed = await deps.commitments
    .getCodeBatch(onChainId)
    .then(([, merkleRoot]) => merkleRoot)
    .catch(() => null);
  if (committed === root) {
    await markBatch(deps.db, batchId, { status: "committed", root });
    return { status: "committed" };
  }
  await markBatch(deps.db, batchId, { status: "failed", root, error: reason });
  throw new PermanentError(reason);
}
