import { randomUUID } from "node:crypto";
import type { Readable } from "node:stream";
import type { Auth } from "../auth/middleware.ts";
import { AppError, notFound } from "../errors.ts";
import { checksum } from "../../lib/address.ts";
import type { EvidenceRequest, Infringement } from "../../lib/api/evidence.ts";
import type { EvidenceBundleStore } from "../evidence/bundle-store.ts";
import type { IpfsStore } from "../ipfs/store.ts";
import type { Outbox } from "../queues/outbox.ts";
import type { EvidenceFactsRepository } from "../repositories/evidence-facts.ts";
import type {
  EvidenceRequestRecord,
  EvidenceRequestsRepository,
  Requester,
} from "../repositories/evidence-requests.ts";

export interface EvidenceServiceDeps {
  requests: EvidenceRequestsRepository;
  facts: EvidenceFactsRepository;
  ipfs: IpfsStore;
  /** Where the evidence jobs are recorded with the requests, and queued from. */
  outbox: Outbox;
  /** Where finished bundles are kept. */
  bundles: EvidenceBundleStore;
  /** Bytes the stored bundles of one organisation (or one creator's wallet) may take. */
  quotaBytes: number;
  /** Requests one organisation (or wallet) may have waiting for their bundle at once. */
  pendingMax: number;
}

/** The work by its id (direct registration) or its SHA-256 (direct or Merkle batch), never both. */
export type WorkRef = { workId: string } | { contentHash: string };

export interface RequestEvidenceInput {
  work: WorkRef;
  infringement: Infringement;
  includeOriginal: boolean;
}

export interface EvidenceDownload {
  sha256: string;
  size: number;
  filename: string;
  /** Bytes `start` to `end` (inclusive) of the bundle, streamed. */
  read(start: number, end: number): Promise<Readable>;
}

function requesterOf(auth: Auth | undefined): Requester {
  if (auth?.kind === "apiKey") {
    if (!auth.apiKey.scopes.includes("legal")) {
      throw new AppError("FORBIDDEN", 403, "evidence needs an API key with the legal scope");
    }
    return { kind: "apiKey", keyId: auth.apiKey.id, organisation: auth.apiKey.organisation };
  }
  if (auth?.kind === "session") return { kind: "address", address: auth.session.address };
  throw new AppError(
    "AUTH_REQUIRED",
    401,
    "evidence needs an API key with the legal scope (X-Api-Key) or the work creator's session",
  );
}

/** A wallet may see only requests about works it created (legal keys: see `sameOrganisation`). */
function authorize(requester: Requester, creator: string): void {
  if (requester.kind === "address" && requester.address !== creator) {
    throw new AppError("NOT_WORK_CREATOR", 403, "only the work's creator or a legal API key may do this");
  }
}

/** A legal key reads only the requests of its own organisation's keys; wallets are checked by `authorize`. */
function sameOrganisation(requester: Requester, requestedBy: Requester): boolean {
  if (requester.kind !== "apiKey") return true;
  return requestedBy.kind === "apiKey" && requestedBy.organisation === requester.organisation;
}

function toView(r: EvidenceRequestRecord): EvidenceRequest {
  return {
    id: r.id,
    status: r.status,
    workId: r.workId,
    contentHash: r.contentHash,
    creator: checksum(r.creator)!,
    requestedBy:
      r.requestedBy.kind === "apiKey"
        ? { kind: "apiKey", id: r.requestedBy.keyId }
        : { kind: "address", id: checksum(r.requestedBy.address)! },
    infringement: r.infringement,
    includeOriginal: r.includeOriginal,
    error: r.error,
    bundle:
      r.status === "ready" && r.bundleSha256 !== null && r.bundleSize !== null
        ? { sha256: r.bundleSha256, size: r.bundleSize, url: `/v1/evidence/${r.id}/bundle.zip` }
        : null,
    createdAt: r.createdAt.toISOString(),
    completedAt: r.completedAt?.toISOString() ?? null,
  };
}

/** Evidence bundles of registered works, for legal teams and the works' creators. */
export class EvidenceService {
  constructor(private readonly deps: EvidenceServiceDeps) {}

  /** Checks who asks and about what, records the request and queues the `evidence` job. */
  async request(auth: Auth | undefined, input: RequestEvidenceInput): Promise<EvidenceRequest> {
    const requester = requesterOf(auth);
    const work = await this.#resolve(input.work);
    authorize(requester, work.creator);
    if (input.includeOriginal) await this.#requireOriginal(work.contentHash);
    const usedBytes = await this.deps.requests.usedBytes(requester);
    if (usedBytes >= this.deps.quotaBytes) {
      throw new AppError(
        "EVIDENCE_QUOTA_EXCEEDED",
        429,
        "the stored evidence bundles of this organisation take its whole quota",
        { quotaBytes: this.deps.quotaBytes, usedBytes },
      );
    }
    // Bundles are counted against the quota once built: the requests still building are capped, so
    // an organisation just under its quota cannot start any number of builds.
    const pending = await this.deps.requests.pendingCount(requester);
    if (pending >= this.deps.pendingMax) {
      throw new AppError(
        "EVIDENCE_PENDING_LIMIT",
        429,
        "this organisation has as many evidence requests building as it may; wait for one to finish",
        { pendingMax: this.deps.pendingMax, pending },
      );
    }

    const { request: created, jobs } = await this.deps.requests.insert(
      {
        id: randomUUID(),
        workId: work.workId,
        contentHash: work.contentHash,
        creator: work.creator,
        requestedBy: requester,
        infringement: input.infringement,
        includeOriginal: input.includeOriginal,
      },
      { queue: true },
    );
    await this.deps.outbox.deliver(jobs);
    return toView(created);
  }

  async status(auth: Auth | undefined, id: string): Promise<EvidenceRequest> {
    return toView(await this.#find(auth, id));
  }

  /** The bundle of a ready request, to stream; 409 while it is being built or when building failed. */
  async download(auth: Auth | undefined, id: string): Promise<EvidenceDownload> {
    const request = await this.#find(auth, id);
    if (request.status !== "ready" || request.bundleSha256 === null || request.bundleSize === null) {
      throw new AppError("EVIDENCE_NOT_READY", 409, `the bundle is ${request.status}, not ready`, {
        status: request.status,
        error: request.error,
      });
    }
    const subject = request.workId !== null ? `work-${request.workId}` : request.contentHash.slice(2, 14);
    const { bundleLocation } = request;
    return {
      sha256: request.bundleSha256,
      size: request.bundleSize,
      filename: `rights-ledger-evidence-${subject}-${id.slice(0, 8)}.zip`,
      read: async (start, end) =>
        bundleLocation !== null
          ? this.deps.bundles.read(bundleLocation, start, end)
          : this.deps.requests.rowBundle(id, start, end),
    };
  }

  async #find(auth: Auth | undefined, id: string): Promise<EvidenceRequestRecord> {
    const requester = requesterOf(auth);
    const request = await this.deps.requests.find(id);
    // Another organisation's request is answered as if it did not exist.
    if (!request || !sameOrganisation(requester, request.requestedBy))
      throw notFound("evidence request", { id });
    authorize(requester, request.creator);
    return request;
  }

  async #resolve(ref: WorkRef): Promise<{ workId: string | null; contentHash: string; creator: string }> {
    const { facts } = this.deps;
    if ("workId" in ref) {
      const work = await facts.workById(ref.workId);
      if (!work) throw new AppError("WORK_NOT_FOUND", 404, `no registered work ${ref.workId}`);
      if (work.supersededBy !== null) {
        throw new AppError(
          "WORK_SUPERSEDED",
          409,
          `claim ${work.workId} lost to the earlier claim ${work.supersededBy} of the same file; its creator is not the author`,
          { workId: work.workId, supersededBy: work.supersededBy },
        );
      }
      return work;
    }
    // Whichever reserved its id first holds the file: a batch leaf anchored before a direct claim wins.
    const work = await facts.workByHash(ref.contentHash);
    const batch = await facts.anchoredBatch(ref.contentHash);
    if (work && (!batch || BigInt(work.workId) < BigInt(batch.workId))) return work;
    if (batch) return { workId: null, contentHash: batch.contentHash, creator: batch.creator };
    throw new AppError(
      "WORK_NOT_FOUND",
      404,
      `no registered work with SHA-256 ${ref.contentHash} (a batch registration counts once its batch is anchored)`,
    );
  }

  async #requireOriginal(contentHash: string): Promise<void> {
    const upload = await this.deps.facts.upload(contentHash);
    if (!upload || !(await this.deps.ipfs.has(upload.cid))) {
      throw new AppError(
        "ORIGINAL_UNAVAILABLE",
        409,
        "the original file was not uploaded to this platform, so it cannot be included",
      );
    }
  }
}
