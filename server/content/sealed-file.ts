import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

/**
 * The sealed form of a private original: AES-256-GCM over fixed-size segments, each with its own
 * nonce, in the manner of the STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár) that Tink's
 * streaming AEAD uses. A segment's nonce is the file's random 7-byte prefix, the segment's index
 * (32 bits) and a byte that is 1 only on the last segment, so segments cannot be reordered,
 * dropped or cut off at a segment boundary without failing authentication, and a byte range is read
 * by opening only the segments it touches. Every segment authenticates the header as well.
 *
 *   header   "RLSEAL" 0x00 0x01 | plaintext segment size (u32 BE) | nonce prefix (7) | 5 zero bytes
 *   segment  ciphertext of up to `segmentSize` bytes | 16-byte tag
 *
 * A file of n plaintext bytes has max(1, ceil(n / segmentSize)) segments; only the last is short,
 * and an empty file is one empty last segment.
 */

const MAGIC = Buffer.from("RLSEAL\x00\x01", "latin1");
export const HEADER_BYTES = 24;
export const TAG_BYTES = 16;
export const KEY_BYTES = 32;
const PREFIX_BYTES = 7;
/** The plaintext size of a segment unless a file says otherwise: 64 KiB. */
export const DEFAULT_SEGMENT_SIZE = 65_536;
const MAX_SEGMENTS = 2 ** 32;

/** A sealed file could not be opened: wrong key, altered or cut-off bytes, or no sealed file at all. */
export class SealedFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SealedFileError";
  }
}

export interface SealedHeader {
  bytes: Buffer;
  segmentSize: number;
  prefix: Buffer;
}

/** A new header with a random nonce prefix. */
export function newHeader(segmentSize = DEFAULT_SEGMENT_SIZE): SealedHeader {
  if (!Number.isInteger(segmentSize) || segmentSize < 1 || segmentSize > 2 ** 24) {
    throw new RangeError(`segment size ${segmentSize} is not between 1 and 16 MiB`);
  }
  const bytes = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(bytes, 0);
  bytes.writeUInt32BE(segmentSize, 8);
  const prefix = randomBytes(PREFIX_BYTES);
  prefix.copy(bytes, 12);
  return { bytes, segmentSize, prefix };
}

/** Reads a header; throws SealedFileError when `bytes` does not start with one. */
export function parseHeader(bytes: Uint8Array): SealedHeader {
  const header = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, HEADER_BYTES));
  if (header.length < HEADER_BYTES || !header.subarray(0, 8).equals(MAGIC)) {
    throw new SealedFileError("not a sealed file");
  }
  const segmentSize = header.readUInt32BE(8);
  if (segmentSize < 1 || segmentSize > 2 ** 24 || header.subarray(19).some((b) => b !== 0)) {
    throw new SealedFileError("the sealed file's header is malformed");
  }
  return { bytes: Buffer.from(header), segmentSize, prefix: Buffer.from(header.subarray(12, 19)) };
}

/** Segments of a file of `plainSize` bytes. */
export function segmentCount(plainSize: number, segmentSize: number): number {
  return Math.max(1, Math.ceil(plainSize / segmentSize));
}

/** Bytes of the sealed form of `plainSize` bytes. */
export function sealedSize(plainSize: number, segmentSize = DEFAULT_SEGMENT_SIZE): number {
  return HEADER_BYTES + plainSize + TAG_BYTES * segmentCount(plainSize, segmentSize);
}

/** Plaintext bytes of a sealed file of `size` bytes, or null when no plaintext seals to that size. */
export function plainSizeOf(size: number, segmentSize: number): number | null {
  const body = size - HEADER_BYTES;
  if (body < TAG_BYTES) return null;
  const segments = Math.ceil(body / (segmentSize + TAG_BYTES));
  const plain = body - TAG_BYTES * segments;
  return segmentCount(plain, segmentSize) === segments ? plain : null;
}

function nonceOf(header: SealedHeader, index: number, last: boolean): Buffer {
  const nonce = Buffer.alloc(12);
  header.prefix.copy(nonce, 0);
  nonce.writeUInt32BE(index, PREFIX_BYTES);
  nonce[11] = last ? 1 : 0;
  return nonce;
}

function sealSegment(key: Buffer, header: SealedHeader, index: number, last: boolean, plain: Buffer): Buffer {
  if (index >= MAX_SEGMENTS) throw new RangeError("file too large for its segment size");
  const cipher = createCipheriv("aes-256-gcm", key, nonceOf(header, index, last));
  cipher.setAAD(header.bytes);
  const body = cipher.update(plain);
  cipher.final();
  return Buffer.concat([body, cipher.getAuthTag()]);
}

function openSegment(
  key: Buffer,
  header: SealedHeader,
  index: number,
  last: boolean,
  sealed: Buffer,
): Buffer {
  if (sealed.length < TAG_BYTES) throw new SealedFileError(`segment ${index} is cut off`);
  const decipher = createDecipheriv("aes-256-gcm", key, nonceOf(header, index, last));
  decipher.setAAD(header.bytes);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  const plain = decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES));
  try {
    decipher.final();
  } catch {
    throw new SealedFileError(`segment ${index} fails authentication`);
  }
  return plain;
}

/** Collects a byte stream into pieces of exactly `size` bytes (the last one shorter), copying little. */
async function* pieces(source: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let held = 0;
  for await (const chunk of source) {
    let data = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    while (held + data.length >= size) {
      const take = size - held;
      parts.push(data.subarray(0, take));
      yield parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
      parts = [];
      held = 0;
      data = data.subarray(take);
    }
    if (data.length > 0) {
      // The source may reuse its buffer once we ask for the next chunk.
      parts.push(Buffer.from(data));
      held += data.length;
    }
  }
  if (held > 0) yield Buffer.concat(parts, held);
}

/**
 * Seals `source` under `key` as it streams: `header` (see newHeader), then each segment once the
 * next byte (or the end) shows whether it is the last. Holds one segment at a time.
 */
export async function* seal(
  key: Buffer,
  header: SealedHeader,
  source: AsyncIterable<Uint8Array>,
): AsyncGenerator<Buffer> {
  if (key.length !== KEY_BYTES) throw new RangeError("a data key has 32 bytes");
  yield header.bytes;
  let index = 0;
  let pending: Buffer | null = null;
  for await (const piece of pieces(source, header.segmentSize)) {
    if (pending) yield sealSegment(key, header, index++, false, pending);
    pending = piece;
  }
  yield sealSegment(key, header, index, true, pending ?? Buffer.alloc(0));
}

/** Where the segments holding plaintext bytes `offset`…`offset + length - 1` lie in the sealed file. */
export interface SealedSpan {
  firstSegment: number;
  lastSegment: number;
  /** Byte range of the sealed file to read: those segments, whole. */
  sealedOffset: number;
  sealedLength: number;
  /** Plaintext bytes to drop from the first opened segment. */
  skip: number;
}

export function spanOf(plainSize: number, segmentSize: number, offset: number, length: number): SealedSpan {
  const segments = segmentCount(plainSize, segmentSize);
  const firstSegment = Math.min(Math.floor(offset / segmentSize), segments - 1);
  const lastByte = Math.max(offset, offset + length - 1);
  const lastSegment = Math.min(Math.floor(lastByte / segmentSize), segments - 1);
  const stride = segmentSize + TAG_BYTES;
  const sealedOffset = HEADER_BYTES + firstSegment * stride;
  const end = Math.min(HEADER_BYTES + (lastSegment + 1) * stride, sealedSize(plainSize, segmentSize));
  return {
    firstSegment,
    lastSegment,
    sealedOffset,
    sealedLength: end - sealedOffset,
    skip: offset - firstSegment * segmentSize,
  };
}

/**
 * Opens the segments of `span` from `source` (exactly the sealed bytes the span names) and yields
 * `length` plaintext bytes from the span's offset. Throws SealedFileError on any altered byte.
 */
export async function* open(
  key: Buffer,
  header: SealedHeader,
  plainSize: number,
  span: SealedSpan,
  length: number,
  source: AsyncIterable<Uint8Array>,
): AsyncGenerator<Buffer> {
  const lastOfFile = segmentCount(plainSize, header.segmentSize) - 1;
  let index = span.firstSegment;
  let skip = span.skip;
  let left = length;
  for await (const sealed of pieces(source, header.segmentSize + TAG_BYTES)) {
    if (index > span.lastSegment) throw new SealedFileError("the sealed file is longer than its size");
    const plain = openSegment(key, header, index, index === lastOfFile, sealed);
    index += 1;
    const part = plain.subarray(skip, Math.min(plain.length, skip + left));
    skip = 0;
    left -= part.length;
    if (part.length > 0) yield part;
    if (left === 0) return;
  }
  if (left > 0) throw new SealedFileError("the sealed file ends early");
}
