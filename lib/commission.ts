/** The escrow's commission arithmetic, as `ItemEscrow` computes it: the commission is rounded down. */

/** Basis points in one whole. */
export const BPS = 10_000n;

/** The highest commission the escrow's admin may set (`ItemEscrow.MAX_COMMISSION_BPS`): 15%. */
export const MAX_COMMISSION_BPS = 1500;

export interface PriceSplit {
  price: bigint;
  commission: bigint;
  sellerReceives: bigint;
}

/** What a sale at `price` pays the treasury and the seller at `commissionBps`. */
export function splitPrice(price: bigint, commissionBps: number): PriceSplit {
  if (price < 0n) throw new RangeError("price must not be negative");
  if (!Number.isInteger(commissionBps) || commissionBps < 0 || commissionBps > Number(BPS))
    throw new RangeError("commissionBps must be an integer from 0 to 10000");
  const commission = (price * BigInt(commissionBps)) / BPS;
  return { price, commission, sellerReceives: price - commission };
}

/** A commission in basis points as a percentage: 1500 → "15%", 250 → "2.5%". */
export function formatBps(bps: number): string {
  return `${(bps / 100).toLocaleString("en-US", { maximumFractionDigits: 2 })}%`;
}
