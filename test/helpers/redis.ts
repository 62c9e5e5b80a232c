import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

export interface TestRedis {
  redis: Redis;
  /** A key prefix no other test file uses. */
  prefix: string;
  /** Deletes every key under the prefix and disconnects. */
  cleanup(): Promise<void>;
}

/** A Redis connection and a unique key prefix for one test file. */
export async function createTestRedis(label: string): Promise<TestRedis> {
  const prefix = `test:${label}:${randomBytes(4).toString("hex")}`;
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  return {
    redis,
    prefix,
    async cleanup() {
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
        cursor = next;
        if (keys.length) await redis.del(...keys);
      } while (cursor !== "0");
      redis.disconnect();
    },
  };
}
