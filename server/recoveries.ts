import type { Redis } from "ioredis";
import type { Logger } from "pino";

/** What the platform recovers from by itself after a process dies or stops; each is logged and counted. */
export const RECOVERY_KINDS = {
  /** A job whose worker died, put back in its queue by another worker's stalled-job check. */
  stalledJob: "stalled-job",
  /** A job a worker stopping on SIGTERM gave back to its queue for another worker. */
  handedBackJob: "handed-back-job",
  /** Jobs a process committed but died before queueing, queued by the outbox relay. */
  outboxRelayed: "outbox-relayed",
  /** The relayer derived its nonce again from the database and the chain (interrupted turn, conflict). */
  relayerResync: "relayer-resync",
  /** Transactions the relayer recorded but a dead process had not broadcast, broadcast again. */
  relayerRebroadcast: "relayer-rebroadcast",
  /** A mail found mid-hand-over past its lease: its sender died, so it was marked unconfirmed instead of sent again. */
  unconfirmedMail: "unconfirmed-mail",
} as const;

export type RecoveryKind = (typeof RECOVERY_KINDS)[keyof typeof RECOVERY_KINDS];

const key = (redisPrefix: string) => `${redisPrefix}:recoveries`;

/**
 * Counts recoveries where every process of the deployment adds to one total (the API's `/metrics`
 * reports it as `rl_recoveries_total`), and logs each at warn level.
 */
export class Recoveries {
  constructor(
    private readonly redis: Redis,
    private readonly redisPrefix: string,
    private readonly logger: Logger,
  ) {}

  record(kind: RecoveryKind, count: number, detail: Record<string, unknown>, message: string): void {
    this.logger.warn({ recovery: kind, count, ...detail }, message);
    this.redis.hincrby(key(this.redisPrefix), kind, count).catch((err: unknown) => {
      this.logger.warn({ err, recovery: kind }, "could not count a recovery");
    });
  }
}

/** Every recovery counted so far, by kind. */
export async function recoveryTotals(
  redis: Redis,
  redisPrefix: string,
): Promise<Record<RecoveryKind, number>> {
  const stored = await redis.hgetall(key(redisPrefix));
  const totals = {} as Record<RecoveryKind, number>;
  for (const kind of Object.values(RECOVERY_KINDS)) totals[kind] = Number(stored[kind] ?? 0);
  return totals;
}
