/**
 * Hostile arguments for any contract function, generated from its ABI: for each parameter type the
 * nastiest values it admits (zero, the largest integers, NUL bytes, invalid UTF-8, bidirectional
 * overrides, values far longer than the indexer stores, arrays past its cut), mixed with values the
 * attacker can make meaningful (its own ids and addresses). Strings are encoded as raw bytes, so they
 * reach the chain as no well-behaved client would send them.
 */
import fc from "fast-check";
import { AbiCoder, concat, type FunctionFragment, type ParamType } from "ethers";
import { MAX_STORED_ITEMS, MAX_TEXT_BYTES } from "../../indexer/untrusted.ts";

/** Byte sequences no UTF-8 decoder accepts: lone continuation, overlong, surrogate, truncated. */
const INVALID_UTF8 = [
  [0x80],
  [0xc0, 0xaf],
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xf0, 0x9f],
  [0xff, 0xfe],
].map((b) => Uint8Array.from(b));

/** Characters that break layouts or spoof names when shown: NUL, escapes, bidi overrides, zero-width. */
const SPOOFING = ["\u0000", "\u001b[2J", "\u202e", "\u2066", "\u200b", "\ufeff", "\u0007", "\r\n"];

const utf8 = (s: string) => new TextEncoder().encode(s);

/** Bytes for a `string` or `bytes` parameter. */
export const hostileBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.constant(new Uint8Array()),
  fc
    .tuple(fc.string({ maxLength: 12 }), fc.constantFrom(...INVALID_UTF8), fc.string({ maxLength: 12 }))
    .map(([a, bad, b]) => concat([utf8(a), bad, utf8(b)]))
    .map((hex) => Uint8Array.from(Buffer.from(hex.slice(2), "hex"))),
  fc
    .array(fc.oneof(fc.constantFrom(...SPOOFING), fc.string({ unit: "grapheme", maxLength: 6 })), {
      minLength: 1,
      maxLength: 8,
    })
    .map((parts) => utf8(parts.join(""))),
  fc.integer({ min: MAX_TEXT_BYTES + 1, max: MAX_TEXT_BYTES * 4 }).map((n) => new Uint8Array(n).fill(0x41)),
  fc.uint8Array({ maxLength: 96 }),
);

/** What the attacker owns or knows: mixed into integers and addresses so some calls get past the checks. */
export interface HostileDictionary {
  addresses: string[];
  ids: bigint[];
}

function integer(bits: number, signed: boolean, dict: HostileDictionary): fc.Arbitrary<bigint> {
  const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
  const min = signed ? -(1n << BigInt(bits - 1)) : 0n;
  const known = dict.ids.filter((id) => id >= min && id <= max);
  return fc.oneof(
    fc.constantFrom(min, max, 0n, 1n),
    fc.bigInt({ min, max }),
    ...(known.length > 0 ? [{ weight: 3, arbitrary: fc.constantFrom(...known) }] : []),
  );
}

function address(dict: HostileDictionary): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constant("0x0000000000000000000000000000000000000000"),
    fc.constant("0x0000000000000000000000000000000000000001"),
    fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => "0x" + Buffer.from(b).toString("hex")),
    ...(dict.addresses.length > 0 ? [{ weight: 4, arbitrary: fc.constantFrom(...dict.addresses) }] : []),
  );
}

/** Values for one parameter, following its type through arrays and tuples. */
export function hostileValue(param: ParamType, dict: HostileDictionary): fc.Arbitrary<unknown> {
  if (param.isArray()) {
    const child = hostileValue(param.arrayChildren, dict);
    if (param.arrayLength >= 0)
      return fc.array(child, { minLength: param.arrayLength, maxLength: param.arrayLength });
    return fc.oneof(
      { weight: 5, arbitrary: fc.array(child, { maxLength: 4 }) },
      {
        weight: 1,
        arbitrary: fc.array(child, { minLength: MAX_STORED_ITEMS + 1, maxLength: MAX_STORED_ITEMS + 8 }),
      },
    );
  }
  if (param.isTuple()) return fc.tuple(...param.components.map((c) => hostileValue(c, dict)));
  if (param.baseType === "string" || param.baseType === "bytes") return hostileBytes;
  if (param.baseType === "address") return address(dict);
  if (param.baseType === "bool") return fc.boolean();
  const fixed = /^bytes(\d+)$/.exec(param.baseType);
  if (fixed) {
    const n = Number(fixed[1]);
    return fc.uint8Array({ minLength: n, maxLength: n }).map((b) => "0x" + Buffer.from(b).toString("hex"));
  }
  const int = /^(u?)int(\d+)$/.exec(param.baseType);
  if (int) return integer(Number(int[2]), int[1] === "", dict);
  throw new Error(`no hostile values for ABI type ${param.type}`);
}

/** The ABI type of `param` with every `string` read as `bytes`: the same encoding, any bytes allowed. */
function rawType(param: ParamType): string {
  if (param.isArray()) {
    return `${rawType(param.arrayChildren)}[${param.arrayLength >= 0 ? param.arrayLength : ""}]`;
  }
  if (param.isTuple()) return `(${param.components.map(rawType).join(",")})`;
  return param.baseType === "string" ? "bytes" : param.type;
}

/** Calldata of `fn` with `args`, strings given as raw bytes. */
export function rawCalldata(fn: FunctionFragment, args: readonly unknown[]): string {
  return concat([fn.selector, AbiCoder.defaultAbiCoder().encode(fn.inputs.map(rawType), args)]);
}

/** Argument lists for `fn`: `count` of them, reproducible for `seed`. */
export function hostileArguments(
  fn: FunctionFragment,
  dict: HostileDictionary,
  count: number,
  seed: number,
): unknown[][] {
  const args = fc.tuple(...fn.inputs.map((p) => hostileValue(p, dict)));
  return fc.sample(args, { numRuns: count, seed }) as unknown[][];
}
