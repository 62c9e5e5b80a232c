import { randomUUID } from "node:crypto";
import type { Pool } from "pg";
import { CREATE_OFFER_TYPES, licenseDomain, type CreateOfferMessage } from "../../lib/eip712.ts";
import { assertSignedBy } from "../auth/typed-signature.ts";
import type { GasBudget } from "./gas-budget.ts";
import { AppError, notFound } from "../errors.ts";
import { checksum } from "../../lib/address.ts";
import type { Outbox } from "../queues/outbox.ts";
import {
  findOffer,
  findPublication,
  insertPublication,
  listOffers,
  setFiatPrice,
  type OfferTerms,
  type Publication,
} from "../repositories/offers.ts";
import type { WorksRepository } from "../repositories/works.ts";
import type { Page } from "../../lib/api/primitives.ts";
import type {
  FiatPrice,
  ListOffersQuery,
  Offer,
  OfferPublication,
  PublishOfferRequest,
} from "../../lib/api/offers.ts";

export interface OffersServiceDeps {
  db: Pool;
  /** Where the publication jobs are recorded with the publications, and queued from. */
  outbox: Outbox;
  works: WorksRepository;
  chainId: number;
  licenseTokenAddress: string;
  /** What the relayer may spend on offer publications, per creator and per day. */
  gasBudget: GasBudget;
  /** The chain's time, by which the signature's deadline is judged on chain. */
  clock: { nowSeconds(): Promise<number> };
  /** The lowest card price, in minor units of any currency: below it a card mint's gas is not covered. */
  minFiatPrice: number;
}

/** Refuses a card price below the floor that pays for the mint's gas. */
function assertAboveFloor(price: FiatPrice | undefined, minFiatPrice: number): void {
  if (price && price.amount < minFiatPrice) {
    throw new AppError(
      "PRICE_BELOW_FLOOR",
      400,
      `a card price must be at least ${minFiatPrice} minor units, which covers the mint's gas`,
      { minAmount: minFiatPrice, amount: price.amount, currency: price.currency },
    );
  }
}

/** A card price is the creator's to set: refused without a session (401) or from another wallet's (403). */
function assertCreatorSession(caller: string | null, creator: string): void {
  if (caller === null) {
    throw new AppError("AUTH_REQUIRED", 401, "sign in as the offer's creator to set its card price");
  }
  if (caller !== creator) {
    throw new AppError("NOT_OFFER_CREATOR", 403, "only the offer's creator may set its card price", {
      creator: checksum(creator),
      signedIn: checksum(caller),
    });
  }
}

const samePrice = (a: FiatPrice | null, b: FiatPrice) =>
  a !== null && a.amount === b.amount && a.currency === b.currency;

function toView(p: Publication): OfferPublication {
  return {
    id: p.id,
    status: p.status,
    creator: checksum(p.creator)!,
    workId: p.workId,
    nonce: p.nonce,
    offerId: p.offerId,
    txHash: p.txHash,
    error: p.error,
    fiatPrice: p.fiatPrice,
    createdAt: p.createdAt.toISOString(),
  };
}

/** Offers: creators publish signed terms (the relayer pays gas) with an optional card price; everyone reads them. */
export class OffersService {
  constructor(private readonly deps: OffersServiceDeps) {}

  /**
   * Checks the creator's EIP-712 `CreateOffer` signature and queues the publication. The signature
   * does not cover the card price, so a price is taken only from a session of the creator (`caller`,
   * the signed-in wallet or null): whoever else holds the signed offer cannot price it.
   */
  async publish(
    workId: string,
    input: PublishOfferRequest,
    caller: string | null,
  ): Promise<OfferPublication> {
    const work = await this.deps.works.findById(workId);
    if (!work) throw notFound("work", { workId });
    if (work.creator.toLowerCase() !== input.creator) {
      throw new AppError("NOT_WORK_CREATOR", 403, `work ${workId} was registered by another creator`);
    }
    if (BigInt(input.deadline) < BigInt(await this.deps.clock.nowSeconds())) {
      throw new AppError("SIGNATURE_EXPIRED", 400, "the signed offer's deadline has passed; sign it again");
    }
    const terms: OfferTerms = {
      workId,
      currency: input.currency,
      price: input.price,
      duration: input.duration,
      maxSupply: input.maxSupply,
      transferable: input.transferable,
      commercialUse: input.commercialUse,
      referrerBps: input.referrerBps,
      royaltyBps: input.royaltyBps,
      split: input.split,
      territory: input.territory,
      revocable: input.revocable,
    };
    const message: CreateOfferMessage = {
      creator: input.creator,
      workId: BigInt(workId),
      currency: terms.currency,
      price: BigInt(terms.price),
      duration: BigInt(terms.duration),
      maxSupply: terms.maxSupply,
      transferable: terms.transferable,
      commercialUse: terms.commercialUse,
      referrerBps: terms.referrerBps,
      royaltyBps: terms.royaltyBps,
      split: terms.split,
      territory: terms.territory,
      revocable: terms.revocable,
      nonce: BigInt(input.nonce),
      deadline: BigInt(input.deadline),
    };
    assertSignedBy(
      licenseDomain(BigInt(this.deps.chainId), this.deps.licenseTokenAddress),
      CREATE_OFFER_TYPES,
      message,
      input.signature,
      input.creator,
      "offer",
    );
    assertAboveFloor(input.fiatPrice, this.deps.minFiatPrice);
    if (input.fiatPrice) assertCreatorSession(caller, input.creator);
    const refund = await this.deps.gasBudget.reserve("offer", input.creator);
    const { publication, created, jobs } = await insertPublication(this.deps.db, {
      id: randomUUID(),
      creator: input.creator,
      nonce: input.nonce,
      workId,
      terms,
      deadline: input.deadline,
      signature: input.signature,
      fiatPrice: input.fiatPrice ?? null,
    });
    if (!created) await refund();
    if (!created && publication.signature !== input.signature) {
      throw new AppError("NONCE_USED", 409, `nonce ${input.nonce} was already used by this creator`, {
        publicationId: publication.id,
      });
    }
    if (!created && input.fiatPrice && !samePrice(publication.fiatPrice, input.fiatPrice)) {
      throw new AppError(
        "PUBLICATION_EXISTS",
        409,
        "this signed offer was already sent with another card price; set the price with PUT /v1/offers/:id/fiat-price",
        { publicationId: publication.id, fiatPrice: publication.fiatPrice },
      );
    }
    await this.deps.outbox.deliver(jobs);
    return toView(publication);
  }

  async publication(id: string): Promise<OfferPublication> {
    const publication = await findPublication(this.deps.db, id);
    if (!publication) throw notFound("offer publication", { id });
    return toView(publication);
  }

  async list(query: ListOffersQuery): Promise<Page<Offer>> {
    return listOffers(this.deps.db, query, await this.deps.works.heads());
  }

  async get(offerId: string): Promise<Offer> {
    const offer = await findOffer(this.deps.db, offerId, await this.deps.works.heads());
    if (!offer) throw notFound("offer", { offerId });
    return offer;
  }

  /** Sets the card price of an offer; only its creator, signed in, may. */
  async setFiatPrice(offerId: string, caller: string, price: FiatPrice): Promise<Offer> {
    assertAboveFloor(price, this.deps.minFiatPrice);
    const offer = await this.get(offerId);
    if (offer.creator.toLowerCase() !== caller) {
      throw new AppError("NOT_OFFER_CREATOR", 403, `offer ${offerId} belongs to another creator`);
    }
    await setFiatPrice(this.deps.db, offerId, price);
    return this.get(offerId);
  }
}
