import type { Logger } from "pino";
import type { Certificate } from "pkijs";
import { sha256Hex } from "../../lib/evidence/hashes.ts";
import type { RpcSender } from "../../lib/evidence/rpc.ts";
import {
  BundleInputError,
  buildBundle,
  type BundleInput,
  type ManifestSigner,
} from "../evidence/build-bundle.ts";
import type { EvidenceBundleStore } from "../evidence/bundle-store.ts";
import { ChainFactsPendingError, fetchChainFacts } from "../evidence/chain-facts.ts";
import { LicenseShapeError, type LicenseListing } from "../evidence/license-listing.ts";
import type { Originals } from "../content/originals.ts";
import type { EvidenceFactsRepository } from "../repositories/evidence-facts.ts";
import type { EvidenceRequestRecord, EvidenceRequestsRepository } from "../repositories/evidence-requests.ts";
import { PermanentError } from "../errors.ts";

export interface EvidenceJobDeps {
  requests: EvidenceRequestsRepository;
  facts: EvidenceFactsRepository;
  /** Where finished bundles are kept (PostgreSQL keeps their location). */
  bundles: EvidenceBundleStore;
  /** Bytes the stored bundles of one organisation (or one creator's wallet) may take. */
  quotaBytes: number;
  provider: RpcSender;
  /** Where the original is read from (and opened, when private) for bundles that include it. */
  originals: Originals;
  chainId: number;
  registryAddress: string;
  signer: ManifestSigner;
  /** RFC 3161 time-stamping authority; without it bundles carry no timestamp.tsr. */
  tsa?: { url: string; trustedCerts?: Certificate[] };
  /** Blocks the registration needs on top of it (itself included) before its evidence is built. */
  minConfirmations: number;
  logger: Logger;
}

export interface EvidenceJobResult {
  status: "ready" | "skipped";
  sha256?: string;
  size?: number;
}

/** The bundle would take its requester over its storage quota; building again will not help. */
class EvidenceQuotaError extends Error {}

async function readAll(source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of source) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Waits (by failing the attempt) until the registration's block is buried deep enough not to be reorged away. */
async function ensureConfirmed(deps: EvidenceJobDeps, receiptBlock: unknown): Promise<void> {
  const block = BigInt(String(receiptBlock));
  const head = BigInt((await deps.provider.send("eth_blockNumber", [])) as string);
  const confirmations = head - block + 1n;
  if (confirmations < BigInt(deps.minConfirmations)) {
    throw new ChainFactsPendingError(
      `block ${block} has ${confirmations} confirmations, waiting for ${deps.minConfirmations}`,
    );
  }
}

/** Reads from PostgreSQL, the chain and IPFS everything the bundle of `request` states. */
async function gather(deps: EvidenceJobDeps, request: EvidenceRequestRecord): Promise<BundleInput> {
  const { facts } = deps;
  const common = { chainId: deps.chainId, registry: deps.registryAddress };
  let work: BundleInput["work"];
  let registration: BundleInput["registration"];
  // A busy work's licenses are read while the chain is asked for the registration's receipt.
  let licensesRead: Promise<LicenseListing | undefined> = Promise.resolve(undefined);

  if (request.workId !== null) {
    const indexed = await facts.workById(request.workId);
    if (!indexed || indexed.contentHash !== request.contentHash) {
      throw new ChainFactsPendingError(`work ${request.workId} is not indexed (a reorg in progress?)`);
    }
    const versions = await facts.ancestry(indexed);
    work = {
      workId: indexed.workId,
      title: indexed.title ?? undefined,
      contentHash: indexed.contentHash,
      cid: indexed.cid,
      metadataURI: indexed.metadataUri,
      creator: indexed.creator,
      coAuthors: indexed.coAuthors,
      versions: versions.map((v) => ({
        workId: v.workId,
        contentHash: v.contentHash,
        parentId: v.parentId ?? "0",
        txHash: v.txHash,
        registeredAt: v.registeredAt ?? undefined,
      })),
    };
    registration = { kind: "direct", ...common, txHash: indexed.txHash };
    licensesRead = facts.licenseListing(indexed.workId);
    licensesRead.catch(() => undefined);
  } else {
    const batch = await facts.anchoredBatch(request.contentHash);
    if (!batch) throw new ChainFactsPendingError(`the batch of ${request.contentHash} is not indexed`);
    work = {
      title: batch.title ?? undefined,
      contentHash: batch.contentHash,
      cid: batch.cid,
      metadataURI: batch.metadataUri,
      creator: batch.creator,
    };
    registration = {
      kind: "batch",
      ...common,
      txHash: batch.txHash,
      merkleRoot: batch.merkleRoot,
      leafIndex: batch.leafIndex,
      registrationDigest: batch.registrationDigest,
      proof: batch.proof,
    };
  }

  const chain = await fetchChainFacts(deps.provider, registration.txHash);
  await ensureConfirmed(deps, chain.receipt.blockNumber);
  const licenseListing = await licensesRead;

  let original: BundleInput["original"];
  if (request.includeOriginal) {
    const upload = await facts.upload(request.contentHash);
    if (!upload) throw new BundleInputError(`no upload of ${request.contentHash} to include`);
    original = { name: upload.filename ?? "original.bin", bytes: await readAll(deps.originals.read(upload)) };
  }

  return {
    work,
    registration,
    licenseListing,
    infringement: request.infringement,
    receipt: chain.receipt,
    blockHeader: chain.blockHeader,
    original,
    signer: deps.signer,
    tsaUrl: deps.tsa?.url,
    tsaTrustedCerts: deps.tsa?.trustedCerts,
  };
}

/**
 * The `evidence` job, keyed by the request id: gathers the facts of the work, builds and signs the
 * bundle and stores it in the bundle store. Idempotent: a ready request is left alone, and of two
 * concurrent runs the first stored bundle wins (the other's file is deleted). Inputs that
 * contradict the chain, and a bundle that would take its requester over its storage quota, fail
 * the request for good; anything else (node, IPFS or time-stamping authority unreachable, too few
 * confirmations) is retried, and fails the request only on the last attempt.
 */
export async function buildEvidence(
  deps: EvidenceJobDeps,
  requestId: string,
  options: { finalAttempt: boolean },
): Promise<EvidenceJobResult> {
  const request = await deps.requests.startBuilding(requestId);
  if (!request) {
    if (await deps.requests.find(requestId)) return { status: "skipped" };
    throw new PermanentError(`no evidence request ${requestId}`);
  }
  try {
    const bundle = await buildBundle(await gather(deps, request));
    const sha256 = sha256Hex(bundle);
    const size = bundle.byteLength;
    const location = await deps.bundles.put(requestId, bundle);
    // A failure to record it leaves the file (the commit's outcome is unknown); a retry writes another.
    const completion = await deps.requests.complete(requestId, { location, size, sha256 }, deps.quotaBytes);
    if (completion.kind !== "stored") await deps.bundles.remove(location);
    if (completion.kind === "over-quota") {
      throw new EvidenceQuotaError(
        `the bundle (${size} bytes) would take its requester's stored evidence (${completion.usedBytes} bytes) over its quota of ${deps.quotaBytes} bytes`,
      );
    }
    if (completion.kind === "ready-already") return { status: "skipped" };
    deps.logger.info({ requestId, sha256, size }, "evidence bundle ready");
    return { status: "ready", sha256, size };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (
      err instanceof BundleInputError ||
      err instanceof LicenseShapeError ||
      err instanceof EvidenceQuotaError
    ) {
      await deps.requests.fail(requestId, message);
      throw new PermanentError(message);
    }
    if (options.finalAttempt) await deps.requests.fail(requestId, message);
    throw err;
  }
}
