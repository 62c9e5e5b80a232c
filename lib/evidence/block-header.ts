import { encodeRlp, hexlify, keccak256, toBeArray } from "ethers";
import { z } from "zod";

const quantity = z.string().regex(/^0x(0|[1-9a-fA-F][0-9a-fA-F]*)$/, "a JSON-RPC quantity");
const data = (bytes?: number) =>
  z
    .string()
    .regex(bytes === undefined ? /^0x([0-9a-fA-F]{2})*$/ : new RegExp(`^0x[0-9a-fA-F]{${bytes * 2}}$`), {
      message: bytes === undefined ? "0x-prefixed hex bytes" : `0x-prefixed ${bytes}-byte hex`,
    });

/**
 * The fields of an `eth_getBlockByNumber` answer that make up the header, in RLP order, with the
 * fork that introduced each optional one. Other fields of the answer (transactions, size, …) are kept
 * but not hashed.
 */
const HEADER_FIELDS = [
  ["parentHash", "hash"],
  ["sha3Uncles", "hash"],
  ["miner", "address"],
  ["stateRoot", "hash"],
  ["transactionsRoot", "hash"],
  ["receiptsRoot", "hash"],
  ["logsBloom", "bloom"],
  ["difficulty", "quantity"],
  ["number", "quantity"],
  ["gasLimit", "quantity"],
  ["gasUsed", "quantity"],
  ["timestamp", "quantity"],
  ["extraData", "bytes"],
  ["mixHash", "hash"],
  ["nonce", "nonce"],
] as const;

const OPTIONAL_FIELDS = [
  ["baseFeePerGas", "quantity", "London"],
  ["withdrawalsRoot", "hash", "Shanghai"],
  ["blobGasUsed", "quantity", "Cancun"],
  ["excessBlobGas", "quantity", "Cancun"],
  ["parentBeaconBlockRoot", "hash", "Cancun"],
  ["requestsHash", "hash", "Prague"],
] as const;

const KINDS = {
  hash: data(32),
  address: data(20),
  bloom: data(256),
  quantity,
  bytes: data(),
  nonce: data(8),
} as const;

/** A block as returned by `eth_getBlockByNumber(n, false)`: header fields plus anything else the node adds. */
export const rpcBlockSchema = z.looseObject({
  hash: KINDS.hash,
  ...Object.fromEntries(HEADER_FIELDS.map(([name, kind]) => [name, KINDS[kind]])),
  ...Object.fromEntries(OPTIONAL_FIELDS.map(([name, kind]) => [name, KINDS[kind].optional()])),
  number: quantity,
  timestamp: quantity,
  transactions: z.array(z.union([KINDS.hash, z.looseObject({ hash: KINDS.hash })])).optional(),
});

export type RpcBlock = z.infer<typeof rpcBlockSchema>;

function encodeField(kind: keyof typeof KINDS, value: string): string {
  return kind === "quantity" ? hexlify(toBeArray(BigInt(value))) : value.toLowerCase();
}

/**
 * RLP encoding of a block header from its JSON-RPC form, for every fork up to Prague: the optional
 * fields are appended in fork order and must form a prefix (a later one without the earlier is invalid).
 */
export function encodeBlockHeader(block: unknown): string {
  const parsed = rpcBlockSchema.parse(block);
  const fields = HEADER_FIELDS.map(([name, kind]) => encodeField(kind, parsed[name] as string));
  let missing: string | undefined;
  for (const [name, kind, fork] of OPTIONAL_FIELDS) {
    const value = parsed[name] as string | undefined;
    if (value === undefined) {
      missing ??= `${name} (${fork})`;
      continue;
    }
    if (missing) throw new Error(`block header has ${name} but lacks ${missing}`);
    fields.push(encodeField(kind, value));
  }
  return encodeRlp(fields);
}

/** The block hash a header hashes to: keccak-256 of its RLP encoding. */
export function blockHashOf(block: unknown): string {
  return keccak256(encodeBlockHeader(block));
}
