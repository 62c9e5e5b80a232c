import { createHash, randomUUID } from "node:crypto";
import type { Pool } from "pg";
import type { Finality } from "../../lib/finality.ts";
import type {
  Delivery,
  DeliveryTerms,
  DownloadLink,
  DownloadRequest,
  Entitlement,
  Identified,
  ListDeliveriesQuery,
} from "../../lib/api/deliveries.ts";
import type { Page } from "../../lib/api/primitives.ts";
import { checksum } from "../../lib/address.ts";
import { findOriginal, type OriginalRecord } from "../content/store.ts";
import { AppError, notFound } from "../errors.ts";
import type { OrderReader, OrdersService } from "../orders/orders.ts";
import { findOffer } from "../repositories/offers.ts";
import type { WorksRepository } from "../repositories/works.ts";
import type { LicenseVerifier } from "../services/license-verifier.ts";
import type { DownloadLinks, LinkGrant } from "./links.ts";
import { Watermarks } from "./watermarks.ts";
import {
  findDelivery,
  findLicenseFacts,
  findTerms,
  licensesOfHolder,
  listDeliveries,
  recordDelivery,
  storeTerms,
  usageOf,
  type LicenseFacts,
  type Usage,
} from "./store.ts";

const FINALITY_RANK: Record<Finality, number> = { pending: 0, safe: 1, final: 2 };
/** How long after its start an interrupted download may be continued without counting another. */
const RESUME_SECONDS = 24 * 3600;
const ORIGINALS_CACHED = 10_000;
const ORIGINAL_CACHE_MS = 60_000;

export interface DeliveryServiceDeps {
  db: Pool;
  works: WorksRepository;
  verifier: LicenseVerifier;
  orders: OrdersService;
  links: DownloadLinks;
  /** The chain's time, by which licenses expire and download windows close. */
  clock: { nowSeconds(): Promise<number> };
  /** How long a download link may be started. */
  linkTtlSeconds: number;
  /** The least finality a license needs before its file is delivered. */
  minFinality: Finality;
  /** Marks copies of images and PDFs for offers whose terms ask for it. */
  watermarks: Watermarks;
  /** The largest original a delivery marks (it is marked in memory); larger ones go unmarked. */
  watermarkMaxBytes: number;
}

/** Who asks for a file: a signed-in holder, or whoever holds a card order's secret (or its buyer's session). */
export type Requester =
  { kind: "wallet"; address: string } | { kind: "order"; orderId: string; reader: OrderReader };

/** The license a requester holds to a work, with what delivery needs of it. */
interface Holding {
  workId: string;
  holder: string;
  license: LicenseFacts;
  terms: DeliveryTerms;
  original: OriginalRecord;
}

const refused = (code: string, message: string, details: unknown = null) =>
  new AppError(code, 403, message, details);

/**
 * License-gated delivery: a holder of a valid license (checked when asked: expiry, revocation,
 * finality) gets a short-lived signed link to the work's original within the limits of the offer's
 * delivery terms (downloads, devices, a window after purchase), and every delivery is logged for
 * the work's creator. Every request a link serves checks the link and its own license again.
 */
export class DeliveryService {
  /** Originals by content hash for the links' hot path: a row changes only when its data key is re-wrapped. */
  readonly #originals = new Map<string, { original: OriginalRecord; until: number }>();

  constructor(private readonly deps: DeliveryServiceDeps) {}

  /** The delivery terms of an offer (no limits unless its creator set some). */
  async terms(offerId: string): Promise<DeliveryTerms> {
    await this.#offerCreator(offerId);
    return findTerms(this.deps.db, offerId);
  }

  /** Sets an offer's delivery terms; only its creator, signed in, may. */
  async setTerms(offerId: string, caller: string, terms: DeliveryTerms): Promise<DeliveryTerms> {
    if ((await this.#offerCreator(offerId)) !== caller) {
      throw refused("NOT_OFFER_CREATOR", `offer ${offerId} belongs to another creator`);
    }
    await storeTerms(this.deps.db, offerId, terms);
    return terms;
  }

  /** What the requester's license to the work allows now and what it has used. */
  async entitlement(requester: Requester, workId?: string): Promise<Entitlement> {
    const holding = await this.#holding(requester, workId);
    return this.#entitlement(holding, await usageOf(this.deps.db, holding.license.tokenId));
  }

  /**
   * A download link for the requester's license to the work, counted against its limits (403 with
   * the reason when a limit is reached), or a fresh link to an interrupted delivery (`resume`).
   */
  async link(requester: Requester, request: DownloadRequest, workId?: string): Promise<DownloadLink> {
    const holding = await this.#holding(requester, workId);
    const { license, terms } = holding;
    if (request.resume) {
      const earlier = await findDelivery(this.deps.db, request.resume);
      if (!earlier || earlier.tokenId !== license.tokenId || earlier.holder !== holding.holder) {
        throw notFound("delivery", { deliveryId: request.resume });
      }
      if (earlier.createdAt.getTime() / 1000 + RESUME_SECONDS < Date.now() / 1000) {
        throw new AppError("RESUME_EXPIRED", 409, "that download started over a day ago; ask for a new one");
      }
      const usage = await usageOf(this.deps.db, license.tokenId);
      return this.#signed(holding, request.resume, earlier.watermarked, usage);
    }
    const windowEndsAt = this.#windowEnd(license, terms);
    if (windowEndsAt !== null && windowEndsAt <= (await this.deps.clock.nowSeconds())) {
      throw refused("DOWNLOAD_WINDOW_CLOSED", "this license's download window has closed", {
        windowEndedAt: new Date(windowEndsAt * 1000).toISOString(),
      });
    }
    if (terms.maxDevices !== null && request.device === undefined) {
      throw new AppError(
        "DEVICE_REQUIRED",
        400,
        "this offer limits devices: send this device's key as 'device'",
      );
    }
    const deliveryId = randomUUID();
    const watermarked =
      terms.watermark &&
      Watermarks.markable(holding.original.contentType) &&
      holding.original.size <= this.deps.watermarkMaxBytes;
    const outcome = await recordDelivery(
      this.deps.db,
      {
        id: deliveryId,
        tokenId: license.tokenId,
        offerId: license.offerId,
        workId: holding.workId,
        holder: holding.holder,
        via: requester.kind,
        deviceHash:
          request.device === undefined ? null : createHash("sha256").update(request.device).digest("hex"),
        deviceLabel: request.deviceLabel ?? null,
        watermarked,
      },
      terms,
    );
    if (outcome.kind === "download-limit") {
      throw refused(
        "DOWNLOAD_LIMIT_REACHED",
        `this license has no downloads left (it may download ${terms.maxDownloads} times)`,
        {
          maxDownloads: terms.maxDownloads,
          used: outcome.used,
        },
      );
    }
    if (outcome.kind === "device-limit") {
      throw refused(
        "DEVICE_LIMIT_REACHED",
        `this license is in use on as many devices as it may (${terms.maxDevices})`,
        {
          maxDevices: terms.maxDevices,
          used: outcome.used,
        },
      );
    }
    return this.#signed(holding, deliveryId, watermarked, outcome.usage);
  }

  /** What a link grants and the original to serve, once its signature, expiry and license hold. */
  async open(token: string): Promise<{ grant: LinkGrant; original: OriginalRecord }> {
    const grant = this.deps.links.verify(token, Math.floor(Date.now() / 1000));
    if (grant === "LINK_INVALID") throw refused(grant, "this download link is not one this platform made");
    if (grant === "LINK_EXPIRED") throw refused(grant, "this download link has expired; ask for a new one");
    await this.#stillHeld(grant);
    const original = await this.#original(grant.contentHash);
    if (!original) throw notFound("file", { workId: grant.workId });
    return { grant, original };
  }

  /**
   * Refuses a link whose own license was revoked, has expired, left its holder (transferred, or
   * rolled back) or is no longer final enough since the link was issued, whatever else the holder holds.
   */
  async #stillHeld(grant: LinkGrant): Promise<void> {
    const [held, now] = await Promise.all([
      this.deps.verifier.license(grant.tokenId),
      this.deps.clock.nowSeconds(),
    ]);
    const { tokenId } = grant;
    if (!held || held.state.holder !== grant.holder || held.state.workId !== grant.workId) {
      throw refused("NOT_LICENSE_HOLDER", `${checksum(grant.holder)} no longer holds license ${tokenId}`, {
        tokenId,
      });
    }
    const { state, finality } = held;
    if (state.revoked) throw refused("LICENSE_REVOKED", "the license to this work was revoked", { tokenId });
    if (state.expiresAt !== 0 && state.expiresAt <= now) {
      throw refused("LICENSE_EXPIRED", "the license to this work has expired; renew it to download", {
        tokenId,
        expiredAt: new Date(state.expiresAt * 1000).toISOString(),
      });
    }
    this.#assertFinal(finality);
  }

  #assertFinal(finality: Finality): void {
    if (FINALITY_RANK[finality] < FINALITY_RANK[this.deps.minFinality]) {
      throw new AppError(
        "LICENSE_NOT_FINAL",
        409,
        `the license is ${finality}; its file is delivered once it is ${this.deps.minFinality}`,
        { finality, required: this.deps.minFinality },
      );
    }
  }

  async #original(contentHash: string): Promise<OriginalRecord | null> {
    const now = Date.now();
    const cached = this.#originals.get(contentHash);
    if (cached && cached.until > now) return cached.original;
    const original = await findOriginal(this.deps.db, contentHash);
    if (this.#originals.size >= ORIGINALS_CACHED) this.#originals.clear();
    if (original) this.#originals.set(contentHash, { original, until: now + ORIGINAL_CACHE_MS });
    return original;
  }

  /**
   * The bytes a link serves: the original, or for a marked delivery the original marked with the
   * license it was delivered to (the same bytes on every request, so ranges of it fit together).
   */
  async body(
    grant: LinkGrant,
    original: OriginalRecord,
    read: () => AsyncIterable<Uint8Array>,
  ): Promise<Buffer | null> {
    if (!grant.watermark || original.contentType === null) return null;
    const parts: Uint8Array[] = [];
    for await (const part of read()) parts.push(part);
    return this.deps.watermarks.mark(Buffer.concat(parts), original.contentType, grant.tokenId, grant.holder);
  }

  /**
   * The license a suspect copy was delivered to, read from its mark: for a legal team (any work)
   * or the marked work's creator (403 for anyone else's work).
   */
  async identify(
    bytes: Buffer,
    caller: { legal: true } | { legal: false; address: string },
  ): Promise<Identified> {
    const mark = await this.deps.watermarks.read(bytes);
    if (!mark) return { found: false, license: null };
    const license = await findLicenseFacts(this.deps.db, mark.tokenId);
    if (!license) return { found: false, license: null };
    if (!caller.legal) {
      const work = await this.deps.works.findById(license.workId);
      if (work?.creator.toLowerCase() !== caller.address) {
        throw refused("NOT_WORK_CREATOR", "the copy is marked for another creator's work");
      }
    }
    return {
      found: true,
      license: {
        tokenId: license.tokenId,
        offerId: license.offerId,
        workId: license.workId,
        holder: checksum(license.holder)!,
        issuedAt: new Date(license.issuedAt * 1000).toISOString(),
      },
    };
  }

  /** A work's deliveries, newest first, for its creator. */
  async log(workId: string, caller: string, query: ListDeliveriesQuery): Promise<Page<Delivery>> {
    const work = await this.deps.works.findById(workId);
    if (!work) throw notFound("work", { workId });
    if (work.creator.toLowerCase() !== caller) {
      throw refused("NOT_WORK_CREATOR", "only the work's creator sees its deliveries");
    }
    return listDeliveries(this.deps.db, workId, query);
  }

  async #offerCreator(offerId: string): Promise<string> {
    const offer = await findOffer(this.deps.db, offerId, await this.deps.works.heads());
    if (!offer) throw notFound("offer", { offerId });
    return offer.creator.toLowerCase();
  }

  /** The requester's valid license to the work and the file it delivers, or the reason it gets none. */
  async #holding(requester: Requester, askedWorkId?: string): Promise<Holding> {
    const { workId, holder } = await this.#subject(requester, askedWorkId);
    const check = await this.deps.verifier.verify(workId, holder);
    if (!check.valid || check.tokenId === null) throw await this.#whyNot(workId, holder);
    this.#assertFinal(check.finality!);
    const [license, work] = await Promise.all([
      findLicenseFacts(this.deps.db, check.tokenId),
      this.deps.works.findById(workId),
    ]);
    if (!license || !work) throw notFound("license", { tokenId: check.tokenId });
    const original = await findOriginal(this.deps.db, work.contentHash);
    if (!original || original.cid !== work.cid) {
      throw new AppError("FILE_NOT_HELD", 404, `the platform does not hold the file of work ${workId}`);
    }
    return { workId, holder, license, terms: await findTerms(this.deps.db, license.offerId), original };
  }

  /** The work and the wallet a request is about: the signed-in wallet, or the card order's. */
  async #subject(requester: Requester, workId?: string): Promise<{ workId: string; holder: string }> {
    if (requester.kind === "wallet") return { workId: workId!, holder: requester.address };
    await this.deps.orders.assertReadable(requester.orderId, requester.reader);
    const order = await this.deps.orders.current(requester.orderId);
    if (order.tokenId === null || order.wallet === null) {
      throw new AppError("LICENSE_NOT_ISSUED", 409, "the order's license is not issued yet", {
        status: order.status,
      });
    }
    const license = await findLicenseFacts(this.deps.db, order.tokenId);
    if (!license) throw new AppError("LICENSE_NOT_ISSUED", 409, "the order's license is not indexed yet");
    return { workId: license.workId, holder: order.wallet.toLowerCase() };
  }

  /** Why `holder` gets no file of `workId`: it holds no license, or only expired or revoked ones. */
  async #whyNot(workId: string, holder: string): Promise<AppError> {
    const held = await licensesOfHolder(this.deps.db, workId, holder);
    if (held.length === 0) {
      return refused("NOT_LICENSE_HOLDER", `${checksum(holder)} holds no license to work ${workId}`);
    }
    const expired = held.filter((l) => !l.revoked);
    if (expired.length > 0) {
      const latest = Math.max(...expired.map((l) => l.expiresAt));
      return refused("LICENSE_EXPIRED", "the license to this work has expired; renew it to download", {
        tokenId: expired.find((l) => l.expiresAt === latest)!.tokenId,
        expiredAt: new Date(latest * 1000).toISOString(),
      });
    }
    return refused("LICENSE_REVOKED", "the license to this work was revoked", { tokenId: held[0]!.tokenId });
  }

  #windowEnd(license: LicenseFacts, terms: DeliveryTerms): number | null {
    return terms.windowSeconds === null ? null : license.issuedAt + terms.windowSeconds;
  }

  #entitlement(holding: Holding, usage: Usage): Entitlement {
    const { license, terms, original } = holding;
    const windowEnd = this.#windowEnd(license, terms);
    return {
      workId: holding.workId,
      tokenId: license.tokenId,
      offerId: license.offerId,
      file: { filename: original.filename, size: original.size, contentType: original.contentType },
      terms,
      downloads: {
        used: usage.downloads,
        left: terms.maxDownloads === null ? null : Math.max(0, terms.maxDownloads - usage.downloads),
      },
      devices: {
        used: usage.devices.length,
        left: terms.maxDevices === null ? null : Math.max(0, terms.maxDevices - usage.devices.length),
        registered: usage.devices.map((d) => ({
          label: d.label,
          registeredAt: d.registeredAt.toISOString(),
        })),
      },
      windowEndsAt: windowEnd === null ? null : new Date(windowEnd * 1000).toISOString(),
    };
  }

  #signed(holding: Holding, deliveryId: string, watermark: boolean, usage: Usage): DownloadLink {
    const expiresAt = Math.floor(Date.now() / 1000) + this.deps.linkTtlSeconds;
    const token = this.deps.links.sign({
      deliveryId,
      workId: holding.workId,
      tokenId: holding.license.tokenId,
      holder: holding.holder,
      contentHash: holding.original.contentHash,
      expiresAt,
      watermark,
    });
    return {
      deliveryId,
      url: `/v1/downloads/${token}`,
      expiresAt: new Date(expiresAt * 1000).toISOString(),
      entitlement: this.#entitlement(holding, usage),
    };
  }
}
