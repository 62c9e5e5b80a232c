import { promisify } from "node:util";
import { crc32, inflateRaw } from "node:zlib";

const inflate = promisify(inflateRaw);

/** Bounds on what reading a zip may cost, checked while inflating: a zip's declared sizes are never trusted. */
export interface ZipLimits {
  /** Files and directories the archive may hold. */
  maxEntries: number;
  /** Largest inflated size of one file. */
  maxEntryBytes: number;
  /** Largest inflated size of all files together. */
  maxTotalBytes: number;
  /** Largest inflated/compressed ratio of one file, once it inflates past `ratioFloorBytes`. */
  maxRatio: number;
  /** Files that inflate to at most this many bytes are exempt from `maxRatio` (small JSON compresses well). */
  ratioFloorBytes: number;
}

/** Generous enough for any bundle the platform builds, small enough that a zip bomb stops early. */
export const DEFAULT_ZIP_LIMITS: ZipLimits = {
  maxEntries: 1000,
  maxEntryBytes: 1024 * 1024 * 1024,
  maxTotalBytes: 1024 * 1024 * 1024,
  maxRatio: 200,
  ratioFloorBytes: 1024 * 1024,
};

/** The archive would exceed one of its `ZipLimits`; `limit` names which. */
export class ZipLimitError extends Error {
  constructor(
    readonly limit: keyof ZipLimits,
    readonly value: number,
    message: string,
  ) {
    super(message);
    this.name = "ZipLimitError";
  }
}

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const EOCD_SIZE = 22;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;
const MAX_COMMENT = 0xffff;
const STORED = 0;
const DEFLATED = 8;
const FLAG_ENCRYPTED = 0x1;

interface CentralEntry {
  name: string;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  localOffset: number;
}

function endOfCentralDirectory(view: DataView): number {
  const earliest = Math.max(0, view.byteLength - EOCD_SIZE - MAX_COMMENT);
  for (let at = view.byteLength - EOCD_SIZE; at >= earliest; at--) {
    if (view.getUint32(at, true) === EOCD_SIGNATURE) return at;
  }
  throw new Error("no end of central directory record");
}

function centralDirectory(bytes: Uint8Array, limits: ZipLimits): CentralEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const eocd = endOfCentralDirectory(view);
  const declared = view.getUint16(eocd + 10, true);
  if (declared > limits.maxEntries) {
    throw new ZipLimitError(
      "maxEntries",
      limits.maxEntries,
      `the archive holds more than ${limits.maxEntries} entries`,
    );
  }
  const size = view.getUint32(eocd + 12, true);
  const start = view.getUint32(eocd + 16, true);
  if (start + size > eocd) throw new Error("central directory out of bounds (zip64 archives are not read)");
  const entries: CentralEntry[] = [];
  const decoder = new TextDecoder();
  for (let at = start; at < start + size;) {
    if (at + CENTRAL_SIZE > eocd || view.getUint32(at, true) !== CENTRAL_SIGNATURE) {
      throw new Error("malformed central directory");
    }
    if (entries.length === limits.maxEntries) {
      throw new ZipLimitError(
        "maxEntries",
        limits.maxEntries,
        `the archive holds more than ${limits.maxEntries} entries`,
      );
    }
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const end = at + CENTRAL_SIZE + nameLength + extraLength + commentLength;
    if (end > eocd) throw new Error("malformed central directory");
    entries.push({
      flags: view.getUint16(at + 8, true),
      method: view.getUint16(at + 10, true),
      crc: view.getUint32(at + 16, true),
      compressedSize: view.getUint32(at + 20, true),
      localOffset: view.getUint32(at + 42, true),
      name: decoder.decode(bytes.subarray(at + CENTRAL_SIZE, at + CENTRAL_SIZE + nameLength)),
    });
    at = end;
  }
  return entries;
}

function compressedData(bytes: Uint8Array, entry: CentralEntry): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const at = entry.localOffset;
  if (at + LOCAL_SIZE > bytes.byteLength || view.getUint32(at, true) !== LOCAL_SIGNATURE) {
    throw new Error(`${entry.name}: malformed local header`);
  }
  const start = at + LOCAL_SIZE + view.getUint16(at + 26, true) + view.getUint16(at + 28, true);
  const end = start + entry.compressedSize;
  if (end > bytes.byteLength) throw new Error(`${entry.name}: data out of bounds`);
  return bytes.subarray(start, end);
}

/** The most `entry` may inflate to, and the limit that sets it. */
function allowance(
  entry: CentralEntry,
  total: number,
  limits: ZipLimits,
): { bytes: number; limit: keyof ZipLimits; message: string } {
  const candidates: { bytes: number; limit: keyof ZipLimits; message: string }[] = [
    {
      bytes: limits.maxEntryBytes,
      limit: "maxEntryBytes",
      message: `${entry.name} inflates beyond ${limits.maxEntryBytes} bytes`,
    },
    {
      bytes: limits.maxTotalBytes - total,
      limit: "maxTotalBytes",
      message: `the archive inflates beyond ${limits.maxTotalBytes} bytes`,
    },
    {
      bytes: Math.max(limits.ratioFloorBytes, entry.compressedSize * limits.maxRatio),
      limit: "maxRatio",
      message: `${entry.name} inflates more than ${limits.maxRatio} times its compressed size`,
    },
  ];
  return candidates.reduce((a, b) => (b.bytes < a.bytes ? b : a));
}

/**
 * Reads every file of a zip archive (stored or deflated; directories skipped) into memory, within
 * `limits`: inflation stops as soon as a file passes its allowance, so memory never exceeds it.
 * Throws `ZipLimitError` past a limit and `Error` for a malformed, encrypted or corrupt archive.
 */
export async function readZip(
  bytes: Uint8Array,
  limits: ZipLimits = DEFAULT_ZIP_LIMITS,
): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  let total = 0;
  for (const entry of centralDirectory(bytes, limits)) {
    if (entry.name.endsWith("/")) continue;
    if (files.has(entry.name)) throw new Error(`${entry.name} appears twice`);
    if (entry.flags & FLAG_ENCRYPTED) throw new Error(`${entry.name} is encrypted`);
    const data = compressedData(bytes, entry);
    const allowed = allowance(entry, total, limits);
    const tooLarge = () => new ZipLimitError(allowed.limit, limits[allowed.limit], allowed.message);
    let content: Uint8Array;
    if (entry.method === STORED) {
      content = data;
    } else if (entry.method === DEFLATED) {
      try {
        content = await inflate(data, { maxOutputLength: Math.max(1, allowed.bytes) });
      } catch (err) {
        if ((err as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") throw tooLarge();
        throw new Error(`${entry.name}: invalid deflate data`, { cause: err });
      }
    } else {
      throw new Error(`${entry.name}: compression method ${entry.method} is not supported`);
    }
    if (content.byteLength > allowed.bytes) throw tooLarge();
    if (crc32(content) !== entry.crc) throw new Error(`${entry.name}: CRC-32 mismatch`);
    total += content.byteLength;
    files.set(entry.name, content);
  }
  return files;
}
