import { randomInt } from "node:crypto";

/** What a generated code looks like: `format` with each `#` replaced, or `length` characters. */
export interface CodeFormat {
  alphabet: string;
  length?: number;
  format?: string;
}

/** Placeholder in a format for one character drawn from the alphabet. */
export const PLACEHOLDER = "#";

/** How many characters of a format (or a plain length) are drawn. */
export function drawnCharacters(format: Pick<CodeFormat, "length" | "format">): number {
  return format.format ? [...format.format].filter((c) => c === PLACEHOLDER).length : (format.length ?? 0);
}

/** Bits of entropy of one code of `format`. */
export function entropyBits(format: CodeFormat): number {
  return drawnCharacters(format) * Math.log2(new Set(format.alphabet).size);
}

/** One code: every placeholder drawn uniformly from the alphabet with the system's CSPRNG. */
export function generateCode(format: CodeFormat): string {
  const alphabet = [...format.alphabet];
  const draw = () => alphabet[randomInt(alphabet.length)]!;
  const template = format.format ?? PLACEHOLDER.repeat(format.length ?? 0);
  return [...template].map((c) => (c === PLACEHOLDER ? draw() : c)).join("");
}

/** `count` distinct codes of `format`. */
export function generateCodes(format: CodeFormat, count: number): string[] {
  const codes = new Set<string>();
  while (codes.size < count) codes.add(generateCode(format));
  return [...codes];
}
