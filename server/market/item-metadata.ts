import type { ItemMetadata } from "../../lib/api/items.ts";
import { parseFileCid, type IpfsStore } from "../ipfs/store.ts";

/** The most a metadata document may hold: item metadata is a few hundred bytes of JSON. */
export const MAX_DOCUMENT_BYTES = 64 * 1024;
/** The most an inline (data:) image may hold. */
export const MAX_INLINE_IMAGE_BYTES = 256 * 1024;
const MAX_NAME = 200;
const MAX_DESCRIPTION = 2000;
const IPFS_TIMEOUT_MS = 3000;
const IMAGE_DATA_URI = /^data:image\/(png|jpeg|gif|webp|svg\+xml)(;base64)?,/;

export interface MetadataSources {
  ipfs: IpfsStore;
  /** Whether a CID must not be read (a private original, or an upload whose registration is not anchored yet). */
  isPrivate(cid: string): Promise<boolean>;
}

/** ERC-1155's `{id}` substitution: the id as 64 lower-case hex digits, no 0x. */
export function substituteId(uri: string, itemId: string): string {
  return uri.replaceAll("{id}", BigInt(itemId).toString(16).padStart(64, "0"));
}

const none = (status: ItemMetadata["status"]): ItemMetadata => ({
  status,
  name: null,
  description: null,
  image: null,
});

/** Text from a document: NUL removed (PostgreSQL refuses it), cut to `max` characters; null when empty. */
function text(value: unknown, max: number): string | null {
  if (typeof value !== "string") return null;
  const cleaned = [...value.replaceAll("\0", "")].slice(0, max).join("").trim();
  return cleaned === "" ? null : cleaned;
}

/** An image the web app can show from its own origin: an inline image, or a file of the platform's store. */
function image(value: unknown): string | null {
  if (typeof value !== "string") return null;
  if (IMAGE_DATA_URI.test(value)) return value.length <= MAX_INLINE_IMAGE_BYTES ? value : null;
  const cid = /^ipfs:\/\/(?:ipfs\/)?([A-Za-z0-9]+)$/.exec(value)?.[1];
  if (!cid) return null;
  try {
    const parsed = parseFileCid(cid);
    return parsed ? `/ipfs/${parsed.toString()}` : null;
  } catch {
    return null;
  }
}

/** The fields of a metadata document (ERC-1155 metadata JSON), or `failed` when it is not one. */
export function parseDocument(bytes: Uint8Array): ItemMetadata {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: false }).decode(bytes));
  } catch {
    return none("failed");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) return none("failed");
  const doc = json as Record<string, unknown>;
  return {
    status: "resolved",
    name: text(doc.name, MAX_NAME),
    description: text(doc.description, MAX_DESCRIPTION),
    image: image(doc.image),
  };
}

/** The bytes of a `data:` URI of a JSON document, or null when it is not one or too large. */
function dataUriBytes(uri: string): Uint8Array | null {
  const match = /^data:(application\/json|text\/plain)?(;charset=[\w-]+)?(;base64)?,(.*)$/s.exec(uri);
  if (!match) return null;
  const payload = match[4]!;
  let bytes: Uint8Array;
  try {
    bytes = match[3] ? Buffer.from(payload, "base64") : Buffer.from(decodeURIComponent(payload), "utf8");
  } catch {
    return null;
  }
  return bytes.length <= MAX_DOCUMENT_BYTES ? bytes : null;
}

async function ipfsBytes(cid: string, sources: MetadataSources): Promise<Uint8Array | null> {
  const parsed = parseFileCid(cid);
  if (!parsed) return null;
  const key = parsed.toString();
  if (await sources.isPrivate(key)) return null;
  const stat = await sources.ipfs.stat(key);
  if (!stat || stat.size > MAX_DOCUMENT_BYTES) return null;
  const chunks: Uint8Array[] = [];
  for await (const chunk of sources.ipfs.cat(key, { length: MAX_DOCUMENT_BYTES })) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Reads an item's metadata from its URI: inline `data:` documents, and `ipfs://<cid>` documents the
 * platform's own store holds. Anything else (http, unknown schemes) is `unsupported`: the API never
 * fetches a URL a studio chose, and the web app loads nothing from elsewhere.
 */
export async function resolveMetadata(
  uri: string,
  itemId: string,
  sources: MetadataSources,
): Promise<ItemMetadata> {
  const resolved = substituteId(uri, itemId);
  if (resolved.startsWith("data:")) {
    const bytes = dataUriBytes(resolved);
    return bytes ? parseDocument(bytes) : none("failed");
  }
  const cid = /^ipfs:\/\/(?:ipfs\/)?([A-Za-z0-9]+)$/.exec(resolved)?.[1];
  if (!cid) return none("unsupported");
  try {
    const bytes = await withTimeout(ipfsBytes(cid, sources), IPFS_TIMEOUT_MS);
    return bytes ? parseDocument(bytes) : none("failed");
  } catch {
    return none("failed");
  }
}
