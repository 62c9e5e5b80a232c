import { promisify } from "node:util";
import { constants, crc32, deflateRaw, inflateRaw } from "node:zlib";

const inflate = promisify(inflateRaw);
const deflate = promisify(deflateRaw);

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
const FLAG_UTF8 = 0x800;
/** Version 2.0: deflate, no zip64. */
const ZIP_VERSION = 20;
const MAX_UINT32 = 0xffffffff;

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

/** A file to write into a zip archive. */
export interface ZipEntry {
  name: string;
  bytes: Uint8Array;
}

/** MS-DOS date and time fields (UTC, two-second resolution; zip cannot hold years before 1980). */
function dosDateTime(date: Date): { time: number; date: number } {
  const year = Math.max(1980, date.getUTCFullYear());
  return {
    time: (date.getUTCHours() << 11) | (date.getUTCMinutes() << 5) | (date.getUTCSeconds() >> 1),
    date: ((year - 1980) << 9) | ((date.getUTCMonth() + 1) << 5) | date.getUTCDate(),
  };
}

/**
 * A piece of a file, deflated by zlib (level 6) on the thread pool from the moment it is made. Pieces
 * other than the file's last end on a sync flush instead of a final block, as pigz's do: compressed
 * one after another, they make one deflate stream of the whole file, and a large file compresses on
 * as many threads as it has pieces.
 */
export class DeflatedPiece {
  readonly data: Promise<Uint8Array>;

  constructor(
    readonly bytes: Uint8Array,
    readonly last: boolean,
  ) {
    this.data = deflate(bytes, { level: 6, finishFlush: last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH });
    this.data.catch(() => undefined);
  }
}

/**
 * Builds a zip archive file by file: each file is deflated by zlib (level 6) on the thread pool as
 * soon as it is added, so files compress in parallel with each other and with whatever the caller
 * does next; `finish` lays them out in the order added, or the order it is told. Names are stored as UTF-8. Refuses more than
 * a zip without zip64 holds (65,535 entries, 4 GiB).
 */
export class ZipWriter {
  readonly #files: Promise<{
    path: string;
    name: Uint8Array;
    crc: number;
    size: number;
    data: Uint8Array;
  }>[] = [];

  add(name: string, bytes: Uint8Array): void {
    this.addPieces(name, [new DeflatedPiece(bytes, true)]);
  }

  /** Adds the file made of `pieces` in that order; only the last may be made with `last`. */
  addPieces(name: string, pieces: DeflatedPiece[]): void {
    if (this.#files.length === 0xffff) throw new Error("a zip holds at most 65,535 entries");
    if (pieces.length === 0 || pieces.some((piece, i) => piece.last !== (i === pieces.length - 1))) {
      throw new Error(`${name}: only the last of a file's pieces, and it always, ends the file`);
    }
    const file = Promise.all(pieces.map((piece) => piece.data)).then((data) => ({
      path: name,
      name: new TextEncoder().encode(name),
      crc: crc32(pieces.length === 1 ? pieces[0]!.bytes : Buffer.concat(pieces.map((piece) => piece.bytes))),
      size: pieces.reduce((size, piece) => size + piece.bytes.byteLength, 0),
      data: data.length === 1 ? data[0]! : Buffer.concat(data),
    }));
    file.catch(() => undefined);
    this.#files.push(file);
  }

  /** The archive, every file dated `modified`; the files named in `leading` first, in that order. */
  async finish(modified: Date, leading: string[] = []): Promise<Uint8Array> {
    const stamp = dosDateTime(modified);
    const files = await Promise.all(this.#files);
    const rank = (file: { path: string }) => {
      const at = leading.indexOf(file.path);
      return at < 0 ? leading.length : at;
    };
    const compressed = files
      .map((file, added) => ({ file, added }))
      .sort((a, b) => rank(a.file) - rank(b.file) || a.added - b.added)
      .map(({ file }) => file);
    const parts: Uint8Array[] = [];
    const central: Uint8Array[] = [];
    let offset = 0;
    const header = (size: number, fields: (view: DataView) => void) => {
      const bytes = new Uint8Array(size);
      fields(new DataView(bytes.buffer));
      return bytes;
    };
    for (const file of compressed) {
      if (file.size > MAX_UINT32 || offset > MAX_UINT32) throw new Error("the archive passes 4 GiB (zip64)");
      const common = (view: DataView, at: number) => {
        view.setUint16(at, ZIP_VERSION, true);
        view.setUint16(at + 2, FLAG_UTF8, true);
        view.setUint16(at + 4, DEFLATED, true);
        view.setUint16(at + 6, stamp.time, true);
        view.setUint16(at + 8, stamp.date, true);
        view.setUint32(at + 10, file.crc, true);
        view.setUint32(at + 14, file.data.byteLength, true);
        view.setUint32(at + 18, file.size, true);
        view.setUint16(at + 22, file.name.byteLength, true);
      };
      parts.push(
        header(LOCAL_SIZE, (view) => {
          view.setUint32(0, LOCAL_SIGNATURE, true);
          common(view, 4);
        }),
        file.name,
        file.data,
      );
      central.push(
        header(CENTRAL_SIZE, (view) => {
          view.setUint32(0, CENTRAL_SIGNATURE, true);
          view.setUint16(4, ZIP_VERSION, true);
          common(view, 6);
          view.setUint32(42, offset, true);
        }),
        file.name,
      );
      offset += LOCAL_SIZE + file.name.byteLength + file.data.byteLength;
    }
    const centralSize = central.reduce((sum, part) => sum + part.byteLength, 0);
    if (offset + centralSize > MAX_UINT32) throw new Error("the archive passes 4 GiB (zip64)");
    const end = header(EOCD_SIZE, (view) => {
      view.setUint32(0, EOCD_SIGNATURE, true);
      view.setUint16(8, compressed.length, true);
      view.setUint16(10, compressed.length, true);
      view.setUint32(12, centralSize, true);
      view.setUint32(16, offset, true);
    });
    return Buffer.concat([...parts, ...central, end]);
  }
}

/** Writes `entries` into a zip archive, in that order, all dated `modified` (see ZipWriter). */
export async function writeZip(entries: ZipEntry[], modified: Date): Promise<Uint8Array> {
  if (entries.length > 0xffff) throw new Error(`a zip holds at most 65,535 entries, not ${entries.length}`);
  const zip = new ZipWriter();
  for (const entry of entries) zip.add(entry.name, entry.bytes);
  return zip.finish(modified);
}
