import { constants } from "node:fs";
import { access, open, readdir, readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import { FsBlockstore } from "blockstore-fs";
import { NextToLast } from "blockstore-fs/sharding";
import { exporter, type RawNode, type UnixFSFile } from "ipfs-unixfs-exporter";
import { importBytes } from "ipfs-unixfs-importer";
import { base32, base32upper } from "multiformats/bases/base32";
import * as raw from "multiformats/codecs/raw";
import type { CID } from "multiformats/cid";
import {
  countBytes,
  parseFileCid,
  type AddResult,
  type CatOptions,
  type CollectInput,
  type CollectResult,
  type IpfsStore,
} from "./store.ts";
import { UNIXFS_IMPORT_OPTIONS } from "./unixfs-options.ts";

/**
 * Leaf blocks a read of a file keeps in flight ahead of its reader, so the next blocks come off the
 * disk while the reader decrypts and writes the current one; it bounds what a slow client holds.
 */
const READ_AHEAD_BLOCKS = 8;

type StoredFile = UnixFSFile | RawNode;

/** A piece of a file's bytes: bytes `from`…`to - 1` of a raw leaf block, or bytes already in hand. */
type Part = { leaf: CID; from: number; to: number } | { bytes: Uint8Array };

const BLOCK_EXTENSION = ".data";

/** The name blockstore-fs stores a block under (its multihash in upper-case base32), less the extension. */
const blockName = (cid: CID) => base32upper.encoder.encode(cid.multihash.bytes);

/** Every block file under the store's directory. */
async function* blockFiles(directory: string): AsyncGenerator<string> {
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) yield* blockFiles(full);
    else if (entry.isFile() && entry.name.endsWith(BLOCK_EXTENSION)) yield full;
  }
}

/**
 * Writes each block once. blockstore-fs writes atomically (temporary file, then rename), but two
 * writes of the same block at once share one temporary name: the second truncates what the first
 * is about to rename, and waits out a retry loop. Identical chunks in one file and concurrent
 * uploads of one file both do that, so concurrent puts of a block here share one write, and a
 * block already on disk (always whole, thanks to the rename) is not written again. One process
 * owns a store directory.
 */
class BlockWriter {
  private readonly pending = new Map<string, Promise<CID>>();

  constructor(private readonly blockstore: FsBlockstore) {}

  put(cid: CID, block: Parameters<FsBlockstore["put"]>[1]): Promise<CID> {
    // blockstore-fs names files by multihash, so that is what makes two writes the same.
    const key = base32.encode(cid.multihash.bytes);
    const inFlight = this.pending.get(key);
    if (inFlight) return inFlight;
    const write = (async () => ((await this.blockstore.has(cid)) ? cid : this.blockstore.put(cid, block)))();
    this.pending.set(key, write);
    return write.finally(() => this.pending.delete(key));
  }
}

/** A block the store does not hold, named as the exporter and blockstore-fs name theirs. */
class BlockNotFoundError extends Error {
  override name = "NotFoundError";
}

/**
 * Reads a block with one read of its whole file. blockstore-fs streams a block in 64 KiB reads,
 * each of which the exporter joins to the ones before by copying them all again; blocks here are
 * at most one chunk (256 KiB) or one node, so a single read is cheaper in every way.
 */
class WholeBlockReader {
  constructor(
    private readonly directory: string,
    private readonly sharding: NextToLast,
  ) {}

  async *get(cid: CID, options: { signal?: AbortSignal } = {}): AsyncGenerator<Uint8Array> {
    const { dir, file } = this.sharding.encode(cid);
    let bytes: Buffer;
    try {
      bytes = await readFile(path.join(this.directory, dir, file), { signal: options.signal });
    } catch (err) {
      throw new BlockNotFoundError(String(err));
    }
    yield bytes;
  }

  /** Bytes `from`…`to - 1` of a block, with one positioned read and no more. */
  async range(cid: CID, from: number, to: number): Promise<Uint8Array> {
    const { dir, file } = this.sharding.encode(cid);
    let handle;
    try {
      handle = await open(path.join(this.directory, dir, file), "r");
    } catch (err) {
      throw new BlockNotFoundError(String(err));
    }
    try {
      const bytes = Buffer.allocUnsafe(to - from);
      const { bytesRead } = await handle.read(bytes, 0, bytes.length, from);
      if (bytesRead !== bytes.length) throw new Error(`block ${cid} is shorter than its parent says`);
      return bytes;
    } finally {
      await handle.close();
    }
  }
}

/** An IPFS store in a local directory, computing the CIDs Kubo computes; for development and single-node deployments. */
export class EmbeddedIpfsStore implements IpfsStore {
  private readonly writer: BlockWriter;

  private constructor(
    private readonly blockstore: FsBlockstore,
    private readonly reader: WholeBlockReader,
    readonly directory: string,
  ) {
    this.writer = new BlockWriter(blockstore);
  }

  /** Opens (creating if needed) a store in `directory`; files added earlier are served again. */
  static async open(directory: string): Promise<EmbeddedIpfsStore> {
    // blockstore-fs's default layout, named here so blocks are read where it writes them.
    const sharding = new NextToLast();
    const blockstore = new FsBlockstore(directory, { shardingStrategy: sharding });
    await blockstore.open();
    return new EmbeddedIpfsStore(
      blockstore,
      new WholeBlockReader(blockstore.path, sharding),
      blockstore.path,
    );
  }

  async add(source: AsyncIterable<Uint8Array> | Uint8Array): Promise<AddResult> {
    const counter = { bytes: 0 };
    const { cid } = await importBytes(countBytes(source, counter), this.writer, UNIXFS_IMPORT_OPTIONS);
    return { cid: cid.toString(), size: counter.bytes };
  }

  async *cat(cid: string, options: CatOptions = {}): AsyncGenerator<Uint8Array> {
    const file = await this.file(cid);
    if (!file) throw new Error(`no file ${cid} in the store`);
    const { offset, length } = checkRange(Number(file.size), options);
    const parts = this.parts(file, offset, offset + length);
    // Reads started, in file order; a failed one is thrown when its turn comes.
    const reading: Promise<Uint8Array>[] = [];
    let listed = false;
    try {
      for (;;) {
        while (!listed && reading.length < READ_AHEAD_BLOCKS) {
          const next = await parts.next();
          if (next.done) {
            listed = true;
            break;
          }
          const part = next.value;
          const read =
            "bytes" in part ? Promise.resolve(part.bytes) : this.reader.range(part.leaf, part.from, part.to);
          read.catch(() => undefined);
          reading.push(read);
        }
        const first = reading.shift();
        if (!first) return;
        yield await first;
      }
    } finally {
      await parts.return(undefined);
    }
  }

  /**
   * The pieces of the file node `file` that hold its bytes `start`…`end - 1`, in order: its own
   * data, then its children's bytes by the sizes it lists, inner nodes walked as they are reached.
   */
  private async *parts(file: StoredFile, start: number, end: number): AsyncGenerator<Part> {
    if (file.type === "raw") {
      yield { bytes: file.node.subarray(start, end) };
      return;
    }
    const data = file.unixfs.data ?? new Uint8Array(0);
    if (start < data.length) yield { bytes: data.subarray(start, Math.min(end, data.length)) };
    let at = data.length;
    const links = file.node.Links;
    for (let i = 0; i < links.length && at < end; i++) {
      const childStart = at;
      at += Number(file.unixfs.blockSizes[i] ?? 0);
      if (at <= start) continue;
      const from = Math.max(start, childStart) - childStart;
      const to = Math.min(end, at) - childStart;
      const child = links[i]!.Hash;
      if (child.code === raw.code) {
        yield { leaf: child, from, to };
        continue;
      }
      const inner = await exporter(child, this.reader);
      if (inner.type !== "file" && inner.type !== "raw") throw new Error(`${child} is no file node`);
      yield* this.parts(inner, from, to);
    }
  }

  async stat(cid: string): Promise<{ size: number } | null> {
    const file = await this.file(cid);
    return file ? { size: Number(file.size) } : null;
  }

  async has(cid: string): Promise<boolean> {
    const parsed = parseFileCid(cid);
    return parsed !== null && this.blockstore.has(parsed);
  }

  async ready(): Promise<void> {
    await access(this.directory, constants.R_OK | constants.W_OK);
  }

  async collect({ live, olderThan }: CollectInput): Promise<CollectResult> {
    const reachable = new Set<string>();
    for await (const root of live()) await this.mark(root, reachable);
    const result = { blocks: 0, bytes: 0 };
    for await (const file of blockFiles(this.directory)) {
      if (reachable.has(path.basename(file, BLOCK_EXTENSION))) continue;
      const info = await stat(file).catch(() => null);
      if (!info || info.mtime >= olderThan) continue;
      await rm(file, { force: true });
      result.blocks++;
      result.bytes += info.size;
    }
    return result;
  }

  /** Adds the file names of the blocks of `root` (a CID or an `ipfs://` URI) to `reachable`. */
  private async mark(root: string, reachable: Set<string>): Promise<void> {
    let parsed: CID | null;
    try {
      parsed = parseFileCid(root.replace(/^ipfs:\/\//, ""));
    } catch {
      return;
    }
    const pending: CID[] = parsed ? [parsed] : [];
    while (pending.length > 0) {
      const cid = pending.pop()!;
      const name = blockName(cid);
      if (reachable.has(name)) continue;
      reachable.add(name);
      if (cid.code === raw.code) continue;
      const entry = await exporter(cid, this.reader).catch(() => null);
      if (entry?.type === "file") pending.push(...entry.node.Links.map((link) => link.Hash));
    }
  }

  async close(): Promise<void> {
    await this.blockstore.close();
  }

  private async file(cid: string): Promise<StoredFile | null> {
    const parsed = parseFileCid(cid);
    if (!parsed) return null;
    try {
      const entry = await exporter(parsed, this.reader);
      if (entry.type === "raw") return entry;
      // Symlinks and metadata nodes export as "file" too, but hold no bytes to serve.
      const isFile = entry.type === "file" && (entry.unixfs.type === "file" || entry.unixfs.type === "raw");
      return isFile ? entry : null;
    } catch (err) {
      // A missing root block, or a root whose bytes are no UnixFS node under this codec.
      const absent = err instanceof Error && (err.name === "NotFoundError" || err.name === "NotUnixFSError");
      if (absent) return null;
      throw err;
    }
  }
}

function checkRange(size: number, options: CatOptions): { offset: number; length: number } {
  const offset = options.offset ?? 0;
  const length = options.length ?? size - offset;
  if (!Number.isSafeInteger(offset) || offset < 0 || offset > size) {
    throw new RangeError(`offset ${offset} is outside a file of ${size} bytes`);
  }
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new RangeError(`length ${length} is not a byte count`);
  }
  return { offset, length: Math.min(length, size - offset) };
}
