import type { Visibility } from "../../lib/api/works.ts";
import type { IpfsStore } from "../ipfs/store.ts";
import type { ContentKeys, WrappedKey } from "./content-keys.ts";
import { newHeader, open, parseHeader, seal, sealedSize, spanOf } from "./sealed-file.ts";

export type { Visibility };

/** How an original is stored: its CID, its own size, and for a private one how to open it. */
export interface StoredOriginal {
  contentHash: string;
  cid: string;
  /** Bytes of the original (not of its sealed form). */
  size: number;
  visibility: Visibility;
  /** The data key and the sealed file's header; null for a public original. */
  sealing: Sealing | null;
}

export interface Sealing {
  key: WrappedKey;
  header: Buffer;
}

/** What `add` stored. */
export interface AddedOriginal {
  cid: string;
  /** Bytes the store holds: the sealed form's for a private original. */
  storedSize: number;
  sealing: Sealing | null;
}

/**
 * Originals in the IPFS store: a private one sealed (sealed-file.ts) under a data key of its own,
 * wrapped by the deployment's key-encryption key, so the store, Kubo's peers and any gateway hold
 * only ciphertext; a public one in the clear, as uploaded. Both stream in and out in constant memory.
 */
export class Originals {
  /** Stored bytes of small files by CID, least recently read first; what a CID names never changes. */
  readonly #cache = new Map<string, Buffer>();
  #cachedBytes = 0;

  constructor(
    private readonly ipfs: IpfsStore,
    private readonly keys: ContentKeys,
    private readonly cache = { fileMaxBytes: 4 * 1024 * 1024, totalBytes: 64 * 1024 * 1024 },
  ) {}

  /** Stores the original of `contentHash` as `visibility` asks while it streams from `source`. */
  async add(
    contentHash: string,
    visibility: Visibility,
    source: AsyncIterable<Uint8Array>,
  ): Promise<AddedOriginal> {
    if (visibility === "public") {
      const { cid, size } = await this.ipfs.add(source);
      return { cid, storedSize: size, sealing: null };
    }
    const dataKey = this.keys.newDataKey();
    const header = newHeader();
    const { cid, size } = await this.ipfs.add(seal(dataKey, header, source));
    return {
      cid,
      storedSize: size,
      sealing: { key: this.keys.wrap(dataKey, contentHash), header: header.bytes },
    };
  }

  /** Streams bytes `offset`…`offset + length - 1` of the original (the whole file by default). */
  async *read(
    original: StoredOriginal,
    range: { offset: number; length: number } = { offset: 0, length: original.size },
  ): AsyncGenerator<Uint8Array> {
    const { offset, length } = range;
    if (
      !Number.isSafeInteger(offset) ||
      !Number.isSafeInteger(length) ||
      offset < 0 ||
      length < 0 ||
      offset + length > original.size
    ) {
      throw new RangeError(`bytes ${offset}+${length} are outside an original of ${original.size} bytes`);
    }
    if (length === 0) return;
    if (!original.sealing) {
      yield* this.#stored(original.cid, original.size, offset, length);
      return;
    }
    const header = parseHeader(original.sealing.header);
    const key = this.keys.unwrap(original.sealing.key, original.contentHash);
    const span = spanOf(original.size, header.segmentSize, offset, length);
    const sealed = this.#stored(
      original.cid,
      sealedSize(original.size, header.segmentSize),
      span.sealedOffset,
      span.sealedLength,
    );
    yield* open(key, header, original.size, span, length, sealed);
  }

  /**
   * Bytes of a stored file of `size` bytes: a small one from memory once read whole (the hot files
   * of a catalogue are read again and again), a large one streamed from the store.
   */
  async *#stored(cid: string, size: number, offset: number, length: number): AsyncGenerator<Uint8Array> {
    if (size > this.cache.fileMaxBytes) {
      yield* this.ipfs.cat(cid, { offset, length });
      return;
    }
    let bytes = this.#cache.get(cid);
    if (bytes) {
      this.#cache.delete(cid);
    } else {
      const parts: Uint8Array[] = [];
      for await (const part of this.ipfs.cat(cid)) parts.push(part);
      bytes = Buffer.concat(parts);
      // A concurrent read of the same file may have cached it meanwhile.
      const raced = this.#cache.get(cid);
      if (raced) {
        this.#cache.delete(cid);
        this.#cachedBytes -= raced.length;
      }
      this.#cachedBytes += bytes.length;
      for (const [old, held] of this.#cache) {
        if (this.#cachedBytes <= this.cache.totalBytes) break;
        this.#cache.delete(old);
        this.#cachedBytes -= held.length;
      }
    }
    this.#cache.set(cid, bytes);
    yield bytes.subarray(offset, offset + length);
  }
}
