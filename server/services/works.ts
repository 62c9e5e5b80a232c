import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Pool } from "pg";
import { REGISTER_TYPES, registryDomain, type RegisterMessage } from "../../lib/eip712.ts";
import { assertSignedBy } from "../auth/typed-signature.ts";
import { AppError } from "../errors.ts";
import type { Originals, Visibility } from "../content/originals.ts";
import type { IpfsStore } from "../ipfs/store.ts";
import {
  findOriginal,
  recordOriginal,
  recordPreview,
  uploadCreator,
  type OriginalRecord,
} from "../content/store.ts";
import type { Outbox } from "../queues/outbox.ts";
import type { Queues } from "../queues/queues.ts";
import {
  findRequest,
  registrationFacts,
  RequestWriter,
  type RegistrationRequest,
} from "../repositories/registrations.ts";
import type { WorksRepository } from "../repositories/works.ts";
import type {
  RegisterRequest,
  RegisterTypedData,
  Registration,
  RegistrationStatus,
  Preview,
  Upload,
  Work,
} from "../../lib/api/works.ts";
import { closeAfterAnswer } from "../http/body-limit.ts";
import { quotaExceeded, UploadCharges } from "../repositories/upload-charges.ts";
import type { GasBudget } from "./gas-budget.ts";
import { discardStaged, recordMetadata, receiveUpload, type StagedUpload } from "./uploads.ts";

/** Who uploads: the account charged for it and, for a signed-in creator, their wallet. */
export interface Uploader {
  /** `wallet:<address>` or `key:<API key id>`. */
  account: string;
  address: string | null;
}

/** A multipart body's bytes besides the file: every field at its largest, part headers and boundaries. */
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;

export interface WorksServiceDeps {
  db: Pool;
  ipfs: IpfsStore;
  /** Where originals are stored: sealed when private, in the clear when public. */
  originals: Originals;
  queues: Pick<Queues, "flushBatch">;
  /** Where the notarize jobs of direct registrations are recorded with them. */
  outbox: Outbox;
  /** Counts registrations queued for batches, so a full batch is flushed without waiting for the timer. */
  batchCounter: { add(): Promise<number> };
  works: WorksRepository;
  chainId: number;
  registryAddress: string;
  /** The chain's time: signature deadlines are judged by it on chain, so they are set and checked by it. */
  clock: { nowSeconds(): Promise<number> };
  uploads: {
    maxUploadBytes: number;
    /** Bytes each account may have uploaded and not yet collected. */
    quotaBytes: number;
    stagingDir: string;
    /** The largest public preview. */
    previewMaxBytes: number;
  };
  mode: "direct" | "batch";
  batchMaxWorks: number;
  /** What the relayer may spend on registrations, per creator and per day. */
  gasBudget: GasBudget;
  /** How long a creator has to sign and submit the registration payload. */
  signatureTtlSeconds?: number;
}

/** Creators' side of works: upload, sign, register, and the registration's progress. */
export class WorksService {
  readonly #requests: RequestWriter;
  readonly #charges: UploadCharges;

  constructor(private readonly deps: WorksServiceDeps) {
    this.#requests = new RequestWriter(deps.db, deps.outbox);
    this.#charges = new UploadCharges(deps.db);
  }

  /**
   * Receives an upload of `uploader` into staging within its limits (the largest upload and what is
   * left of the account's quota), charges the account, stores the file in IPFS, records it, and
   * returns what the creator must sign to register it. A refused or failed upload stores nothing.
   */
  async upload(req: IncomingMessage, res: ServerResponse, uploader: Uploader): Promise<Upload> {
    const { maxUploadBytes, quotaBytes } = this.deps.uploads;
    const used = await this.#charges.usedBytes(uploader.account);
    const tooLarge = () =>
      maxUploadBytes <= quotaBytes - used
        ? new AppError("PAYLOAD_TOO_LARGE", 413, `file exceeds the upload limit of ${maxUploadBytes} bytes`, {
            maxBytes: maxUploadBytes,
          })
        : quotaExceeded(quotaBytes, used);
    const limitBytes = Math.min(maxUploadBytes, quotaBytes - used);
    // The file is at most the body, so a body longer than the limit and every field is refused unread.
    if (
      limitBytes <= 0 ||
      Number(req.headers["content-length"] ?? 0) > limitBytes + MULTIPART_OVERHEAD_BYTES
    ) {
      closeAfterAnswer(req, res);
      throw tooLarge();
    }
    let file: StagedUpload;
    try {
      file = await receiveUpload(req, { stagingDir: this.deps.uploads.stagingDir, limitBytes, tooLarge });
    } catch (err) {
      if (err instanceof AppError && err.status === 413) closeAfterAnswer(req, res);
      throw err;
    }
    try {
      return await this.#store(file, uploader);
    } finally {
      await discardStaged(file.path);
    }
  }

  async #store(file: StagedUpload, uploader: Uploader) {
    const creator = (file.fields.creator ?? uploader.address ?? "").toLowerCase();
    if (!/^0x[0-9a-f]{40}$/.test(creator)) {
      throw new AppError(
        "VALIDATION_FAILED",
        400,
        "field 'creator' must be the creator's address (or sign in first)",
      );
    }
    const parentId = file.fields.parentId ?? "0";
    if (!/^(0|[1-9][0-9]{0,14})$/.test(parentId)) {
      throw new AppError("VALIDATION_FAILED", 400, "field 'parentId' must be a work id or 0");
    }
    const asked = file.fields.visibility ?? "private";
    if (asked !== "private" && asked !== "public") {
      throw new AppError("VALIDATION_FAILED", 400, "field 'visibility' must be 'private' or 'public'");
    }
    // An upload of bytes stored before keeps the visibility they were stored with.
    let visibility: Visibility = asked;
    const title = (file.fields.title ?? file.filename ?? "Untitled work").slice(0, 200);
    const description = (file.fields.description ?? "").slice(0, 2000);
    const charged = await this.#charges.charge(
      uploader.account,
      file.contentHash,
      file.size,
      this.deps.uploads.quotaBytes,
    );
    let cid: string;
    let metadataUri: string;
    try {
      const original = await this.#storeOriginal(file, visibility);
      cid = original.cid;
      visibility = original.visibility;
      const metadata = {
        name: title,
        description,
        sha256: file.contentHash,
        cid,
        size: file.size,
        contentType: file.contentType,
        filename: file.filename,
      };
      const added = await this.deps.ipfs.add(new TextEncoder().encode(JSON.stringify(metadata)));
      metadataUri = `ipfs://${added.cid}`;
      await recordMetadata(this.deps.db, { contentHash: file.contentHash, metadataUri, title, description });
    } catch (err) {
      if (charged) await this.#charges.release(uploader.account, file.contentHash);
      throw err;
    }
    const existing = await this.deps.works.findByHash(file.contentHash);
    return {
      sha256: file.contentHash,
      cid,
      size: file.size,
      visibility,
      metadataURI: metadataUri,
      alreadyRegistered: existing !== null,
      registration: existing,
      typedData: existing
        ? null
        : this.#payload(
            { creator, contentHash: file.contentHash, cid, metadataUri, parentId },
            await this.deps.clock.nowSeconds(),
          ),
    };
  }

  /**
   * The stored original of `file`: the one recorded when these bytes were uploaded before (a private
   * original sealed again would get another CID), else the file stored as `visibility` asks.
   */
  async #storeOriginal(file: StagedUpload, visibility: Visibility): Promise<OriginalRecord> {
    const known = await findOriginal(this.deps.db, file.contentHash);
    if (known) return known;
    const added = await this.deps.originals.add(file.contentHash, visibility, createReadStream(file.path));
    return recordOriginal(this.deps.db, {
      contentHash: file.contentHash,
      cid: added.cid,
      size: file.size,
      filename: file.filename,
      contentType: file.contentType,
      visibility,
      sealing: added.sealing,
    });
  }

  /**
   * Stores `req`'s file in the clear as the public preview of the upload of `contentHash`, replacing
   * any earlier one; only the creator of its work (or of its registration, before it is anchored),
   * signed in as `caller`, may. Refusals come before a byte of the body is read.
   */
  async setPreview(
    req: IncomingMessage,
    res: ServerResponse,
    caller: string,
    contentHash: string,
  ): Promise<Preview> {
    const { uploaded, creator } = await uploadCreator(this.deps.db, contentHash);
    const refuse = (err: AppError) => {
      closeAfterAnswer(req, res);
      return err;
    };
    if (!uploaded)
      throw refuse(new AppError("UPLOAD_NOT_FOUND", 404, `upload ${contentHash} first (POST /v1/works)`));
    if (creator === null) {
      throw refuse(new AppError("NOT_REGISTERED", 409, "register the work before giving it a preview"));
    }
    if (creator !== caller) {
      throw refuse(new AppError("NOT_WORK_CREATOR", 403, "only the work's creator may set its preview"));
    }
    const maxBytes = this.deps.uploads.previewMaxBytes;
    const tooLarge = () =>
      new AppError("PAYLOAD_TOO_LARGE", 413, `a preview may have at most ${maxBytes} bytes`, { maxBytes });
    if (Number(req.headers["content-length"] ?? 0) > maxBytes + MULTIPART_OVERHEAD_BYTES)
      throw refuse(tooLarge());
    let file: StagedUpload;
    try {
      file = await receiveUpload(req, {
        stagingDir: this.deps.uploads.stagingDir,
        limitBytes: maxBytes,
        tooLarge,
      });
    } catch (err) {
      if (err instanceof AppError && err.status === 413) closeAfterAnswer(req, res);
      throw err;
    }
    try {
      const { cid, size } = await this.deps.ipfs.add(createReadStream(file.path));
      const preview = { cid, size, filename: file.filename, contentType: file.contentType };
      await recordPreview(this.deps.db, contentHash, preview);
      return { ...preview, url: `/ipfs/${cid}` };
    } finally {
      await discardStaged(file.path);
    }
  }

  /** Checks the creator's signature and queues the registration; answers the current status. */
  async register(contentHash: string, input: RegisterRequest): Promise<Registration> {
    const { db } = this.deps;
    const facts = await registrationFacts(db, contentHash, input.parentId);
    if (facts.uploadCid === null)
      throw new AppError("UPLOAD_NOT_FOUND", 404, `upload ${contentHash} first (POST /v1/works)`);
    if (facts.uploadCid !== input.cid) {
      throw new AppError("CID_MISMATCH", 400, `cid does not match the uploaded file (${facts.uploadCid})`);
    }
    if (BigInt(input.deadline) < BigInt(await this.deps.clock.nowSeconds())) {
      throw new AppError(
        "SIGNATURE_EXPIRED",
        400,
        "the signed payload's deadline has passed; upload again for a new one",
      );
    }
    const message: RegisterMessage = {
      creator: input.creator,
      contentHash,
      cid: input.cid,
      metadataURI: input.metadataURI,
      parentId: BigInt(input.parentId),
      nonce: BigInt(input.nonce),
      deadline: BigInt(input.deadline),
    };
    assertSignedBy(
      registryDomain(BigInt(this.deps.chainId), this.deps.registryAddress),
      REGISTER_TYPES,
      message,
      input.signature,
      input.creator,
      "payload",
    );
    if (facts.registered) {
      const registered = await this.deps.works.findByHash(contentHash);
      throw new AppError(
        "ALREADY_REGISTERED",
        409,
        registered
          ? `this file is already registered as work ${registered.workId}`
          : "this file is already registered",
        registered,
      );
    }
    if (input.parentId !== "0") {
      if (facts.parentCreator === null)
        throw new AppError("PARENT_NOT_FOUND", 404, `parent work ${input.parentId} not found`);
      if (facts.parentCreator !== input.creator) {
        throw new AppError("PARENT_NOT_OWNED", 403, `work ${input.parentId} belongs to another creator`);
      }
    }
    const refund = await this.deps.gasBudget.reserve("registration", input.creator);
    const created = await this.#requests.insert({
      contentHash,
      creator: input.creator,
      cid: input.cid,
      metadataUri: input.metadataURI,
      parentId: input.parentId,
      nonce: input.nonce,
      deadline: input.deadline,
      signature: input.signature,
      mode: this.deps.mode,
    });
    if (!created) {
      await refund();
      const existing = (await findRequest(db, contentHash))!;
      if (existing.creator !== input.creator) {
        throw new AppError(
          "REGISTRATION_IN_PROGRESS",
          409,
          "another creator's registration of this file is in progress",
        );
      }
      return this.#view(existing, null);
    }
    // A direct request's notarize job was recorded and queued with it.
    if (created.mode === "batch" && (await this.deps.batchCounter.add()) % this.deps.batchMaxWorks === 0) {
      await this.deps.queues.flushBatch.add("flush", { reason: "size" });
    }
    return this.#view(created, null);
  }

  /** Where a registration stands: anchored once the indexer has its event. */
  async status(contentHash: string): Promise<Registration> {
    const [request, work] = await Promise.all([
      findRequest(this.deps.db, contentHash),
      this.deps.works.findByHash(contentHash),
    ]);
    if (!request && !work) throw new AppError("NOT_FOUND", 404, `no registration for ${contentHash}`);
    if (!request) {
      return {
        contentHash,
        status: "anchored",
        mode: null,
        creator: work!.creator,
        txHash: work!.txHash,
        error: null,
        work,
        batch: null,
      };
    }
    return this.#view(request, work);
  }

  async #view(request: RegistrationRequest, found: Work | null): Promise<Registration> {
    // Another creator's claim of the hash (a squatter's, until this batch leaf is claimed) is not
    // this registration's work.
    const work = found && found.creator.toLowerCase() === request.creator.toLowerCase() ? found : null;
    let status: RegistrationStatus = request.status;
    let merkleRoot: string | null = null;
    if (request.mode === "batch" && request.batchId) {
      const anchored = await this.deps.works.findBatchForRequest(request.batchId);
      merkleRoot = anchored?.merkleRoot ?? null;
      if (anchored?.anchored) status = "anchored";
    }
    if (work) status = "anchored";
    return {
      contentHash: request.contentHash,
      status,
      mode: request.mode,
      creator: request.creator,
      // A batch leaf is registered by its batch's anchor; the later claim is the work's own event.
      txHash: request.mode === "batch" ? request.txHash : (work?.txHash ?? request.txHash),
      error: status === "failed" ? request.error : null,
      work,
      batch:
        request.batchId && request.leaf && request.proof
          ? {
              id: request.batchId,
              merkleRoot,
              leaf: request.leaf,
              leafIndex: request.leafIndex,
              registrationDigest: request.registrationDigest,
              proof: request.proof,
            }
          : null,
    };
  }

  #payload(
    p: {
      creator: string;
      contentHash: string;
      cid: string;
      metadataUri: string;
      parentId: string;
    },
    nowSeconds: number,
  ): RegisterTypedData {
    const ttl = this.deps.signatureTtlSeconds ?? 24 * 3600;
    return {
      domain: {
        name: registryDomain(0n, this.deps.registryAddress).name,
        version: registryDomain(0n, this.deps.registryAddress).version,
        chainId: String(this.deps.chainId),
        verifyingContract: this.deps.registryAddress,
      },
      types: REGISTER_TYPES,
      primaryType: "Register",
      message: {
        creator: p.creator,
        contentHash: p.contentHash,
        cid: p.cid,
        metadataURI: p.metadataUri,
        parentId: p.parentId,
        // Salts the commitment that hides the hash until the reveal: 128 random bits.
        nonce: BigInt(`0x${randomBytes(16).toString("hex")}`).toString(),
        deadline: String(nowSeconds + ttl),
      },
    };
  }
}
