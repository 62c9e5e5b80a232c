import { create, type HTTPRPCOptions, type KuboRPCClient } from "kubo-rpc-client";
import {
  countBytes,
  parseFileCid,
  type AddResult,
  type CatOptions,
  type CollectInput,
  type CollectResult,
  type IpfsStore,
} from "./store.ts";
import { KUBO_ADD_OPTIONS } from "./unixfs-options.ts";

// Kubo's global `offline` flag (the client passes it through but does not type it): reads answer from the node's own blocks, so a request for a CID
// nobody stored here fails at once instead of waiting on a network search.
const LOCAL_ONLY: HTTPRPCOptions & { offline: boolean } = { offline: true };

// How Kubo words a block or path it does not have ("block was not found locally (offline)",
// "ipld: could not find <cid>", "no link named …").
const NOT_FOUND_MESSAGE = /not found|could not find|no link named/i;

/** An IPFS store backed by a Kubo node over its RPC API; files are added with the embedded store's CID options. */
export class KuboIpfsStore implements IpfsStore {
  constructor(private readonly client: KuboRPCClient) {}

  /** A store talking to the Kubo RPC API at `url` (e.g. `http://127.0.0.1:5001`); nothing connects yet. */
  static connect(url: string): KuboIpfsStore {
    return new KuboIpfsStore(create({ url }));
  }

  async add(source: AsyncIterable<Uint8Array> | Uint8Array): Promise<AddResult> {
    const counter = { bytes: 0 };
    const { cid } = await this.client.add(countBytes(source, counter), KUBO_ADD_OPTIONS);
    return { cid: cid.toV1().toString(), size: counter.bytes };
  }

  async *cat(cid: string, options: CatOptions = {}): AsyncGenerator<Uint8Array> {
    if (options.length === 0) return;
    yield* this.client.cat(cid, { offset: options.offset, length: options.length, ...LOCAL_ONLY });
  }

  async stat(cid: string): Promise<{ size: number } | null> {
    if (!parseFileCid(cid)) return null;
    try {
      const stat = await this.client.files.stat(`/ipfs/${cid}`, LOCAL_ONLY);
      return stat.type === "file" ? { size: stat.size } : null;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async has(cid: string): Promise<boolean> {
    const parsed = parseFileCid(cid);
    if (!parsed) return false;
    try {
      await this.client.block.stat(parsed, LOCAL_ONLY);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  async ready(): Promise<void> {
    await this.client.version();
  }

  async collect({ removed }: CollectInput): Promise<CollectResult> {
    for (const cid of removed) {
      try {
        await this.client.pin.rm(cid.replace(/^ipfs:\/\//, ""));
      } catch (err) {
        if (!(err instanceof Error && /not pinned/i.test(err.message))) throw err;
      }
    }
    let blocks = 0;
    for await (const result of this.client.repo.gc()) if (!result.err) blocks++;
    return { blocks, bytes: 0 };
  }

  async close(): Promise<void> {
    // The RPC client holds no connection of its own between requests.
  }
}

function isNotFound(err: unknown): boolean {
  return err instanceof Error && err.name === "HTTPError" && NOT_FOUND_MESSAGE.test(err.message);
}
