import type { CID } from "multiformats/cid";
import { importBytes, type ImporterOptions } from "ipfs-unixfs-importer";
import { fixedSize } from "ipfs-unixfs-importer/chunker";
import { balanced } from "ipfs-unixfs-importer/layout";

/** Kubo's default chunk size for `ipfs add` (`--chunker=size-262144`). */
export const CHUNK_SIZE = 262_144;

/** Kubo's balanced layout puts at most this many links in one node (`helpers.DefaultLinksPerBlock`). */
export const MAX_CHILDREN_PER_NODE = 174;

/**
 * Import options for the embedded store, chosen so a file gets the CID that Kubo's
 * `ipfs add --cid-version=1` gives the same bytes. Every option that changes a CID is stated here,
 * even where it equals the library default, because defaults and presets move between releases
 * (the `unixfs-v1-2025` profile, for one, uses 1 MiB chunks and 1,024 links and matches no Kubo
 * default). No `profile` is set for that reason.
 */
export const UNIXFS_IMPORT_OPTIONS = {
  // Kubo's `--cid-version=1`; CIDv1 strings are base32 (`bafy…`, `bafk…`).
  cidVersion: 1,
  // Kubo turns raw leaves on with CIDv1: leaves are bare bytes (codec raw), not UnixFS-wrapped dag-pb.
  rawLeaves: true,
  // A file of one chunk is that raw leaf itself (`bafkrei…`), as in Kubo, not a parent with one link.
  reduceSingleLeafToSelf: true,
  // Fixed 256 KiB chunks, Kubo's `size-262144`; the importer's 2025 preset would cut 1 MiB chunks.
  chunker: fixedSize({ chunkSize: CHUNK_SIZE }),
  // Kubo's balanced (not trickle) DAG with 174 links per node.
  layout: balanced({ maxChildrenPerNode: MAX_CHILDREN_PER_NODE }),
  // dag-pb's canonical order, Links before Data, which is also how Kubo writes nodes.
  fieldOrder: "links-first",
  // The file's own CID, not a directory wrapping it (Kubo's `--wrap-with-directory=false`).
  wrapWithDirectory: false,
  // Bounds memory per upload: leaves are hashed and written in batches of this many chunks.
  blockWriteConcurrency: 8,
} as const satisfies ImporterOptions;

/**
 * The same choices spelled as Kubo RPC `add` options, so a Kubo node stores files under the CIDs
 * the embedded store computes. Leaves are hashed with sha2-256 in both (the importer always uses it).
 */
export const KUBO_ADD_OPTIONS = {
  cidVersion: 1,
  rawLeaves: true,
  chunker: `size-${CHUNK_SIZE}`,
  hashAlg: "sha2-256",
  // Balanced layout; Kubo's fixed 174 links per node apply unless the node's Import config changes them.
  trickle: false,
  wrapWithDirectory: false,
  // Files must survive Kubo's garbage collection: the ledger points at them forever.
  pin: true,
} as const;

/** The CID `add` gives `bytes`, computed without storing anything: a manifest's CID is named before it is published. */
export async function cidOf(bytes: Uint8Array): Promise<string> {
  const discard = { put: async (cid: CID) => cid };
  const { cid } = await importBytes(bytes, discard, UNIXFS_IMPORT_OPTIONS);
  return cid.toString();
}
