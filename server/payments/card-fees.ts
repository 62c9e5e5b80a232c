/**
 * What the local checkout charges as Stripe would on a standard card payment in the US: 2.9 % of the
 * amount plus 30 minor units, rounded half up; a chargeback costs a fixed 1,500 (USD 15.00).
 */
export function modelledCardFee(amount: number): number {
  return Math.floor((amount * 29 + 500) / 1000) + 30;
}

/** Stripe's dispute fee, as the local checkout models it. */
export const MODELLED_DISPUTE_FEE = 1500;
