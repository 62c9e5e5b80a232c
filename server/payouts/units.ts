/** Between the ledger's minor units of a card currency and the settlement token's units on chain. */
import { zeroPadValue } from "ethers";

/** ISO 4217 currencies with no minor unit, and those with three (as Stripe counts them). */
const ZERO_DECIMAL = new Set([
  "bif",
  "clp",
  "djf",
  "gnf",
  "jpy",
  "kmf",
  "krw",
  "mga",
  "pyg",
  "rwf",
  "ugx",
  "vnd",
  "vuv",
  "xaf",
  "xof",
  "xpf",
]);
const THREE_DECIMAL = new Set(["bhd", "jod", "kwd", "omr", "tnd"]);

/** How many decimals a currency's minor unit has: 2 for most, 0 for the yen, 3 for the dinar. */
export function minorDigits(currency: string): number {
  if (ZERO_DECIMAL.has(currency)) return 0;
  return THREE_DECIMAL.has(currency) ? 3 : 2;
}

/** An amount in a currency's minor units as units of a token with `decimals` decimals (exact: a token has as many or more). */
export function tokenUnits(minor: number, currency: string, decimals: number): bigint {
  const shift = decimals - minorDigits(currency);
  if (shift < 0)
    throw new Error(`a token with ${decimals} decimals cannot carry ${currency} to the minor unit`);
  return BigInt(minor) * 10n ** BigInt(shift);
}

/** Token units as the currency's minor units; null when they are not a whole number of them. */
export function minorUnits(units: bigint, currency: string, decimals: number): number | null {
  const scale = 10n ** BigInt(decimals - minorDigits(currency));
  return units % scale === 0n ? Number(units / scale) : null;
}

/** A settlement's id on chain: its UUID's 16 bytes, left-padded to a bytes32. */
export function settlementIdOf(id: string): string {
  return zeroPadValue(`0x${id.replace(/-/g, "")}`, 32);
}
