import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 } from "multiformats/hashes/sha2";

const DAG_PB_CODE = 0x70;

/** What `add` stored: the file's CID (base32 CIDv1) and its length in bytes. */
export interface AddResult {
  cid: string;
  size: number;
}

/** A byte range of a file; `length` past the end stops at the end. */
export interface CatOptions {
  offset?: number;
  length?: number;
}

export interface CollectInput {
  /** Roots to let go of. */
  removed: string[];
  /** Every root still wanted (files, metadata documents, batch manifests). */
  live: () => AsyncIterable<string>;
  olderThan: Date;
}

/** What a collection removed. */
export interface CollectResult {
  blocks: number;
  bytes: number;
}

/** Content-addressed storage of files as UnixFS DAGs; CIDs are base32 CIDv1 strings. */
export interface IpfsStore {
  /** Stores a file as it streams in (never holding it whole) and pins it. */
  add(source: AsyncIterable<Uint8Array> | Uint8Array): Promise<AddResult>;
  /** Streams a stored file, or the range of it that `options` asks for. */
  cat(cid: string, options?: CatOptions): AsyncIterable<Uint8Array>;
  /** The size of a stored file, or null when the store does not hold it as a file. */
  stat(cid: string): Promise<{ size: number } | null>;
  /** Whether the store holds the root block of `cid`. */
  has(cid: string): Promise<boolean>;
  /**
   * Deletes what nobody needs any more, leaving every block of a `live` root: the embedded store
   * sweeps each block that no live root reaches and that was written before `olderThan` (younger
   * ones may belong to an upload in progress); Kubo unpins the `removed` roots and runs its GC.
   */
  collect(input: CollectInput): Promise<CollectResult>;
  /** Resolves when the store can read and write; rejects with the reason otherwise (for /readyz). */
  ready(): Promise<void>;
  /** Releases the store's resources. */
  close(): Promise<void>;
}

/**
 * Parses a CID in any form (CIDv0, base32, base36) and returns it as CIDv1, or null when it is a
 * well-formed CID of something the store never holds: files are UnixFS (dag-pb or raw) hashed
 * with sha2-256. Throws on malformed input.
 */
export function parseFileCid(value: string): CID | null {
  const cid = CID.parse(value).toV1();
  const fileCodec = cid.code === raw.code || cid.code === DAG_PB_CODE;
  return fileCodec && cid.multihash.code === sha256.code ? cid : null;
}

/** Passes `source` through as an async iterable, adding each chunk's length to `counter.bytes`. */
export async function* countBytes(
  source: AsyncIterable<Uint8Array> | Uint8Array,
  counter: { bytes: number },
): AsyncGenerator<Uint8Array> {
  if (source instanceof Uint8Array) {
    counter.bytes += source.byteLength;
    yield source;
    return;
  }
  for await (const chunk of source) {
    counter.bytes += chunk.byteLength;
    yield chunk;
  }
}
