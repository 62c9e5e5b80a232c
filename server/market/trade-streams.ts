import type { Response } from "express";
import type { Logger } from "pino";
import type { ChainChange } from "../../lib/chain-changes.ts";
import type { TradeWithHistory } from "../../lib/api/trades.ts";
import type { ChangeFeed } from "../chain/change-feed.ts";
import { AppError } from "../errors.ts";
import type { TradeEvents } from "./trade-events.ts";

const HEARTBEAT_MS = 15_000;

export interface TradeStreamLimits {
  /** Open streams per client (an IPv4 address or IPv6 /64) in this process. */
  maxPerClient: number;
  /** Open streams per trade in this process. */
  maxPerTrade: number;
}

/** How many pieces of evidence and decisions a trade's dispute holds (what a stream may tell anyone). */
export interface DisputeActivity {
  evidence: number;
  decisions: number;
}

export interface TradeStreamsDeps {
  /** The trade as indexed, with its history; throws 404 for an unknown one. */
  read(listingId: string): Promise<TradeWithHistory>;
  activity(listingId: string): Promise<DisputeActivity>;
  feed: ChangeFeed;
  events: TradeEvents;
  limits: TradeStreamLimits;
  logger: Logger;
}

/** Everything this process does for one trade, shared by every stream that follows it. */
interface Watch {
  listingId: string;
  subscribers: Set<Response>;
  trade: string;
  activity: string;
  queue: Promise<void>;
  unsubscribe: () => void;
  heartbeat: NodeJS.Timeout;
}

const write = (res: Response, event: string, data: string) => res.write(`event: ${event}\ndata: ${data}\n\n`);

/**
 * Server-sent event streams of trades: a `trade` event with the trade and its history at once and
 * whenever the indexer changes it (a new state, a finality reached), and a `dispute` event with the
 * number of pieces of evidence and decisions when a party or an arbiter adds one. One watch per trade
 * does the reads, whatever the number of streams following it; streams are capped per client and trade.
 */
export class TradeStreams {
  readonly #watches = new Map<string, Watch>();
  readonly #perClient = new Map<string, number>();
  #listening = false;

  constructor(private readonly deps: TradeStreamsDeps) {}

  /** Streams a trade to `res`; refuses with 404 for an unknown trade and 429 beyond the caps, before writing. */
  async open(listingId: string, client: string, res: Response): Promise<void> {
    const { maxPerClient, maxPerTrade } = this.deps.limits;
    const existing = this.#watches.get(listingId);
    if ((existing?.subscribers.size ?? 0) >= maxPerTrade) throw tooMany("streams-per-trade", maxPerTrade);
    if ((this.#perClient.get(client) ?? 0) >= maxPerClient) throw tooMany("streams-per-ip", maxPerClient);
    const watch = existing ?? (await this.#watch(listingId));
    this.#perClient.set(client, (this.#perClient.get(client) ?? 0) + 1);
    watch.subscribers.add(res);
    res.status(200);
    res.set({
      "Content-Type": "text/event-stream",
      "Cache-Control": "no-cache, no-transform",
      Connection: "keep-alive",
      "X-Accel-Buffering": "no",
    });
    res.flushHeaders();
    write(res, "trade", watch.trade);
    write(res, "dispute", watch.activity);
    res.on("close", () => {
      watch.subscribers.delete(res);
      const left = (this.#perClient.get(client) ?? 1) - 1;
      if (left > 0) this.#perClient.set(client, left);
      else this.#perClient.delete(client);
      if (watch.subscribers.size === 0 && this.#watches.get(listingId) === watch) this.#unwatch(watch);
    });
  }

  async #watch(listingId: string): Promise<Watch> {
    const [trade, activity] = await Promise.all([this.deps.read(listingId), this.deps.activity(listingId)]);
    const raced = this.#watches.get(listingId);
    if (raced) return raced;
    const watch: Watch = {
      listingId,
      subscribers: new Set(),
      trade: JSON.stringify(trade),
      activity: JSON.stringify(activity),
      queue: Promise.resolve(),
      unsubscribe: () => {},
      heartbeat: setInterval(() => {
        for (const res of watch.subscribers) res.write(": heartbeat\n\n");
      }, HEARTBEAT_MS),
    };
    this.#watches.set(listingId, watch);
    watch.unsubscribe = await this.deps.events.subscribe(listingId, () => this.#refreshActivity(watch));
    if (!this.#listening) {
      this.#listening = true;
      this.deps.feed.on("change", this.#onChange);
    }
    return watch;
  }

  readonly #onChange = (change: ChainChange) => {
    for (const watch of this.#watches.values()) {
      const relevant =
        change.kind === "heads" || change.truncated || change.keys.listingIds.includes(watch.listingId);
      if (relevant) this.#refreshTrade(watch);
    }
  };

  #refreshTrade(watch: Watch): void {
    this.#serially(watch, async () => {
      const trade = JSON.stringify(await this.deps.read(watch.listingId));
      if (trade === watch.trade) return;
      watch.trade = trade;
      for (const res of watch.subscribers) write(res, "trade", trade);
    });
  }

  #refreshActivity(watch: Watch): void {
    this.#serially(watch, async () => {
      const activity = JSON.stringify(await this.deps.activity(watch.listingId));
      if (activity === watch.activity) return;
      watch.activity = activity;
      for (const res of watch.subscribers) write(res, "dispute", activity);
    });
  }

  #serially(watch: Watch, work: () => Promise<void>): void {
    watch.queue = watch.queue
      .then(() => (this.#watches.get(watch.listingId) === watch ? work() : undefined))
      .catch((err: unknown) =>
        this.deps.logger.warn({ err, listingId: watch.listingId }, "trade stream update failed"),
      );
  }

  #unwatch(watch: Watch): void {
    this.#watches.delete(watch.listingId);
    clearInterval(watch.heartbeat);
    watch.unsubscribe();
    if (this.#watches.size === 0 && this.#listening) {
      this.#listening = false;
      this.deps.feed.off("change", this.#onChange);
    }
  }
}

function tooMany(rule: string, limit: number): AppError {
  return new AppError("TOO_MANY_STREAMS", 429, `too many open event streams (rule ${rule})`, { rule, limit });
}
