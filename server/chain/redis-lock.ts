import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";

const RELEASE = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;

/** A mutex shared by every process through Redis (SET NX PX with an owner token). */
export class RedisLock {
  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly ttlMs = 30_000,
    private readonly waitMs = 60_000,
  ) {}

  /** Runs `fn` while holding the lock; waits for it up to `waitMs`. */
  async withLock<T>(fn: () => Promise<T>): Promise<T> {
    const token = randomBytes(16).toString("hex");
    const deadline = Date.now() + this.waitMs;
    let delay = 2;
    while ((await this.redis.set(this.key, token, "PX", this.ttlMs, "NX")) !== "OK") {
      if (Date.now() > deadline) throw new Error(`timed out waiting for lock ${this.key}`);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 50);
    }
    try {
      return await fn();
    } finally {
      await this.redis.eval(RELEASE, 1, this.key, token);
    }
  }
}
