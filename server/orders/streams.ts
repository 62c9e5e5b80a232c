import type { Response } from "express";
import type { Logger } from "pino";
import type { ChainChange } from "../../lib/chain-changes.ts";
import type { ChangeFeed } from "../chain/change-feed.ts";
import { AppError } from "../errors.ts";
import type { OrderEvents } from "./events.ts";
import type { Order as OrderView, OrderEvent as OrderEventView } from "../../lib/api/orders.ts";
import type { OrdersService } from "./orders.ts";

const HEARTBEAT_MS = 15_000;

export interface OrderStreamLimits {
  /** Open streams per client (an IPv4 address or IPv6 /64) in this process. */
  maxPerClient: number;
  /** Open streams per order in this process. */
  maxPerOrder: number;
}

export interface OrderStreamsDeps {
  orders: OrdersService;
  events: OrderEvents;
  feed: ChangeFeed;
  limits: OrderStreamLimits;
  logger: Logger;
}

interface Subscriber {
  res: Response;
  /** The last event this subscriber was sent; null until its first. */
  lastSeq: bigint | null;
}

/** Everything this process does for one order, shared by every stream that follows it. */
interface Watch {
  orderId: string;
  subscribers: Set<Subscriber>;
  view: OrderView;
  lastSeq: bigint;
  lastLicense: string;
  queue: Promise<void>;
  unsubscribe: () => void;
  heartbeat: NodeJS.Timeout;
}

const write = (res: Response, event: string, data: unknown, id?: string) =>
  res.write(`${id ? `id: ${id}\n` : ""}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);

/**
 * Server-sent event streams of orders in this API process: capped per client and per order, and
 * fed by one watch per order — one read of the order per notification or chain change, whatever
 * the number of streams following it — so a crowd of streams costs memory, not queries.
 */
export class OrderStreams {
  readonly #watches = new Map<string, Watch>();
  readonly #perClient = new Map<string, number>();
  #listening = false;

  constructor(private readonly deps: OrderStreamsDeps) {}

  /**
   * Streams an order to `res`: a `status` event for its current state at once (or every event
   * after `lastEventId`), then one per transition, and `license` events when the mint's finality
   * changes. Refuses with 429 beyond the caps, before anything is written.
   */
  async open(orderId: string, client: string, lastEventId: string | undefined, res: Response): Promise<void> {
    const { maxPerClient, maxPerOrder } = this.deps.limits;
    const watch = this.#watches.get(orderId);
    if ((watch?.subscribers.size ?? 0) >= maxPerOrder) throw tooMany("streams-per-order", maxPerOrder);
    if ((this.#perClient.get(client) ?? 0) >= maxPerClient) throw tooMany("streams-per-ip", maxPerClient);
    this.#perClient.set(client, (this.#perClient.get(client) ?? 0) + 1);
    const subscriber: Subscriber = {
      res,
      lastSeq: lastEventId && /^\d{1,18}$/.test(lastEventId) ? BigInt(lastEventId) : null,
    };
    let joined: Watch;
    try {
      joined = watch ?? (await this.#watch(orderId));
    } catch (err) {
      this.#leave(client);
      throw err;
    }
    joined.subscribers.add(subscriber);
    res.status(200);
    res.set({
      "Content-Type": "text/event-stream",
      "Cache-Control": "no-cache, no-transform",
      Connection: "keep-alive",
      "X-Accel-Buffering": "no",
    });
    res.flushHeaders();
    res.on("close", () => {
      joined.subscribers.delete(subscriber);
      this.#leave(client);
      if (joined.subscribers.size === 0 && this.#watches.get(orderId) === joined) this.#unwatch(joined);
    });
    // Its own catch-up: a fresh subscriber gets the current state, a resuming one what it missed.
    this.#serially(joined, async () => {
      const events = await this.deps.orders.eventsAfter(orderId, String(subscriber.lastSeq ?? 0n));
      if (events.length === 0) return;
      joined.view = await this.deps.orders.current(orderId);
      this.#deliver(joined, subscriber, subscriber.lastSeq === null ? events.slice(-1) : events);
    });
  }

  async #watch(orderId: string): Promise<Watch> {
    const view = await this.deps.orders.current(orderId);
    const existing = this.#watches.get(orderId);
    if (existing) return existing;
    const watch: Watch = {
      orderId,
      subscribers: new Set(),
      view,
      lastSeq: 0n,
      lastLicense: JSON.stringify(view.license),
      queue: Promise.resolve(),
      unsubscribe: () => {},
      heartbeat: setInterval(() => {
        for (const s of watch.subscribers) s.res.write(": heartbeat\n\n");
        this.#refresh(watch);
      }, HEARTBEAT_MS),
    };
    this.#watches.set(orderId, watch);
    watch.unsubscribe = await this.deps.events.subscribe(orderId, () => this.#refresh(watch));
    if (!this.#listening) {
      this.#listening = true;
      this.deps.feed.on("change", this.#onChange);
    }
    return watch;
  }

  /** Reads the order's new events once and sends each subscriber those it has not seen. */
  #refresh(watch: Watch): void {
    this.#serially(watch, async () => {
      const events = await this.deps.orders.eventsAfter(watch.orderId, String(watch.lastSeq));
      if (events.length === 0) return;
      watch.view = await this.deps.orders.current(watch.orderId);
      watch.lastLicense = JSON.stringify(watch.view.license);
      for (const subscriber of watch.subscribers) this.#deliver(watch, subscriber, events);
    });
  }

  #deliver(watch: Watch, subscriber: Subscriber, events: OrderEventView[]): void {
    for (const event of events) {
      const seq = BigInt(event.seq);
      if (subscriber.lastSeq !== null && seq <= subscriber.lastSeq) continue;
      write(subscriber.res, "status", { ...event, order: watch.view }, event.seq);
      subscriber.lastSeq = seq;
      if (seq > watch.lastSeq) watch.lastSeq = seq;
    }
  }

  readonly #onChange = (change: ChainChange) => {
    for (const watch of this.#watches.values()) {
      const { view } = watch;
      if (!view.license) continue;
      const relevant =
        change.kind === "heads" ||
        change.truncated ||
        (view.paymentRef !== null && change.keys.paymentRefs.includes(view.paymentRef)) ||
        change.keys.tokenIds.includes(view.license.tokenId);
      if (!relevant) continue;
      this.#serially(watch, async () => {
        watch.view = await this.deps.orders.current(watch.orderId);
        const license = JSON.stringify(watch.view.license);
        if (license === watch.lastLicense) return;
        watch.lastLicense = license;
        for (const s of watch.subscribers)
          write(s.res, "license", { license: watch.view.license, order: watch.view });
      });
    }
  };

  #serially(watch: Watch, work: () => Promise<void>): void {
    watch.queue = watch.queue
      .then(() => (this.#watches.get(watch.orderId) === watch ? work() : undefined))
      .catch((err: unknown) =>
        this.deps.logger.warn({ err, orderId: watch.orderId }, "order stream update failed"),
      );
  }

  #unwatch(watch: Watch): void {
    this.#watches.delete(watch.orderId);
    clearInterval(watch.heartbeat);
    watch.unsubscribe();
    if (this.#watches.size === 0 && this.#listening) {
      this.#listening = false;
      this.deps.feed.off("change", this.#onChange);
    }
  }

  #leave(client: string): void {
    const left = (this.#perClient.get(client) ?? 1) - 1;
    if (left > 0) this.#perClient.set(client, left);
    else this.#perClient.delete(client);
  }
}

function tooMany(rule: string, limit: number): AppError {
  return new AppError("TOO_MANY_STREAMS", 429, `too many open event streams (rule ${rule})`, { rule, limit });
}
