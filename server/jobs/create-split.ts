import type { Pool } from "pg";
import type { Logger } from "pino";
import type { SplitFactory } from "../../types/typechain/index.ts";
import { TransactionRevertedError, type Relayer } from "../chain/relayer.ts";
import { PermanentError } from "../errors.ts";
import {
  findSplitRequest,
  markSplitRequestCreated,
  markSplitRequestFailed,
  markSplitRequestSubmitted,
} from "../repositories/splits.ts";

export interface CreateSplitDeps {
  db: Pool;
  relayer: Relayer;
  factory: SplitFactory;
  logger: Logger;
}

export interface CreateSplitResult {
  status: "created" | "skipped";
  txHash?: string | null;
}

/**
 * Creates a split a creator asked for with `createSplit`, the relayer paying gas, once per split
 * address: a retried job waits for the transaction an earlier attempt recorded, and a split someone
 * else created meanwhile is simply there.
 */
export async function createSplit(deps: CreateSplitDeps, split: string): Promise<CreateSplitResult> {
  const { db, relayer, factory } = deps;
  const request = await findSplitRequest(db, split);
  if (!request) throw new PermanentError(`no split request for ${split}`);
  if (request.status === "created" || request.status === "failed") return { status: "skipped" };

  const earlier = await relayer.sentFor("createSplit", split);
  if (!earlier && (await factory.isSplit(split))) {
    await markSplitRequestCreated(db, split, null);
    return { status: "created", txHash: null };
  }
  let hash: string;
  try {
    ({ hash } = await relayer.sendOnce({
      to: await factory.getAddress(),
      data: factory.interface.encodeFunctionData("createSplit", [request.recipients, request.sharesBps]),
      purpose: "createSplit",
      ref: split,
    }));
  } catch (err) {
    if (!(err instanceof TransactionRevertedError)) throw err;
    await markSplitRequestFailed(db, split, err.message);
    throw new PermanentError(err.message);
  }
  await markSplitRequestSubmitted(db, split, hash);
  const receipt = await relayer.wait(hash);
  if (receipt.status !== 1) {
    await markSplitRequestFailed(db, split, `transaction ${receipt.hash} reverted`);
    throw new PermanentError(`createSplit ${receipt.hash} reverted`);
  }
  await markSplitRequestCreated(db, split, receipt.hash);
  deps.logger.info({ split, txHash: receipt.hash }, "split created");
  return { status: "created", txHash: receipt.hash };
}
