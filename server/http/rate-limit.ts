import type { ServerResponse } from "node:http";
import type { Request, RequestHandler } from "express";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { AppError } from "../errors.ts";

export interface RateLimitOptions {
  redis: Redis;
  prefix: string;
  /** Name of the rule, part of the key and of the error. */
  rule: string;
  limit: number;
  windowSeconds: number;
  key(req: Request): string;
  /** How often counts gathered in this process are added to the shared ones (default 200 ms). */
  syncMs?: number;
}

/** Share of the limit from which every request is counted in Redis before it is answered. */
const EXACT_FROM = 0.8;

interface Slot {
  window: number;
  /** The window's count in Redis as last seen by this process, its own flushed requests included. */
  shared: number;
  /** Requests let through here and not yet added to Redis. */
  pending: number;
}

/**
 * Fixed-window counts shared by every API process through Redis. Far below the limit a request is
 * counted in memory and the counts reach Redis in one pipeline every `syncMs`, so the hot path costs
 * no round trip; from 80 % of the limit on, each request is counted in Redis before it is answered,
 * so the refusal itself is exact (other processes may add at most one sync period of their own
 * traffic on top).
 */
export class SharedWindowCounter {
  readonly #slots = new Map<string, Slot>();
  #timer: NodeJS.Timeout | null = null;
  #flushing: Promise<void> | null = null;

  constructor(
    private readonly options: Pick<
      RateLimitOptions,
      "redis" | "prefix" | "rule" | "limit" | "windowSeconds"
    > & {
      syncMs: number;
    },
  ) {}

  /** Counts one request for `id` and returns the window's count including it. */
  async hit(id: string, nowMs = Date.now()): Promise<number> {
    const window = Math.floor(nowMs / 1000 / this.options.windowSeconds);
    let slot = this.#slots.get(id);
    if (!slot || slot.window !== window) {
      slot = { window, shared: 0, pending: 0 };
      this.#slots.set(id, slot);
    }
    const estimate = slot.shared + slot.pending + 1;
    if (estimate <= this.options.limit * EXACT_FROM) {
      slot.pending += 1;
      this.#schedule();
      return estimate;
    }
    const add = slot.pending + 1;
    slot.pending = 0;
    let counts: number[];
    try {
      counts = await this.#add([{ id, window, amount: add }]);
    } catch (err) {
      slot.pending += add - 1;
      throw err;
    }
    const count = counts[0]!;
    if (slot.window === window) slot.shared = Math.max(slot.shared, count);
    return count;
  }

  /** Adds every pending count to Redis now. */
  async flush(): Promise<void> {
    while (this.#flushing) await this.#flushing;
    this.#flushing = this.#flushPending().finally(() => (this.#flushing = null));
    await this.#flushing;
  }

  /** Flushes what is pending and stops the timer. */
  async close(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.flush();
  }

  /** Adds each amount to its window's count in Redis, in one round trip; returns the new counts. */
  async #add(increments: { id: string; window: number; amount: number }[]): Promise<number[]> {
    const pipeline = this.options.redis.pipeline();
    for (const { id, window, amount } of increments) {
      const key = `${this.options.prefix}:ratelimit:${this.options.rule}:${id}:${window}`;
      pipeline.incrby(key, amount).expire(key, this.options.windowSeconds + 1);
    }
    const results = (await pipeline.exec())!;
    return increments.map((_, i) => {
      const [err, count] = results[i * 2]!;
      if (err) throw err;
      return count as number;
    });
  }

  #schedule(): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.flush().catch(() => this.#schedule());
    }, this.options.syncMs);
    this.#timer.unref();
  }

  async #flushPending(): Promise<void> {
    const current = Math.floor(Date.now() / 1000 / this.options.windowSeconds);
    const batch: { slot: Slot; id: string; amount: number }[] = [];
    for (const [id, slot] of this.#slots) {
      if (slot.window < current - 1) this.#slots.delete(id);
      if (slot.pending === 0) continue;
      batch.push({ slot, id, amount: slot.pending });
      slot.pending = 0;
    }
    if (batch.length === 0) return;
    try {
      const counts = await this.#add(
        batch.map(({ slot, id, amount }) => ({ id, window: slot.window, amount })),
      );
      batch.forEach(({ slot }, i) => (slot.shared = Math.max(slot.shared, counts[i]!)));
    } catch (err) {
      for (const { slot, amount } of batch) slot.pending += amount;
      throw err;
    }
  }
}

/**
 * Fixed-window limit shared by every API process (see SharedWindowCounter). Answers 429 with
 * Retry-After and RateLimit headers once `limit` requests arrived in the window.
 */
export class RateLimit {
  readonly #counter: SharedWindowCounter;

  constructor(private readonly options: RateLimitOptions) {
    this.#counter = new SharedWindowCounter({ ...options, syncMs: options.syncMs ?? 200 });
  }

  /**
   * Counts one request of the client `key` and sets the RateLimit headers on `res`; past the limit,
   * also Retry-After, and throws the 429 (logged through `log`).
   */
  async admit(key: string, res: ServerResponse, log: () => Logger): Promise<void> {
    const { limit, windowSeconds, rule } = this.options;
    const count = await this.#counter.hit(key);
    const resetIn = windowSeconds - (Math.floor(Date.now() / 1000) % windowSeconds);
    res.setHeader("RateLimit-Limit", limit);
    res.setHeader("RateLimit-Remaining", Math.max(0, limit - count));
    res.setHeader("RateLimit-Reset", resetIn);
    if (count <= limit) return;
    res.setHeader("Retry-After", resetIn);
    log().warn({ rule, key, count }, "rate limit refused a request");
    throw new AppError("RATE_LIMITED", 429, `too many requests (rule ${rule}); retry in ${resetIn} s`, {
      rule,
      limit,
      windowSeconds,
      retryAfterSeconds: resetIn,
    });
  }

  /** Adds what this process counted to Redis and stops its timer. */
  close(): Promise<void> {
    return this.#counter.close();
  }

  /** The limit as Express middleware, counting clients by `options.key`. */
  middleware(): RequestHandler {
    return async (req, res, next) => {
      await this.admit(this.options.key(req), res, () => req.log);
      next();
    };
  }
}
