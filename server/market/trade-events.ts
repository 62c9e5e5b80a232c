import type { Redis } from "ioredis";
import type { Logger } from "pino";

type Listener = () => void;

/**
 * "Trade X's dispute changed" over Redis pub/sub, so every API process can tell its event streams
 * when evidence or a decision was added in another. Messages carry only the listing id: streams
 * read what changed from PostgreSQL, so a lost message only delays an update.
 */
export class TradeEvents {
  readonly #channel: string;
  readonly #listeners = new Map<string, Set<Listener>>();
  #subscriber: Redis | null = null;
  #ready: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly logger: Logger,
  ) {
    this.#channel = `${prefix}:trades:events`;
  }

  /** Announces a change of a trade's dispute; failures are logged, never thrown (notifications are hints). */
  publish(listingId: string): void {
    this.redis
      .publish(this.#channel, listingId)
      .catch((err: unknown) => this.logger.warn({ err, listingId }, "could not publish a trade event"));
  }

  /** Calls `listener` on each change of the trade's dispute; answers the unsubscribe function. */
  async subscribe(listingId: string, listener: Listener): Promise<() => void> {
    let forListing = this.#listeners.get(listingId);
    if (!forListing) this.#listeners.set(listingId, (forListing = new Set()));
    forListing.add(listener);
    if (!this.#subscriber) {
      const subscriber = this.redis.duplicate({ maxRetriesPerRequest: null });
      this.#subscriber = subscriber;
      subscriber.on("message", (_channel: string, message: string) => {
        for (const l of this.#listeners.get(message) ?? []) l();
      });
      subscriber.on("error", (err) => this.logger.warn({ err }, "trade events subscription failed"));
      this.#ready = subscriber.subscribe(this.#channel);
    }
    await this.#ready;
    return () => {
      const set = this.#listeners.get(listingId);
      set?.delete(listener);
      if (set?.size === 0) this.#listeners.delete(listingId);
      if (this.#listeners.size === 0 && this.#subscriber) {
        this.#subscriber.disconnect();
        this.#subscriber = null;
      }
    };
  }
}
