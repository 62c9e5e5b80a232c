import { verifyTypedData } from "ethers";
import type { TypedDataDomain, TypedField } from "../../lib/eip712.ts";
import { AppError } from "../errors.ts";
import { checksum } from "../http/schemas.ts";

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
  let signer: string;
  try {
    signer = verifyTypedData(domain, types, message as Record<string, unknown>, signature).toLowerCase();
  } catch {
    throw new AppError("INVALID_SIGNATURE", 401, "signature is malformed");
  }
  if (signer !== expected) {
    throw new AppError("SIGNATURE_MISMATCH", 403, `the ${what} was not signed by the creator it names`, {
      creator: checksum(expected),
      signer: checksum(signer),
    });
  }
}
