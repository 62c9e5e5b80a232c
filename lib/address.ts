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
const [ZERO, LOWER_X, LOWER_A] = ["0", "x", "a"].map((c) => c.charCodeAt(0)) as [number, number, number];
const CASE_OFFSET = 32;

/**
 * A function showing addresses in checksum form (EIP-55), each distinct one hashed once. Lists too
 * long for the page cache (an evidence bundle's 100,000 license holders) are hashed by hash-wasm's
 * WebAssembly Keccak-256, several times faster than ethers' JavaScript one. Mixed-case input goes
 * through ethers, which checks its checksum; anything else that is no address throws.
 */
export async function checksummer(): Promise<(address: string) => string> {
  const keccak = await createKeccak(256);
  const known = new Map<string, string>();
  // "0x" and the 40 digits, as character codes: one string is made per address, not one per digit.
  const codes: number[] = [ZERO, LOWER_X, ...Array<number>(40).fill(ZERO)];
  return (address) => {
    let out = known.get(address);
    if (out !== undefined) return out;
    const lower = address.toLowerCase();
    if (
      !HEX_ADDRESS.test(lower) ||
      (lower !== address && address !== `0x${address.slice(2).toUpperCase()}`)
    ) {
      out = getAddress(address);
    } else {
      keccak.init();
      keccak.update(lower.slice(2));
      const hash = keccak.digest("binary");
      for (let i = 0; i < 40; i++) {
        // Each hex letter is upper-cased when the matching nibble of the hash is 8 or more.
        const nibble = i % 2 === 0 ? hash[i >> 1]! >> 4 : hash[i >> 1]! & 15;
        const code = lower.charCodeAt(i + 2);
        codes[i + 2] = nibble >= 8 && code >= LOWER_A ? code - CASE_OFFSET : code;
      }
      out = String.fromCharCode(...codes);
    }
    known.set(address, out);
    return out;
  };
}

/** The checksum form (EIP-55) of each distinct address of `addresses`, by the address as given (see `checksummer`). */
export async function checksumAll(addresses: Iterable<string>): Promise<Map<string, string>> {
  const show = await checksummer();
  const result = new Map<string, string>();
  for (const address of addresses) if (!result.has(address)) result.set(address, show(address));
  return result;
}
