import type { Request, RequestHandler } from "express";
import type { Redis } from "ioredis";
import { AppError } from "../errors.ts";

export interface RateLimitOptions {
  redis: Redis;
  prefix: string;
  /** Name of the rule, part of the key and of the error. */
  rule: string;
  limit: number;
  windowSeconds: number;
  key(req: Request): string;
}

/**
 * Fixed-window limit kept in Redis, shared by every API process. Answers 429 with Retry-After and
 * RateLimit headers once `limit` requests arrived in the window.
 */
export function rateLimit(options: RateLimitOptions): RequestHandler {
  return async (req, res, next) => {
    const window = Math.floor(Date.now() / 1000 / options.windowSeconds);
    const key = `${options.prefix}:ratelimit:${options.rule}:${options.key(req)}:${window}`;
    const count = await options.redis.incr(key);
    // Only the window's first request sets its expiry: one round trip per request.
    if (count === 1) await options.redis.expire(key, options.windowSeconds + 1);
    const resetIn = options.windowSeconds - (Math.floor(Date.now() / 1000) % options.windowSeconds);
    res.setHeader("RateLimit-Limit", options.limit);
    res.setHeader("RateLimit-Remaining", Math.max(0, options.limit - count));
    res.setHeader("RateLimit-Reset", resetIn);
    if (count > options.limit) {
      res.setHeader("Retry-After", resetIn);
      req.log?.warn({ rule: options.rule, key: options.key(req), count }, "rate limit refused a request");
      throw new AppError(
        "RATE_LIMITED",
        429,
        `too many requests (rule ${options.rule}); retry in ${resetIn} s`,
        {
          rule: options.rule,
          limit: options.limit,
          windowSeconds: options.windowSeconds,
          retryAfterSeconds: resetIn,
        },
      );
    }
    next();
  };
}
