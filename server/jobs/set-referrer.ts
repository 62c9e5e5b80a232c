import type { Pool } from "pg";
import type { Logger } from "pino";
import type { LicenseToken } from "../../types/typechain/index.ts";
import { TransactionRevertedError, type Relayer } from "../chain/relayer.ts";
import { PermanentError } from "../errors.ts";
import {
  findReferrerRequest,
  markReferrerRequestConfirmed,
  markReferrerRequestFailed,
  markReferrerRequestSubmitted,
  type ReferrerRequestRecord,
} from "../repositories/referrers.ts";

export interface SetReferrerDeps {
  db: Pool;
  relayer: Relayer;
  licenses: LicenseToken;
  logger: Logger;
}

export interface SetReferrerResult {
  status: "confirmed" | "skipped";
  txHash?: string | null;
}

/**
 * The nonce was spent by another transaction: anyone may send the creator's signature, so the request
 * is confirmed if the approval holds as asked, and failed otherwise (the nonce went to something else).
 */
async function settleSentElsewhere(
  deps: SetReferrerDeps,
  request: ReferrerRequestRecord,
): Promise<SetReferrerResult> {
  if ((await deps.licenses.isReferrer(request.offerId, request.referrer)) === request.approved) {
    await markReferrerRequestConfirmed(deps.db, request.id, null);
    return { status: "confirmed", txHash: null };
  }
  const error = `nonce ${request.nonce} was used by another signature of the creator`;
  await markReferrerRequestFailed(deps.db, request.id, error);
  throw new PermanentError(error);
}

/**
 * Sends a creator-signed referrer approval with `setReferrerFor`, the relayer paying gas, once per
 * request: a retried job waits for the transaction an earlier attempt recorded.
 */
export async function setReferrer(deps: SetReferrerDeps, requestId: string): Promise<SetReferrerResult> {
  const { db, relayer, licenses } = deps;
  const request = await findReferrerRequest(db, requestId);
  if (!request) throw new PermanentError(`no referrer request ${requestId}`);
  if (request.status === "confirmed" || request.status === "failed") return { status: "skipped" };

  let hash: string;
  try {
    ({ hash } = await relayer.sendOnce({
      to: await licenses.getAddress(),
      data: licenses.interface.encodeFunctionData("setReferrerFor", [
        BigInt(request.offerId),
        request.referrer,
        request.approved,
        BigInt(request.nonce),
        BigInt(request.deadline),
        request.signature,
      ]),
      purpose: "setReferrerFor",
      ref: requestId,
    }));
  } catch (err) {
    if (!(err instanceof TransactionRevertedError)) throw err;
    if (err.errorName === "NonceAlreadyUsed") return settleSentElsewhere(deps, request);
    await markReferrerRequestFailed(db, requestId, err.message);
    throw new PermanentError(err.message);
  }
  await markReferrerRequestSubmitted(db, requestId, hash);
  const receipt = await relayer.wait(hash);
  if (receipt.status !== 1) {
    if (await licenses.nonceUsed(request.creator, request.nonce)) return settleSentElsewhere(deps, request);
    await markReferrerRequestFailed(db, requestId, `transaction ${receipt.hash} reverted`);
    throw new PermanentError(`setReferrerFor ${receipt.hash} reverted`);
  }
  await markReferrerRequestConfirmed(db, requestId, receipt.hash);
  deps.logger.info({ requestId, offerId: request.offerId, txHash: receipt.hash }, "referrer set");
  return { status: "confirmed", txHash: receipt.hash };
}
