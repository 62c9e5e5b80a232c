import type { ChainHeads } from "../../lib/finality.ts";
import type { ChangeFeed } from "./change-feed.ts";

/**
 * The indexer's chain heads (`chain_heads`) for the API's reads, without a query on every request.
 * Every change notification carries the heads as they are after its commit — a reorg's rollback
 * included — so while the feed is live the heads are kept from it and read again from PostgreSQL
 * only once `ttlMs` old (a lost notification is outlived by `ttlMs` at most). While the feed is not
 * live every call reads them, and a read that overlapped a notification is not kept over it.
 */
export class ChainHeadsCache {
  #heads: ChainHeads | null = null;
  #at = 0;
  // Bumped by every notification and reset: a read begun before one must not replace what it said.
  #generation = 0;
  #reading: Promise<ChainHeads> | null = null;

  constructor(
    private readonly read: () => Promise<ChainHeads>,
    private readonly feed: ChangeFeed,
    private readonly chainId: number,
    private readonly ttlMs = 1000,
  ) {
    feed.on("change", (change) => {
      if (change.chainId !== this.chainId) return;
      this.#generation += 1;
      this.#heads = change.heads;
      this.#at = Date.now();
    });
    feed.on("reset", () => {
      this.#generation += 1;
      this.#heads = null;
    });
  }

  /** The heads now: kept ones younger than `ttlMs` while the feed is live, else read. */
  heads(): Promise<ChainHeads> {
    if (!this.feed.live) return this.read();
    if (this.#heads && Date.now() - this.#at < this.ttlMs) return Promise.resolve(this.#heads);
    this.#reading ??= this.#readAndKeep().finally(() => {
      this.#reading = null;
    });
    return this.#reading;
  }

  async #readAndKeep(): Promise<ChainHeads> {
    const generation = this.#generation;
    const heads = await this.read();
    if (generation === this.#generation && this.feed.live) {
      this.#heads = heads;
      this.#at = Date.now();
    }
    return this.#heads ?? heads;
  }
}
