import type { TransactionReceipt } from "ethers";
import type { Pool } from "pg";
import type { Logger } from "pino";
import { commitmentOf, committedWorkId, workRegistryInterface } from "../../lib/evidence/registry.ts";
import type { WorkRegistry } from "../../types/typechain/index.ts";
import { TransactionRevertedError, type Relayer } from "../chain/relayer.ts";
import { DeferredError, PermanentError } from "../errors.ts";
import {
  findRequest,
  markCommitted,
  markFailed,
  markSubmitted,
  type RegistrationRequest,
  signedRegistration,
} from "../repositories/registrations.ts";

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
  workId?: string;
}

const CLAIM_SUPERSEDED_TOPIC = workRegistryInterface.getEvent("ClaimSuperseded")!.topicHash;

/**
 * Sends `data` once for (purpose, content hash) and waits for it to be mined: a retried job waits
 * for the transaction an earlier attempt recorded instead of sending another.
 */
async function relayOnce(
  deps: NotarizeDeps,
  request: RegistrationRequest,
  purpose: "commit" | "revealFor",
  data: string,
): Promise<TransactionReceipt> {
  const { db, relayer, registry } = deps;
  let hash: string;
  try {
    ({ hash } = await relayer.sendOnce({
      to: await registry.getAddress(),
      data,
      purpose,
      ref: request.contentHash,
    }));
  } catch (err) {
    // The node estimated in the commit's block; the next one takes the reveal.
    if (err instanceof TransactionRevertedError && err.errorName === "RevealTooEarly") {
      throw new DeferredError("the commitment's block is the node's latest", 1000);
    }
    if (err instanceof TransactionRevertedError) {
      await markFailed(db, request.contentHash, err.message);
      throw new PermanentError(err.message);
    }
    throw err;
  }
  if (purpose === "revealFor") await markSubmitted(db, request.contentHash, hash);
  const receipt = await relayer.wait(hash);
  if (receipt.status !== 1) {
    await markFailed(db, request.contentHash, `${purpose} ${receipt.hash} reverted`);
    throw new PermanentError(`${purpose} ${receipt.hash} reverted`);
  }
  return receipt;
}

/** Fails the request when the hash already has a work of another creator: a new claim would lose to it. */
async function refuseTaken(deps: NotarizeDeps, request: RegistrationRequest): Promise<boolean> {
  const existing = await deps.registry.workOf(request.contentHash);
  if (existing === 0n) return false;
  const work = await deps.registry.getWork(existing);
  if (work.creator.toLowerCase() !== request.creator) {
    await markFailed(
      deps.db,
      request.contentHash,
      `already registered by ${work.creator} as work ${existing}`,
    );
    throw new PermanentError(`${request.contentHash} is already registered by another creator`);
  }
  deps.logger.info(
    { contentHash: request.contentHash, workId: existing.toString() },
    "registration already on chain",
  );
  return true;
}

/**
 * Registers a direct request the squat-proof way, the relayer paying gas: a commitment that hides
 * the hash reserves the work id, then `revealFor` in a later block binds the hash to it. Each step
 * is sent once per content hash, and the reserved id is recorded, so a job that died anywhere
 * resumes where it stopped.
 */
export async function notarize(deps: NotarizeDeps, contentHash: string): Promise<NotarizeResult> {
  const { db, registry } = deps;
  const request = await findRequest(db, contentHash);
  if (!request) throw new PermanentError(`no registration request for ${contentHash}`);
  if (request.mode !== "direct" || request.status === "failed") return { status: "skipped" };

  let workId = request.workId === null ? null : BigInt(request.workId);
  if (workId === null) {
    const committed = await deps.relayer.sentFor("commit", contentHash);
    if (!committed && (await refuseTaken(deps, request))) return { status: "skipped" };
    const commitment = commitmentOf(request.creator, contentHash, BigInt(request.nonce));
    const receipt = await relayOnce(
      deps,
      request,
      "commit",
      registry.interface.encodeFunctionData("commit", [commitment]),
    );
    workId = committedWorkId(receipt.logs);
    if (workId === null) throw new PermanentError(`commit ${receipt.hash} reserved no work id`);
    await markCommitted(db, contentHash, workId, receipt.hash);
  }

  const data = registry.interface.encodeFunctionData("revealFor", [
    workId,
    signedRegistration(request),
    request.signature,
  ]);
  const receipt = await relayOnce(deps, request, "revealFor", data);
  if (receipt.hash !== request.txHash) await markSubmitted(db, contentHash, receipt.hash);
  const lost = receipt.logs.some(
    (log) => log.topics[0] === CLAIM_SUPERSEDED_TOPIC && BigInt(log.topics[1]!) === workId,
  );
  if (lost) {
    const error = `an earlier claim of ${contentHash} holds the work; claim ${workId} is superseded`;
    await markFailed(db, contentHash, error);
    throw new PermanentError(error);
  }
  return {
    status: "submitted",
    txHash: receipt.hash,
    blockNumber: receipt.blockNumber,
    workId: workId.toString(),
  };
}
