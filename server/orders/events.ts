import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { OrderEvent } from "./store.ts";

type Listener = (seq: string) => void;

/**
 * Order status notifications over Redis pub/sub, so every API process can push an order's
 * transitions to its server-sent event streams whichever process (API or worker) made them.
 * Messages only say "order X has event N"; listeners read the events from PostgreSQL, so a lost
 * message delays an update until the next one but never reorders or drops a transition.
 */
export class OrderEvents {
  readonly #channel: string;
  readonly #listeners = new Map<string, Set<Listener>>();
  #subscriber: Redis | null = null;
  #ready: Promise<unknown> = Promise.resolve();
  readonly #outbox: OrderEvent[] = [];

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly logger: Logger,
  ) {
    this.#channel = `${prefix}:orders:events`;
  }

  /**
   * Announces an order's new events; failures are logged, never thrown (notifications are hints).
   * Announcements made in the same turn of the event loop go to Redis in one pipeline.
   */
  publish(...events: OrderEvent[]): void {
    if (events.length === 0) return;
    if (this.#outbox.length === 0) setImmediate(() => this.#flush());
    this.#outbox.push(...events);
  }

  #flush(): void {
    const pipeline = this.redis.pipeline();
    const events = this.#outbox.splice(0);
    for (const event of events) {
      pipeline.publish(this.#channel, JSON.stringify({ orderId: event.orderId, seq: event.seq }));
    }
    pipeline.exec().then(
      (results) => {
        for (const [i, [err]] of (results ?? []).entries()) {
          if (err) this.logger.warn({ err, orderId: events[i]!.orderId }, "could not publish an order event");
        }
      },
      (err: unknown) => this.logger.warn({ err }, "could not publish order events"),
    );
  }

  /** Calls `listener` with the sequence number of each new event of the order; returns the unsubscribe function. */
  async subscribe(orderId: string, listener: Listener): Promise<() => void> {
    let forOrder = this.#listeners.get(orderId);
    if (!forOrder) this.#listeners.set(orderId, (forOrder = new Set()));
    forOrder.add(listener);
    if (!this.#subscriber) {
      const subscriber = this.redis.duplicate({ maxRetriesPerRequest: null });
      this.#subscriber = subscriber;
      subscriber.on("message", (_channel: string, message: string) => this.#dispatch(message));
      subscriber.on("error", (err) => this.logger.warn({ err }, "order events subscription failed"));
      this.#ready = subscriber.subscribe(this.#channel);
    }
    await this.#ready;
    return () => {
      const set = this.#listeners.get(orderId);
      set?.delete(listener);
      if (set?.size === 0) this.#listeners.delete(orderId);
      if (this.#listeners.size === 0 && this.#subscriber) {
        this.#subscriber.disconnect();
        this.#subscriber = null;
      }
    };
  }

  #dispatch(message: string): void {
    let parsed: { orderId?: unknown; seq?: unknown };
    try {
      parsed = JSON.parse(message) as typeof parsed;
    } catch {
      return;
    }
    if (typeof parsed.orderId !== "string" || typeof parsed.seq !== "string") return;
    for (const listener of this.#listeners.get(parsed.orderId) ?? []) listener(parsed.seq);
  }
}
