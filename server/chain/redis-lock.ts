import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";

const RELEASE = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;
const RENEW = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pexpire", KEYS[1], ARGV[2]) else return 0 end`;

export interface RedisLockOptions {
  /**
   * How long the lock outlives its holder. The holder renews it every third of this while it runs,
   * so a long turn keeps it, and a process that dies holding it blocks the others this long at most.
   */
  leaseMs?: number;
  /** How long `withLock` waits for the lock before giving up. */
  waitMs?: number;
}

/** The lock could not be taken in time: another holder is busy. Nothing was done. */
export class LockTimeoutError extends Error {
  constructor(key: string, waitMs: number) {
    super(`timed out after ${waitMs} ms waiting for lock ${key}`);
    this.name = "LockTimeoutError";
  }
}

/**
 * A mutex shared by every process through Redis (SET NX PX with an owner token), held on a short
 * renewed lease. A holder that stalls past its lease can lose the lock while still running, so what
 * the lock protects must also be fenced where it is written (the relayer's turns are).
 */
export class RedisLock {
  readonly #leaseMs: number;
  readonly #waitMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    options: RedisLockOptions = {},
  ) {
    this.#leaseMs = options.leaseMs ?? 3_000;
    this.#waitMs = options.waitMs ?? 60_000;
  }

  /** Runs `fn` while holding the lock; waits for it up to `waitMs`. */
  async withLock<T>(fn: () => Promise<T>): Promise<T> {
    const token = randomBytes(16).toString("hex");
    const deadline = Date.now() + this.#waitMs;
    let delay = 2;
    while ((await this.redis.set(this.key, token, "PX", this.#leaseMs, "NX")) !== "OK") {
      if (Date.now() > deadline) throw new LockTimeoutError(this.key, this.#waitMs);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 50);
    }
    const renewal = setInterval(() => {
      this.redis.eval(RENEW, 1, this.key, token, this.#leaseMs).catch(() => undefined);
    }, this.#leaseMs / 3);
    try {
      return await fn();
    } finally {
      clearInterval(renewal);
      await this.redis.eval(RELEASE, 1, this.key, token);
    }
  }
}
