import { UnrecoverableError } from "bullmq";
import type { Pool } from "pg";
import type { Logger } from "pino";
import type { WorkRegistry } from "../../types/typechain/index.ts";
import { TransactionRevertedError, type Relayer } from "../chain/relayer.ts";
import { findRequest, markFailed, markSubmitted } from "../repositories/registrations.ts";

export interface NotarizeDeps {
  db: Pool;
  relayer: Relayer;
  registry: WorkRegistry;
  logger: Logger;
}

export interface NotarizeResult {
  status: "submitted" | "skipped";
  txHash?: string;
  blockNumber?: number;
}

async function previousTransaction(db: Pool, contentHash: string): Promise<string | null> {
  const { rows } = await db.query<{ hash: string }>(
    `SELECT hash FROM relayer_transactions
      WHERE purpose = 'registerFor' AND ref = $1 AND status IN ('sent', 'mined')
      ORDER BY sent_at DESC LIMIT 1`,
    [contentHash],
  );
  return rows[0]?.hash ?? null;
}

/**
 * Submits a direct registration with `registerFor`, the relayer paying gas. Idempotent: a retried
 * job waits for the transaction an earlier attempt sent instead of sending another, and a hash
 * that is already registered by the same creator counts as done.
 */
export async function notarize(deps: NotarizeDeps, contentHash: string): Promise<NotarizeResult> {
  const { db, relayer, registry, logger } = deps;
  const request = await findRequest(db, contentHash);
  if (!request) throw new UnrecoverableError(`no registration request for ${contentHash}`);
  if (request.mode !== "direct" || request.status === "failed") return { status: "skipped" };

  let hash = request.txHash ?? (await previousTransaction(db, contentHash));
  if (!hash) {
    const existing = await registry.workOf(contentHash);
    if (existing !== 0n) {
      const work = await registry.getWork(existing);
      if (work.creator.toLowerCase() !== request.creator) {
        await markFailed(db, contentHash, `already registered by ${work.creator} as work ${existing}`);
        throw new UnrecoverableError(`${contentHash} is already registered by another creator`);
      }
      logger.info({ contentHash, workId: existing.toString() }, "registration already on chain");
      return { status: "skipped" };
    }
    const data = registry.interface.encodeFunctionData("registerFor", [
      request.creator,
      request.contentHash,
      request.cid,
      request.metadataUri,
      BigInt(request.parentId),
      BigInt(request.nonce),
      BigInt(request.deadline),
      request.signature,
    ]);
    try {
      ({ hash } = await relayer.send({
        to: await registry.getAddress(),
        data,
        purpose: "registerFor",
        ref: contentHash,
      }));
    } catch (err) {
      if (err instanceof TransactionRevertedError) {
        await markFailed(db, contentHash, err.message);
        throw new UnrecoverableError(err.message);
      }
      throw err;
    }
  }
  await markSubmitted(db, contentHash, hash);
  const receipt = await relayer.wait(hash);
  if (receipt.status !== 1) {
    await markFailed(db, contentHash, `transaction ${receipt.hash} reverted`);
    throw new UnrecoverableError(`registerFor ${receipt.hash} reverted`);
  }
  if (receipt.hash !== hash) await markSubmitted(db, contentHash, receipt.hash);
  return { status: "submitted", txHash: receipt.hash, blockNumber: receipt.blockNumber };
}
