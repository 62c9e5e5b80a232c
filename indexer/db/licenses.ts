import type { ValueNotes } from "../untrusted.ts";
import { currentTable, historyTable, type Origin } from "./rows.ts";

export interface OfferRow extends Origin {
  offer_id: string;
  work_id: string;
  creator: string;
  currency: string;
  price: string;
  duration: string;
  max_supply: number;
  sold: number;
  transferable: boolean;
  commercial_use: boolean;
  referrer_bps: number;
  royalty_bps: number;
  split: string;
  territory: string;
  active: boolean;
  /** Whether the creator may revoke its licenses for breach of the offer's terms. */
  revocable: boolean;
  /** The platform fee fixed when the offer was published. */
  platform_fee_bps: number;
  /** How untrusted columns (territory) were changed to be stored; null when they were not. */
  value_notes: ValueNotes | null;
  updated_block: number;
}

export interface LicenseRow extends Origin {
  token_id: string;
  offer_id: string;
  work_id: string;
  holder: string;
  payer: string;
  /** Set for licenses minted for a card payment. */
  payment_ref: string | null;
  /** Unix seconds; "0" for perpetual. */
  expires_at: string;
  renewals: number;
  revoked: boolean;
  revoked_by: string | null;
  /** `card_refund`, `card_chargeback` or `offer_terms`. */
  revoked_reason: string | null;
  revoked_block: number | null;
  /** Block time of the mint; null for licenses indexed before block times were kept. */
  issued_at: Date | null;
  updated_block: number;
}

export interface LicenseRenewalRow extends Origin {
  token_id: string;
  payer: string;
  expires_at: string;
}

export interface LicenseTransferRow extends Origin {
  token_id: string;
  from_address: string;
  to_address: string;
}

export interface PaymentRow extends Origin {
  payment_ref: string;
  token_id: string;
  offer_id: string;
  work_id: string;
  holder: string;
}

export interface RevenuePaymentRow extends Origin {
  token_id: string;
  currency: string;
  split: string;
  amount: string;
  platform_fee: string;
  referrer: string;
  referrer_commission: string;
}

/** A referrer's approval on an offer as last set; the origin columns are those of the last ReferrerSet. */
export interface OfferReferrerRow extends Origin {
  offer_id: string;
  referrer: string;
  approved: boolean;
}

export interface WithdrawalRow extends Origin {
  contract: string;
  account: string;
  currency: string;
  amount: string;
}

export const offers = currentTable<OfferRow>("offers", ["offer_id"]);
export const offerReferrers = currentTable<OfferReferrerRow>("offer_referrers", ["offer_id", "referrer"]);
export const licenses = currentTable<LicenseRow>("licenses", ["token_id"]);
export const licenseRenewals = historyTable<LicenseRenewalRow>("license_renewals");
export const licenseTransfers = historyTable<LicenseTransferRow>("license_transfers");
export const payments = historyTable<PaymentRow>("payments");
export const revenuePayments = historyTable<RevenuePaymentRow>("revenue_payments");
export const withdrawals = historyTable<WithdrawalRow>("withdrawals");
