import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { chainChangesChannel, type ChainChange } from "../lib/chain-changes.ts";

/** Announces committed changes to API processes. */
export interface ChangePublisher {
  /** Publishes without waiting; a failure is logged, since notifications are only hints. */
  publish(change: ChainChange): void;
}

/** Publishes on `<prefix>chain:changes`. */
export function createChangePublisher(redis: Redis, prefix: string, logger: Logger): ChangePublisher {
  const channel = chainChangesChannel(prefix);
  return {
    publish(change) {
      redis.publish(channel, JSON.stringify(change)).catch((error: unknown) => {
        logger.warn({ err: error, kind: change.kind }, "could not publish a change notification");
      });
    },
  };
}
