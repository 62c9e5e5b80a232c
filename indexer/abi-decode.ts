import { AbiCoder, type EventFragment, type ParamType } from "ethers";
import { toJson, type JsonArgs, type JsonValue } from "./abi.ts";
import { untrustedArray, untrustedText, type ValueNote, type ValueNotes } from "./untrusted.ts";

/**
 * Reads one ABI value from hex `data` (no 0x) at byte `offset` of the current head; `note` receives what
 * was done to an untrusted value to store it.
 */
type Reader = (data: string, head: number, offset: number, note: (note: ValueNote) => void) => JsonValue;

/** An event's arguments as stored, and notes on the ones that had to be changed or cut. */
export interface DecodedArgs {
  args: JsonArgs;
  notes: ValueNotes | null;
}

const WORD = 64;

class AbiDataError extends Error {}

function word(data: string, byte: number): string {
  const start = byte * 2;
  if (start < 0 || start + WORD > data.length)
    throw new AbiDataError(`data too short for a word at byte ${byte}`);
  return data.slice(start, start + WORD);
}

function uint(hex: string): bigint {
  return BigInt(`0x${hex}`);
}

/** Decodes a static value held in one 32-byte word (hex, no 0x), as toJson would render it. */
function staticValue(type: ParamType): ((hex: string) => JsonValue) | null {
  const base = type.baseType;
  if (base === "address") {
    return (hex) => {
      if (!/^0{24}/.test(hex)) throw new AbiDataError("address with dirty upper bytes");
      return `0x${hex.slice(24)}`;
    };
  }
  if (base === "bool") return (hex) => uint(hex) !== 0n;
  const integer = /^(u?)int(\d*)$/.exec(base);
  if (integer) {
    // Like ethers: keep the low `bits` and read them as two's complement when signed.
    const bits = BigInt(integer[2] || 256);
    const mask = (1n << bits) - 1n;
    const signed = integer[1] === "";
    return (hex) => {
      const value = uint(hex) & mask;
      return (signed && value >> (bits - 1n) === 1n ? value - (1n << bits) : value).toString();
    };
  }
  const fixed = /^bytes(\d+)$/.exec(base);
  if (fixed) return (hex) => `0x${hex.slice(0, Number(fixed[1]) * 2)}`;
  return null;
}

function dynamicBytes(data: string, at: number): string {
  const length = Number(uint(word(data, at)));
  const start = (at + 32) * 2;
  if (start + length * 2 > data.length) throw new AbiDataError("dynamic bytes run past the data");
  return data.slice(start, start + length * 2);
}

/** A reader for `type`, or null when it needs the general decoder (tuples, nested dynamic arrays). */
function readerFor(type: ParamType): Reader | null {
  const single = staticValue(type);
  if (single) return (data, head, offset) => single(word(data, head + offset));
  if (type.baseType === "string") {
    return (data, head, offset, note) => {
      const { text, note: changed } = untrustedText(
        dynamicBytes(data, head + Number(uint(word(data, head + offset)))),
      );
      if (changed) note(changed);
      return text;
    };
  }
  if (type.baseType === "bytes") {
    return (data, head, offset) => `0x${dynamicBytes(data, head + Number(uint(word(data, head + offset))))}`;
  }
  if (type.isArray() && type.arrayLength === -1) {
    const element = staticValue(type.arrayChildren);
    if (!element) return null;
    return (data, head, offset, note) => {
      const at = head + Number(uint(word(data, head + offset)));
      const length = Number(uint(word(data, at)));
      if ((at + 32 + length * 32) * 2 > data.length) throw new AbiDataError("array runs past the data");
      const words = Array.from({ length }, (_, i) => word(data, at + 32 + i * 32));
      const cut = untrustedArray(words);
      if (cut) note(cut);
      return words.map(element);
    };
  }
  return null;
}

/** Reads an indexed argument from its topic: value types as themselves, dynamic types as their hash. */
function topicReader(type: ParamType): (topic: string) => JsonValue {
  const single = staticValue(type);
  return single ? (topic) => single(topic.slice(2)) : (topic) => topic;
}

/**
 * Compiles a decoder for one event's arguments that reads the hex directly, several times faster than
 * ethers' general decoder for the types events use; other types fall back to ethers. Both render values
 * as `toJson` does, untrusted strings and arrays as `untrusted.ts` decides. Throws on data that does not
 * fit the event.
 */
export function compileEventDecoder(
  fragment: EventFragment,
): (topics: string[], data: string) => DecodedArgs {
  const indexed = fragment.inputs.filter((input) => input.indexed);
  const plain = fragment.inputs.filter((input) => !input.indexed);
  const readers = plain.map(readerFor);
  const topicReaders = indexed.map(topicReader);
  const expectedTopics = indexed.length + (fragment.anonymous ? 0 : 1);

  if (readers.some((reader) => reader === null)) {
    const coder = AbiCoder.defaultAbiCoder();
    return (topics, data) => {
      if (topics.length !== expectedTopics) throw new AbiDataError(`expected ${expectedTopics} topics`);
      const values = coder.decode(plain, data);
      const args: JsonArgs = {};
      indexed.forEach((input, i) => (args[input.name] = topicReaders[i]!(topics[i + 1]!)));
      plain.forEach((input, i) => (args[input.name] = toJson(input, values[i])));
      return { args: order(fragment, args), notes: null };
    };
  }

  return (topics, data) => {
    if (topics.length !== expectedTopics) throw new AbiDataError(`expected ${expectedTopics} topics`);
    const hex = data.slice(2);
    if (hex.length < plain.length * WORD) throw new AbiDataError("data shorter than the event's head");
    const args: JsonArgs = {};
    let notes: ValueNotes | null = null;
    indexed.forEach((input, i) => (args[input.name] = topicReaders[i]!(topics[i + 1]!)));
    plain.forEach((input, i) => {
      args[input.name] = readers[i]!(hex, 0, i * 32, (note) => ((notes ??= {})[input.name] = note));
    });
    return { args: order(fragment, args), notes };
  };
}

/** Arguments in the order the event declares them. */
function order(fragment: EventFragment, args: JsonArgs): JsonArgs {
  return Object.fromEntries(fragment.inputs.map((input) => [input.name, args[input.name]!]));
}
