import { EventEmitter } from "node:events";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { chainChangesChannel, parseChainChange, type ChainChange } from "../../lib/chain-changes.ts";

/**
 * The indexer's change notifications, received over Redis pub/sub. Emits `change` for each message
 * and `reset` whenever messages may have been missed (subscription lost), after which every cache
 * built on the feed must be dropped: notifications are hints and PostgreSQL stays the truth.
 */
export class ChangeFeed extends EventEmitter<{ change: [ChainChange]; reset: [] }> {
  readonly #subscriber: Redis;
  #live = false;

  constructor(redis: Redis, prefix: string, logger: Logger) {
    super();
    this.setMaxListeners(0);
    const channel = chainChangesChannel(prefix);
    this.#subscriber = redis.duplicate({ lazyConnect: true, maxRetriesPerRequest: null });
    this.#subscriber.on("message", (received: string, message: string) => {
      if (received !== channel) return;
      const change = parseChainChange(message);
      if (change) this.emit("change", change);
      else logger.warn({ channel }, "ignored a malformed change notification");
    });
    this.#subscriber.on("ready", () => {
      void this.#subscriber.subscribe(channel).then(() => {
        this.#live = true;
        this.emit("reset");
      });
    });
    for (const event of ["close", "end", "error"] as const) {
      this.#subscriber.on(event, () => {
        if (this.#live) {
          this.#live = false;
          this.emit("reset");
        }
      });
    }
  }

  /** Whether notifications are arriving; caches must not serve while it is false. */
  get live(): boolean {
    return this.#live;
  }

  async start(): Promise<void> {
    await this.#subscriber.connect();
    if (!this.#live) await new Promise<void>((resolve) => this.once("reset", () => resolve()));
  }

  async close(): Promise<void> {
    this.#live = false;
    this.#subscriber.disconnect();
  }
}
