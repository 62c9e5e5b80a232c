import { randomUUID } from "node:crypto";
import type { Pool } from "pg";
import { checksum } from "../../lib/address.ts";
import { licenseDomain, SET_REFERRER_TYPES, type SetReferrerMessage } from "../../lib/eip712.ts";
import type { Offer } from "../../lib/api/offers.ts";
import type { OfferReferrers, ReferrerRequest, SetReferrerRequest } from "../../lib/api/referrers.ts";
import { assertSignedBy } from "../auth/typed-signature.ts";
import { AppError, notFound } from "../errors.ts";
import type { Outbox } from "../queues/outbox.ts";
import { findOffer } from "../repositories/offers.ts";
import {
  insertReferrerRequest,
  offerReferrers,
  openReferrerRequests,
  publicationUsesNonce,
  type ReferrerRequestRecord,
} from "../repositories/referrers.ts";
import type { WorksRepository } from "../repositories/works.ts";
import type { GasBudget } from "./gas-budget.ts";

export interface ReferrersServiceDeps {
  db: Pool;
  /** Where the set-referrer jobs are recorded with the requests, and queued from. */
  outbox: Outbox;
  works: WorksRepository;
  chainId: number;
  licenseTokenAddress: string;
  /** What the relayer may spend on approvals, per creator and per day. */
  gasBudget: GasBudget;
  /** The chain's time, by which the signature's deadline is judged on chain. */
  clock: { nowSeconds(): Promise<number> };
  /** Addresses card commissions can never be settled to: the settlement contract and its treasury. */
  unpayable: readonly string[];
}

const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";

function toView(r: ReferrerRequestRecord): ReferrerRequest {
  return {
    id: r.id,
    offerId: r.offerId,
    referrer: checksum(r.referrer)!,
    approved: r.approved,
    nonce: r.nonce,
    status: r.status,
    txHash: r.txHash,
    error: r.error,
    createdAt: r.createdAt.toISOString(),
  };
}

/**
 * Referral approvals: an offer's creator, signed in, approves or withdraws referrers with an EIP-712
 * `SetReferrer` signature the relayer sends (`setReferrerFor`, gas paid by the platform); only that
 * creator reads the offer's approvals here.
 */
export class ReferrersService {
  constructor(private readonly deps: ReferrersServiceDeps) {}

  /** The offer, if `caller` created it: 404 for an unknown offer, 403 for another creator's. */
  async #ownOffer(offerId: string, caller: string): Promise<Offer> {
    const offer = await findOffer(this.deps.db, offerId, await this.deps.works.heads());
    if (!offer) throw notFound("offer", { offerId });
    if (offer.creator.toLowerCase() !== caller) {
      throw new AppError("NOT_OFFER_CREATOR", 403, `offer ${offerId} belongs to another creator`);
    }
    return offer;
  }

  /** Checks the creator's signature and queues `setReferrerFor`; a resent signature answers its request. */
  async set(
    offerId: string,
    referrer: string,
    caller: string,
    input: SetReferrerRequest,
  ): Promise<ReferrerRequest> {
    await this.#ownOffer(offerId, caller);
    if (referrer === ZERO_ADDRESS) {
      throw new AppError("INVALID_REFERRER", 400, "the zero address cannot be a referrer");
    }
    if (this.deps.unpayable.some((a) => a.toLowerCase() === referrer.toLowerCase())) {
      throw new AppError("INVALID_REFERRER", 400, "the platform's settlement accounts cannot be referrers", {
        referrer,
      });
    }
    if (BigInt(input.deadline) < BigInt(await this.deps.clock.nowSeconds())) {
      throw new AppError(
        "SIGNATURE_EXPIRED",
        400,
        "the signed approval's deadline has passed; sign it again",
      );
    }
    const message: SetReferrerMessage = {
      offerId: BigInt(offerId),
      referrer,
      approved: input.approved,
      nonce: BigInt(input.nonce),
      deadline: BigInt(input.deadline),
    };
    assertSignedBy(
      licenseDomain(BigInt(this.deps.chainId), this.deps.licenseTokenAddress),
      SET_REFERRER_TYPES,
      message,
      input.signature,
      caller,
      "referrer approval",
    );
    if (await publicationUsesNonce(this.deps.db, caller, input.nonce)) {
      throw new AppError("NONCE_USED", 409, `nonce ${input.nonce} was already used by this creator`);
    }
    const refund = await this.deps.gasBudget.reserve("referrer", caller);
    const { request, created, jobs } = await insertReferrerRequest(this.deps.db, {
      id: randomUUID(),
      creator: caller,
      nonce: input.nonce,
      offerId,
      referrer,
      approved: input.approved,
      deadline: input.deadline,
      signature: input.signature,
    });
    if (!created) await refund();
    if (!created && request.signature !== input.signature) {
      throw new AppError("NONCE_USED", 409, `nonce ${input.nonce} was already used by this creator`, {
        requestId: request.id,
      });
    }
    await this.deps.outbox.deliver(jobs);
    return toView(request);
  }

  /** The offer's approvals as the chain has them, and the requests still on their way. */
  async list(offerId: string, caller: string): Promise<OfferReferrers> {
    const offer = await this.#ownOffer(offerId, caller);
    const [referrers, requests] = await Promise.all([
      offerReferrers(this.deps.db, offerId, await this.deps.works.heads()),
      openReferrerRequests(this.deps.db, offerId),
    ]);
    return { offerId, referrerBps: offer.referrerBps, referrers, requests: requests.map(toView) };
  }
}
