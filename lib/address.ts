import { getAddress } from "ethers";

/** Shows a stored lower-case address in checksum form (EIP-55). */
export function checksum(address: string | null): string | null {
  return address === null ? null : getAddress(address);
}
