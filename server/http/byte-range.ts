/** What a `Range` request header asks of a representation (RFC 9110 §14). `end` is inclusive. */
export type ByteRange =
  { kind: "full" } | { kind: "partial"; start: number; end: number } | { kind: "unsatisfiable" };

const INT_RANGE = /^(\d+)-(\d*)$/;
const SUFFIX_RANGE = /^-(\d+)$/;

/**
 * Reads a `Range` header against a representation of `size` bytes. One range (`bytes=a-b`,
 * `bytes=a-`, `bytes=-n`) is served as asked. Several ranges get the full representation, which
 * RFC 9110 allows and which spares a multipart/byteranges body no client of this API needs; so do
 * other units and malformed values, which the RFC says to ignore.
 */
export function parseByteRange(header: string | undefined, size: number): ByteRange {
  const set = header?.match(/^bytes=(.+)$/i)?.[1];
  if (set === undefined) return { kind: "full" };
  const specs = set
    .split(",")
    .map((spec) => spec.trim())
    .filter((spec) => spec !== "");
  if (specs.length !== 1) return { kind: "full" };
  const spec = specs[0]!;

  const suffix = spec.match(SUFFIX_RANGE);
  if (suffix) {
    const length = Number(suffix[1]);
    if (length === 0 || size === 0) return { kind: "unsatisfiable" };
    return { kind: "partial", start: Math.max(0, size - length), end: size - 1 };
  }
  const range = spec.match(INT_RANGE);
  if (!range) return { kind: "full" };
  const first = Number(range[1]);
  const last = range[2] === "" ? Infinity : Number(range[2]);
  if (last < first) return { kind: "full" };
  if (first >= size) return { kind: "unsatisfiable" };
  return { kind: "partial", start: first, end: Math.min(last, size - 1) };
}
