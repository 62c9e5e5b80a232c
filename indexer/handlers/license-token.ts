import type { Erc721Transfer, Stored } from "../abi.ts";
import {
  licenseRenewals,
  licenses,
  licenseTransfers,
  offerReferrers,
  offers,
  payments,
  revenuePayments,
  withdrawals,
} from "../db/licenses.ts";
import { need } from "../store.ts";
import type {
  LicenseIssuedEvent,
  LicenseRenewedEvent,
  LicenseRevokedEvent,
  LicenseShortenedEvent,
  OfferActiveSetEvent,
  OfferCreatedEvent,
  ReferrerSetEvent,
  RevenuePaidEvent,
  WithdrawnEvent,
} from "../../types/typechain/contracts/interfaces/ILicenseToken.ts";
import { notesFor } from "../untrusted.ts";
import { on, origin, ZERO_HASH, type ContractHandlers } from "./handler.ts";

type OfferCreated = Stored<OfferCreatedEvent.OutputObject>;
type OfferActiveSet = Stored<OfferActiveSetEvent.OutputObject>;
type ReferrerSet = Stored<ReferrerSetEvent.OutputObject>;
type LicenseIssued = Stored<LicenseIssuedEvent.OutputObject>;
type LicenseRenewed = Stored<LicenseRenewedEvent.OutputObject>;
type LicenseRevoked = Stored<LicenseRevokedEvent.OutputObject>;
type LicenseShortened = Stored<LicenseShortenedEvent.OutputObject>;

/** `ILicenseToken.RevocationReason`, by its index. */
const REVOCATION_REASONS = ["card_refund", "card_chargeback", "offer_terms"] as const;
type RevenuePaid = Stored<RevenuePaidEvent.OutputObject>;
type Withdrawn = Stored<WithdrawnEvent.OutputObject>;

/** Offers and their approved referrers, licenses (holder, expiry, revocation, renewals), revenue, card payments and withdrawals. */
export const licenseTokenHandlers: ContractHandlers = {
  OfferCreated: on<OfferCreated>({
    apply(event, store) {
      const a = event.args;
      store.insert(
        offers,
        {
          offer_id: a.offerId,
          work_id: a.workId,
          creator: a.creator,
          currency: a.currency,
          price: a.price,
          duration: a.duration,
          max_supply: Number(a.maxSupply),
          sold: 0,
          transferable: a.transferable,
          commercial_use: a.commercialUse,
          referrer_bps: Number(a.referrerBps),
          royalty_bps: Number(a.royaltyBps),
          split: a.split,
          territory: a.territory,
          active: true,
          revocable: a.revocable,
          platform_fee_bps: Number(a.platformFeeBps),
          value_notes: notesFor(event.notes, { territory: "territory" }),
          ...origin(event),
          updated_block: event.blockNumber,
        },
        event.blockNumber,
      );
    },
  }),

  OfferActiveSet: on<OfferActiveSet>({
    needs: (a) => [need(offers, { offer_id: a.offerId })],
    apply(event, store) {
      const offer = store.get(offers, { offer_id: event.args.offerId });
      if (!offer) return;
      store.update(
        offers,
        { ...offer, active: event.args.active, updated_block: event.blockNumber },
        event.blockNumber,
      );
    },
  }),

  ReferrerSet: on<ReferrerSet>({
    needs: (a) => [need(offerReferrers, { offer_id: a.offerId, referrer: a.referrer })],
    apply(event, store) {
      const a = event.args;
      const key = { offer_id: a.offerId, referrer: a.referrer };
      const row = { ...key, approved: a.approved, ...origin(event) };
      if (store.get(offerReferrers, key)) store.update(offerReferrers, row, event.blockNumber);
      else store.insert(offerReferrers, row, event.blockNumber);
    },
  }),

  LicenseIssued: on<LicenseIssued>({
    needs: (a) => [need(offers, { offer_id: a.offerId }), need(licenses, { token_id: a.tokenId })],
    apply(event, store) {
      const a = event.args;
      const paymentRef = a.paymentRef === ZERO_HASH ? null : a.paymentRef;
      store.insert(
        licenses,
        {
          token_id: a.tokenId,
          offer_id: a.offerId,
          work_id: a.workId,
          holder: a.holder,
          payer: a.payer,
          payment_ref: paymentRef,
          expires_at: a.expiresAt,
          renewals: 0,
          revoked: false,
          revoked_by: null,
          revoked_reason: null,
          revoked_block: null,
          issued_at: new Date(event.blockTime! * 1000),
          ...origin(event),
          updated_block: event.blockNumber,
        },
        event.blockNumber,
      );
      const offer = store.get(offers, { offer_id: a.offerId });
      if (offer)
        store.update(
          offers,
          { ...offer, sold: offer.sold + 1, updated_block: event.blockNumber },
          event.blockNumber,
        );
      if (paymentRef) {
        store.append(payments, {
          payment_ref: paymentRef,
          token_id: a.tokenId,
          offer_id: a.offerId,
          work_id: a.workId,
          holder: a.holder,
          ...origin(event),
        });
      }
    },
  }),

  LicenseRenewed: on<LicenseRenewed>({
    needs: (a) => [need(licenses, { token_id: a.tokenId })],
    apply(event, store) {
      const a = event.args;
      store.append(licenseRenewals, {
        token_id: a.tokenId,
        payer: a.payer,
        expires_at: a.expiresAt,
        ...origin(event),
      });
      const license = store.get(licenses, { token_id: a.tokenId });
      if (!license) return;
      store.update(
        licenses,
        {
          ...license,
          expires_at: a.expiresAt,
          renewals: license.renewals + 1,
          updated_block: event.blockNumber,
        },
        event.blockNumber,
      );
    },
  }),

  LicenseRevoked: on<LicenseRevoked>({
    needs: (a) => [need(licenses, { token_id: a.tokenId })],
    apply(event, store) {
      const a = event.args;
      const license = store.get(licenses, { token_id: a.tokenId });
      if (!license) return;
      store.update(
        licenses,
        {
          ...license,
          revoked: true,
          revoked_by: a.by,
          revoked_reason: REVOCATION_REASONS[Number(a.reason)] ?? a.reason,
          revoked_block: event.blockNumber,
          updated_block: event.blockNumber,
        },
        event.blockNumber,
      );
    },
  }),

  // A card refund took back the unused card-paid term of a license renewed since with other money.
  LicenseShortened: on<LicenseShortened>({
    needs: (a) => [need(licenses, { token_id: a.tokenId })],
    apply(event, store) {
      const license = store.get(licenses, { token_id: event.args.tokenId });
      if (!license) return;
      store.update(
        licenses,
        { ...license, expires_at: event.args.expiresAt, updated_block: event.blockNumber },
        event.blockNumber,
      );
    },
  }),

  RevenuePaid: on<RevenuePaid>({
    apply(event, store) {
      const a = event.args;
      store.append(revenuePayments, {
        token_id: a.tokenId,
        currency: a.currency,
        split: a.split,
        amount: a.amount,
        platform_fee: a.platformFee,
        referrer: a.referrer,
        referrer_commission: a.referrerCommission,
        ...origin(event),
      });
    },
  }),

  Withdrawn: on<Withdrawn>({
    apply(event, store) {
      const a = event.args;
      store.append(withdrawals, {
        contract: event.address,
        account: a.account,
        currency: a.currency,
        amount: a.amount,
        ...origin(event),
      });
    },
  }),

  // The mint's Transfer may come before or after LicenseIssued; either way the holder ends up `to`.
  Transfer: on<Erc721Transfer>({
    needs: (a) => [need(licenses, { token_id: a.tokenId })],
    apply(event, store) {
      const a = event.args;
      store.append(licenseTransfers, {
        token_id: a.tokenId,
        from_address: a.from,
        to_address: a.to,
        ...origin(event),
      });
      const license = store.get(licenses, { token_id: a.tokenId });
      if (!license || license.holder === a.to) return;
      store.update(
        licenses,
        { ...license, holder: a.to, updated_block: event.blockNumber },
        event.blockNumber,
      );
    },
  }),
};
