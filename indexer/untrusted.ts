import { keccak256 } from "ethers";

/**
 * How values chosen by whoever sent a transaction are stored. Every string and array an event carries
 * comes from an untrusted sender; these rules are applied once, while decoding, so no table ever sees
 * a value PostgreSQL refuses or one of unbounded size:
 * - text keeps valid UTF-8 as it is (control and bidirectional characters included: they are what the
 *   chain holds, and readers show them visibly); NUL and invalid sequences (lone continuation bytes,
 *   overlong forms, encoded surrogates, truncated sequences) become U+FFFD;
 * - text longer than MAX_TEXT_BYTES keeps a prefix of at most that many bytes, cut at a character;
 * - arrays longer than MAX_STORED_ITEMS keep a prefix in the raw event log (handlers still see them all);
 * - whatever was changed or cut gets a note with the full value's length and keccak-256, and the raw
 *   event data is kept as bytes beside the event, so the exact on-chain value stays provable.
 */

/** Most UTF-8 bytes of an event's string that are stored. */
export const MAX_TEXT_BYTES = 2048;
/** Most items of an event's array stored in the raw event log. */
export const MAX_STORED_ITEMS = 256;

/** What was done to one untrusted value to store it. */
export interface ValueNote {
  /** The value's length on chain: bytes of a string, items of an array. */
  length: number;
  /** keccak-256 of the value as on chain: a string's bytes, an array's 32-byte items concatenated. */
  keccak256: string;
  /** Only a prefix is stored. */
  cut: boolean;
  /** NUL or invalid UTF-8 was replaced by U+FFFD. */
  replaced: boolean;
}

/** Notes by argument name, for the arguments that were changed or cut. */
export type ValueNotes = Record<string, ValueNote>;

const strict = new TextDecoder("utf-8", { fatal: true });
const lenient = new TextDecoder("utf-8");
const REPLACEMENT = "\uFFFD";

/** The largest length ≤ `max` that does not end inside a UTF-8 sequence of `bytes`. */
function characterBoundary(bytes: Uint8Array, max: number): number {
  let end = max;
  // Back off over continuation bytes (10xxxxxx) to the start of the character they belong to.
  while (end > 0 && max - end < 3 && (bytes[end]! & 0xc0) === 0x80) end -= 1;
  return (bytes[end]! & 0xc0) === 0x80 ? max : end;
}

/** The stored text of an event string given as hex (no 0x), and a note when it was changed or cut. */
export function untrustedText(hex: string): { text: string; note: ValueNote | null } {
  const bytes = Buffer.from(hex, "hex");
  const cut = bytes.length > MAX_TEXT_BYTES;
  const kept = cut ? bytes.subarray(0, characterBoundary(bytes, MAX_TEXT_BYTES)) : bytes;
  let text: string;
  let replaced = false;
  try {
    text = strict.decode(kept);
  } catch {
    text = lenient.decode(kept);
    replaced = true;
  }
  if (text.includes("\0")) {
    text = text.replaceAll("\0", REPLACEMENT);
    replaced = true;
  }
  if (!cut && !replaced) return { text, note: null };
  return { text, note: { length: bytes.length, keccak256: keccak256(bytes), cut, replaced } };
}

/** A note for an array of `words` (hex, no 0x, 64 characters each) when it is too long to store whole. */
export function untrustedArray(words: string[]): ValueNote | null {
  if (words.length <= MAX_STORED_ITEMS) return null;
  return {
    length: words.length,
    keccak256: keccak256(`0x${words.join("")}`),
    cut: true,
    replaced: false,
  };
}

/** The arguments as stored in the raw event log: arrays noted as cut keep their first items only. */
export function storedArgs<A extends Record<string, unknown>>(args: A, notes: ValueNotes | null): A {
  if (!notes) return args;
  const stored: Record<string, unknown> = { ...args };
  for (const [name, note] of Object.entries(notes)) {
    const value = stored[name];
    if (note.cut && Array.isArray(value)) stored[name] = value.slice(0, MAX_STORED_ITEMS);
  }
  return stored as A;
}

/**
 * The notes of a derived row: the event's notes for `columns` (argument name → column name), keyed by
 * column, or null when none of them was changed.
 */
export function notesFor(notes: ValueNotes | null, columns: Record<string, string>): ValueNotes | null {
  if (!notes) return null;
  const picked = Object.entries(columns).filter(([arg]) => notes[arg]);
  return picked.length === 0
    ? null
    : Object.fromEntries(picked.map(([arg, column]) => [column, notes[arg]!]));
}
