/** The Merkle leaves of redemption code batches, as CodeCommitments hashes them. */
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { AbiCoder, hexlify, keccak256, toUtf8Bytes, zeroPadValue } from "ethers";

/** The values of a code's leaf: its offer, its random salt and keccak256 of its UTF-8 bytes. */
export const CODE_LEAF_ENCODING = ["uint256", "bytes32", "bytes32"] as const;

/** keccak256 of a code's UTF-8 bytes. */
export function codeHashOf(code: string): string {
  return keccak256(toUtf8Bytes(code));
}

/** The bytes32 a batch is committed under: its UUID's 16 bytes, left-padded. */
export function codeBatchIdOf(batchUuid: string): string {
  return zeroPadValue(`0x${batchUuid.replace(/-/g, "")}`, 32);
}

/** A code's leaf values in the order of CODE_LEAF_ENCODING. */
export function codeLeafValues(
  offerId: string,
  salt: Uint8Array | string,
  code: string,
): [string, string, string] {
  return [offerId, zeroPadValue(hexlify(salt), 32), codeHashOf(code)];
}

/** The standard-tree leaf of a code, as `ICodeCommitments.leafOf` computes it. */
export function codeLeafOf(offerId: string, salt: string, codeHash: string): string {
  return keccak256(
    keccak256(AbiCoder.defaultAbiCoder().encode([...CODE_LEAF_ENCODING], [offerId, salt, codeHash])),
  );
}

/** The tree of a batch's leaves, in their stored order. */
export function codeTreeOf(leaves: [string, string, string][]): StandardMerkleTree<[string, string, string]> {
  return StandardMerkleTree.of(leaves, [...CODE_LEAF_ENCODING]);
}
