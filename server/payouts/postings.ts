/**
 * The lines each booking of a card payment makes, in minor units: a debit is positive, a credit
 * negative, and every booking's lines add up to zero. Pure arithmetic, so the rules are read (and
 * tested) in one place.
 */
import type { Booking } from "../queues/queues.ts";

export const PROVIDER_BALANCE = "provider:balance";
export const PROVIDER_FEES = "provider:fees";
export const PLATFORM_REVENUE = "platform:revenue";
export const TREASURY_SETTLEMENTS = "treasury:settlements";

/** The account of what `address` (a revenue split or a referrer) is owed. */
export const payeeAccount = (address: string): string => `payee:${address.toLowerCase()}`;

/** The payee an account belongs to, or null for the platform's own accounts. */
export function payeeOf(account: string): string | null {
  return account.startsWith("payee:") ? account.slice("payee:".length) : null;
}

export interface Line {
  account: string;
  amount: number;
}

/** What a card sale is split by: the offer's terms as published, and the referrer if the creator approved them. */
export interface SaleTerms {
  /** What the buyer paid. */
  amount: number;
  /** What the payment provider kept. */
  providerFee: number;
  platformFeeBps: number;
  referrerBps: number;
  split: string;
  /** An approved referrer, or null. */
  referrer: string | null;
}

const TOTAL_BPS = 10_000;

/** A share of `amount` in basis points, rounded down as the contract rounds (LicenseToken._collect). */
const bps = (amount: number, share: number): number => Math.floor((amount * share) / TOTAL_BPS);

/** The sale's lines that credited someone it owes: the platform, the split and the referrer. */
const owed = (sale: readonly Line[]): Line[] => sale.filter((l) => !l.account.startsWith("provider:"));

/** Merges lines of one account and drops zeros (the ledger refuses zero lines). */
function compact(lines: Line[]): Line[] {
  const byAccount = new Map<string, number>();
  for (const { account, amount } of lines) byAccount.set(account, (byAccount.get(account) ?? 0) + amount);
  return [...byAccount]
    .filter(([, amount]) => amount !== 0)
    .map(([account, amount]) => ({ account, amount }));
}

/**
 * A captured sale: the platform fee and an approved referrer's commission are taken from the price as
 * the on-chain `purchase` takes them; the split is credited what is left after them and after the
 * provider's fee. When the fee leaves less than nothing for the split, the platform bears the rest.
 */
export function salePostings(terms: SaleTerms): Line[] {
  const { amount, providerFee } = terms;
  const platformFee = bps(amount, terms.platformFeeBps);
  const commission = terms.referrer ? bps(amount, terms.referrerBps) : 0;
  const toSplit = Math.max(0, amount - providerFee - platformFee - commission);
  return compact([
    { account: PROVIDER_BALANCE, amount: amount - providerFee },
    { account: PROVIDER_FEES, amount: providerFee },
    { account: PLATFORM_REVENUE, amount: -(amount - toSplit - commission) },
    { account: payeeAccount(terms.split), amount: -toSplit },
    ...(terms.referrer ? [{ account: payeeAccount(terms.referrer), amount: -commission }] : []),
  ]);
}

/**
 * Money taken back from the sale (a refund, or a chargeback with its fee): every account the sale
 * credited is debited what it was credited; the provider's fee of the sale is not returned by the
 * provider, and it and a chargeback's fee stay the platform's cost.
 */
export function reversalPostings(sale: readonly Line[], amount: number, chargebackFee = 0): Line[] {
  return compact([
    ...owed(sale).map((l) => ({ account: l.account, amount: -l.amount })),
    { account: PROVIDER_BALANCE, amount: -amount - chargebackFee },
    { account: PROVIDER_FEES, amount: chargebackFee },
  ]);
}

/** A chargeback decided for the seller: the disputed amount comes back and is credited as the sale was. */
export function reinstatementPostings(sale: readonly Line[], amount: number): Line[] {
  return compact([...owed(sale), { account: PROVIDER_BALANCE, amount }]);
}

/** A settlement pays payees on chain from the treasury: their balances go down by what they were paid. */
export function settlementPostings(payees: readonly { payee: string; amount: number }[]): Line[] {
  const total = payees.reduce((sum, p) => sum + p.amount, 0);
  return compact([
    ...payees.map((p) => ({ account: payeeAccount(p.payee), amount: p.amount })),
    { account: TREASURY_SETTLEMENTS, amount: -total },
  ]);
}

/** The lines that undo a booking (a settlement refused on chain). */
export function reversed(lines: readonly Line[]): Line[] {
  return lines.map((l) => ({ account: l.account, amount: -l.amount }));
}

/** The unique key of a card payment's booking. */
export const bookingKey = (booking: Booking, orderId: string): string => `${booking}:${orderId}`;
