/** Field schemas the API's requests and responses are built from (addresses, uint256s, digests, finality). */
import { getAddress } from "ethers";
import { z } from "zod";
import type { Finality } from "../finality.ts";

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

// Mixed-case addresses seen lately with a right EIP-55 checksum: integrators verify the same
// wallets over and over, and each check is a Keccak-256.
const checkedAddresses = new Set<string>();
const CHECKED_ADDRESSES_MAX = 50_000;

/** Whether `v` (already 0x + 40 hex) is all one case or carries a right EIP-55 checksum. */
function checksumHolds(v: string): boolean {
  const hex = v.slice(2);
  if (hex === hex.toLowerCase() || hex === hex.toUpperCase() || checkedAddresses.has(v)) return true;
  try {
    getAddress(v);
  } catch {
    return false;
  }
  if (checkedAddresses.size >= CHECKED_ADDRESSES_MAX) checkedAddresses.clear();
  checkedAddresses.add(v);
  return true;
}

/** An EVM address in any case; parsed to lower case (the stored form). */
export const addressSchema = z
  .string()
  .regex(ADDRESS, "must be a 0x-prefixed 20-byte address")
  // Zod runs every check, so this one must tolerate values the pattern already refused.
  .refine((v) => !ADDRESS.test(v) || checksumHolds(v), "has a wrong checksum")
  .transform((v) => v.toLowerCase())
  .meta({ example: "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266" });

/** A SHA-256 digest as 64 hex characters, with or without 0x; parsed to lower-case 0x form. */
export const sha256Schema = z
  .string()
  .regex(/^(0x)?[0-9a-fA-F]{64}$/, "must be a SHA-256 digest: 64 hex characters")
  .transform((v) => `0x${v.replace(/^0x/, "").toLowerCase()}`);

/** A uint256 as a decimal string (JSON numbers lose precision past 2^53). */
export const uintString = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,77})$/, "must be a non-negative integer in decimal")
  // Zod runs every check, so this one must tolerate values the pattern already refused.
  .refine((v) => !/^[0-9]+$/.test(v) || BigInt(v) < 2n ** 256n, "must fit in 256 bits");

/** A positive id in a path or query: a decimal integer ≥ 1. */
export const idSchema = uintString.refine((v) => v !== "0", "must be at least 1");

export const hexSignatureSchema = z
  .string()
  .regex(/^0x([0-9a-fA-F]{2}){64,}$/, "must be a 0x-prefixed hex signature");

/** A page size in a query. */
export const limitSchema = z.coerce.number().int().min(1).max(100).default(20);

export const finalitySchema = z.enum(["pending", "safe", "final"]) satisfies z.ZodType<Finality>;

/** How a value someone chose on chain was changed to be stored (see the indexer's untrusted values). */
export const valueNoteSchema = z
  .object({
    length: z.number().describe("bytes of the value on chain"),
    keccak256: z.string().describe("keccak-256 of the value's bytes on chain"),
    cut: z.boolean().describe("only a prefix of the value is given"),
    replaced: z.boolean().describe("NUL or invalid UTF-8 was replaced by U+FFFD"),
  })
  .meta({ id: "ValueNote" });

/** Notes by field name, for the fields of a chain record whose value differs from the chain's. */
export const valueNotesSchema = z
  .record(z.string(), valueNoteSchema)
  .describe(
    "the fields whose on-chain value was cut or had characters replaced; empty for almost every record",
  );

/** A page of `item`s, oldest or newest first as the route says; `nextCursor` asks for the next one. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

export type ValueNotes = z.infer<typeof valueNotesSchema>;
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
