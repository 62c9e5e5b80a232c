import type { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import type { Queryable } from "../../lib/transaction.ts";
import { codeLeafValues, codeTreeOf } from "../../lib/code-commitments.ts";
import type { CodeCipher } from "./code-cipher.ts";
import { batchCodes } from "./code-store.ts";

export interface BatchTree {
  tree: StandardMerkleTree<[string, string, string]>;
  /** The batch's codes in upload order (leaf i is code i). */
  codes: string[];
}

/**
 * The Merkle tree of a batch's codes, opened from their sealed rows: built when the batch is
 * committed and again for a proof, so no leaf (a salted hash of a code) is stored beside the code.
 */
export async function batchTree(
  db: Queryable,
  cipher: CodeCipher,
  batchId: string,
): Promise<BatchTree | null> {
  const rows = await batchCodes(db, batchId);
  if (rows.length === 0) return null;
  const codes = rows.map((r) => cipher.open(r.offer_id, r.digest, r.sealed));
  const tree = codeTreeOf(rows.map((r, i) => codeLeafValues(r.offer_id, r.salt, codes[i]!)));
  return { tree, codes };
}
