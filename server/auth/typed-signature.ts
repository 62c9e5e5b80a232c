import { Signature, TypedDataEncoder, computeAddress, concat, getBytes, hexlify, keccak256 } from "ethers";
import * as secp256k1 from "tiny-secp256k1";
import type { TypedDataDomain, TypedField } from "../../lib/eip712.ts";
import { AppError } from "../errors.ts";
import { checksum } from "../../lib/address.ts";

/** Half the secp256k1 group order: signatures with a higher `s` are the malleable twin, refused on chain too. */
const HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

/**
 * The lower-case address that signed `digest`, or null when `signature` is malformed or high-s.
 * Recovery runs in libsecp256k1 (WebAssembly), several times faster than pure JavaScript: it is
 * the cost of every registration the API accepts.
 */
export function recoverSigner(digest: string, signature: string): string | null {
  try {
    // Signature.from accepts 65-byte and EIP-2098 64-byte forms; its `s` throws when the top bit is set.
    const sig = Signature.from(signature);
    if (BigInt(sig.s) > HALF_ORDER) return null;
    const publicKey = secp256k1.recover(
      getBytes(digest),
      getBytes(sig.r + sig.s.slice(2)),
      sig.yParity,
      false,
    );
    return publicKey ? computeAddress(hexlify(publicKey)).toLowerCase() : null;
  } catch {
    return null;
  }
}

// Building an encoder and hashing a domain cost more than hashing a message; both are reused.
const encoders = new WeakMap<Record<string, TypedField[]>, TypedDataEncoder>();
const domainSeparators = new Map<string, string>();

/** The EIP-712 digest of `message`, as TypedDataEncoder.hash computes it. */
export function typedDataDigest(
  domain: TypedDataDomain,
  types: Record<string, TypedField[]>,
  message: object,
): string {
  let encoder = encoders.get(types);
  if (!encoder) encoders.set(types, (encoder = TypedDataEncoder.from(types)));
  const domainKey = JSON.stringify(domain, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
  let separator = domainSeparators.get(domainKey);
  if (!separator) domainSeparators.set(domainKey, (separator = TypedDataEncoder.hashDomain(domain)));
  return keccak256(concat(["0x1901", separator, encoder.hash(message as Record<string, unknown>)]));
}

/**
 * Checks that `signature` is `expected`'s EIP-712 signature of `message`: 401 when it is malformed,
 * 403 naming both wallets when another one signed. `expected` is a lower-case address.
 */
export function assertSignedBy(
  domain: TypedDataDomain,
  types: Record<string, TypedField[]>,
  message: object,
  signature: string,
  expected: string,
  what: string,
): void {
  const signer = recoverSigner(typedDataDigest(domain, types, message), signature);
  if (!signer) throw new AppError("INVALID_SIGNATURE", 401, "signature is malformed");
  if (signer !== expected) {
    throw new AppError("SIGNATURE_MISMATCH", 403, `the ${what} was not signed by the creator it names`, {
      creator: checksum(expected),
      signer: checksum(signer),
    });
  }
}
