import type { Pool } from "pg";
import type { Logger } from "pino";
import type { LicenseToken } from "../../types/typechain/index.ts";
import { TransactionRevertedError, type Relayer } from "../chain/relayer.ts";
import {
  findOfferByTerms,
  findPublication,
  markPublicationFailed,
  markPublicationSubmitted,
  markPublished,
  type Publication,
} from "../repositories/offers.ts";
import { PermanentError } from "../errors.ts";

export interface PublishOfferDeps {
  db: Pool;
  relayer: Relayer;
  licenses: LicenseToken;
  logger: Logger;
}

export interface PublishOfferResult {
  status: "published" | "skipped";
  offerId?: string;
}

/** The signature was used by another transaction (the creator's own): find the offer it created. */
async function linkSentElsewhere(
  deps: PublishOfferDeps,
  publication: Publication,
): Promise<PublishOfferResult> {
  const offerId = await findOfferByTerms(deps.db, publication.creator, publication.terms);
  if (!offerId)
    throw new Error(`offer of publication ${publication.id} was sent elsewhere; waiting for the indexer`);
  await markPublished(deps.db, publication, offerId, null);
  return { status: "published", offerId };
}

/**
 * Publishes a creator-signed offer with `createOfferFor`, the relayer paying gas, and puts its card
 * price on sale. Idempotent by publication (creator and nonce): a retried job waits for the
 * transaction an earlier attempt sent, and a nonce already used on chain means the offer exists.
 */
export async function publishOffer(
  deps: PublishOfferDeps,
  publicationId: string,
): Promise<PublishOfferResult> {
  const publication = await findPublication(deps.db, publicationId);
  if (!publication) throw new PermanentError(`no offer publication ${publicationId}`);
  if (publication.status === "published" || publication.status === "failed") return { status: "skipped" };
  const { licenses, relayer } = deps;

  let hash = publication.txHash ?? (await relayer.sentFor("createOfferFor", publicationId));
  if (!hash) {
    if (await licenses.nonceUsed(publication.creator, publication.nonce))
      return linkSentElsewhere(deps, publication);
    const t = publication.terms;
    const data = licenses.interface.encodeFunctionData("createOfferFor", [
      {
        workId: BigInt(t.workId),
        currency: t.currency,
        price: BigInt(t.price),
        duration: BigInt(t.duration),
        maxSupply: t.maxSupply,
        transferable: t.transferable,
        commercialUse: t.commercialUse,
        referrerBps: t.referrerBps,
        royaltyBps: t.royaltyBps,
        split: t.split,
        territory: t.territory,
        revocable: t.revocable,
      },
      publication.creator,
      BigInt(publication.nonce),
      BigInt(publication.deadline),
      publication.signature,
    ]);
    try {
      ({ hash } = await relayer.send({
        to: await licenses.getAddress(),
        data,
        purpose: "createOfferFor",
        ref: publicationId,
      }));
    } catch (err) {
      if (!(err instanceof TransactionRevertedError)) throw err;
      if (err.errorName === "NonceAlreadyUsed") return linkSentElsewhere(deps, publication);
      await markPublicationFailed(deps.db, publicationId, err.message);
      throw new PermanentError(err.message);
    }
    await markPublicationSubmitted(deps.db, publicationId, hash);
  }
  const receipt = await relayer.wait(hash);
  if (receipt.status !== 1) {
    if (await licenses.nonceUsed(publication.creator, publication.nonce))
      return linkSentElsewhere(deps, publication);
    await markPublicationFailed(deps.db, publicationId, `transaction ${receipt.hash} reverted`);
    throw new PermanentError(`createOfferFor ${receipt.hash} reverted`);
  }
  const target = (await licenses.getAddress()).toLowerCase();
  let offerId: string | null = null;
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== target) continue;
    const parsed = licenses.interface.parseLog(log);
    if (parsed?.name === "OfferCreated") offerId = (parsed.args.offerId as bigint).toString();
  }
  if (!offerId) throw new PermanentError(`createOfferFor ${receipt.hash} emitted no OfferCreated`);
  await markPublished(deps.db, publication, offerId, receipt.hash);
  deps.logger.info({ publicationId, offerId, txHash: receipt.hash }, "offer published");
  return { status: "published", offerId };
}
