import { getAddress } from "ethers";

/**
 * Addresses already shown, and how: EIP-55 hashes every address with Keccak-256 in JavaScript
 * (about 20 µs), and a page of listings or licenses shows the same sellers, tokens and currencies
 * again and again. The oldest entry makes way once it is full.
 */
const shown = new Map<string, string>();
const SHOWN_MAX = 10_000;

/** Shows a stored lower-case address in checksum form (EIP-55). */
export function checksum(address: string | null): string | null {
  if (address === null) return null;
  let checksummed = shown.get(address);
  if (checksummed === undefined) {
    checksummed = getAddress(address);
    if (shown.size >= SHOWN_MAX) shown.delete(shown.keys().next().value!);
    shown.set(address, checksummed);
  }
  return checksummed;
}
