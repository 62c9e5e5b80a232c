import { getAddress } from "ethers";
import { createKeccak } from "hash-wasm";

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

const HEX_ADDRESS = /^0x[0-9a-f]{40}$/;

/**
 * The checksum form (EIP-55) of each distinct address of `addresses`, by the address as given. Lists
 * too long for the page cache (an evidence bundle's 100,000 license holders) are hashed by
 * hash-wasm's WebAssembly Keccak-256, several times faster than ethers' JavaScript one. Mixed-case
 * input goes through ethers, which checks its checksum; anything else that is no address throws.
 */
export async function checksumAll(addresses: Iterable<string>): Promise<Map<string, string>> {
  const keccak = await createKeccak(256);
  const result = new Map<string, string>();
  for (const address of addresses) {
    if (result.has(address)) continue;
    const lower = address.toLowerCase();
    if (
      !HEX_ADDRESS.test(lower) ||
      (lower !== address && address !== `0x${address.slice(2).toUpperCase()}`)
    ) {
      result.set(address, getAddress(address));
      continue;
    }
    const hex = lower.slice(2);
    keccak.init();
    keccak.update(hex);
    const hash = keccak.digest("binary");
    let out = "0x";
    for (let i = 0; i < 40; i++) {
      // Each hex digit is upper-cased when the matching nibble of the hash is 8 or more.
      const nibble = i % 2 === 0 ? hash[i >> 1]! >> 4 : hash[i >> 1]! & 15;
      out += nibble >= 8 ? hex[i]!.toUpperCase() : hex[i]!;
    }
    result.set(address, out);
  }
  return result;
}
