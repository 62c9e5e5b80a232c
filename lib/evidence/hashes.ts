import { createHash } from "node:crypto";

/** Size and digests of a file as listed in an evidence manifest. */
export interface FileDigests {
  size: number;
  /** Lowercase hex without 0x, as `sha256sum` prints it. */
  sha256: string;
  /** Lowercase hex without 0x, as `sha3sum -a 512` and `openssl dgst -sha3-512` print it. */
  sha3_512: string;
}

/** SHA-256 of `bytes` as lowercase hex without 0x. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** SHA3-512 (FIPS 202, not Keccak) of `bytes` as lowercase hex without 0x. */
export function sha3_512Hex(bytes: Uint8Array): string {
  return createHash("sha3-512").update(bytes).digest("hex");
}

/** SHA-256 of `bytes` as an 0x-prefixed bytes32, the form content hashes take on chain. */
export function sha256Bytes32(bytes: Uint8Array): string {
  return `0x${sha256Hex(bytes)}`;
}

/** Size, SHA-256 and SHA3-512 of `bytes`. */
export function digestsOf(bytes: Uint8Array): FileDigests {
  return { size: bytes.byteLength, sha256: sha256Hex(bytes), sha3_512: sha3_512Hex(bytes) };
}
