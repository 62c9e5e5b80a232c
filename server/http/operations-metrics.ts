import type { Redis } from "ioredis";
import type { Pool } from "pg";
import { Gauge, type Registry } from "prom-client";
import type { Queues } from "../queues/queues.ts";
import { RECOVERY_KINDS, recoveryTotals } from "../recoveries.ts";
import { findStuckItems, type StuckKind, type StuckThresholds } from "../services/stuck-items.ts";

export interface OperationsMetricsDeps {
  db: Pool;
  redis: Redis;
  redisPrefix: string;
  queues: Queues;
  thresholds: StuckThresholds;
}

const STUCK_KINDS: StuckKind[] = [
  "order",
  "job",
  "relayer-transaction",
  "outbox",
  "batch-leaf",
  "booking",
  "settlement",
  "mail",
];

/**
 * The deployment's recoveries and stuck items, read when `/metrics` is scraped: every process adds
 * its recoveries to one count in Redis, and what is stuck is read from PostgreSQL and the queues.
 */
export function registerOperationsMetrics(metrics: Registry, deps: OperationsMetricsDeps): void {
  new Gauge({
    name: "rl_recoveries_total",
    help: "Recoveries after a process died or stopped, by kind, since the deployment began (a counter)",
    labelNames: ["kind"],
    registers: [metrics],
    async collect() {
      const totals = await recoveryTotals(deps.redis, deps.redisPrefix);
      for (const kind of Object.values(RECOVERY_KINDS)) this.set({ kind }, totals[kind]);
    },
  });
  new Gauge({
    name: "rl_stuck_items",
    help: "Orders, jobs, relayer transactions and outbox rows older than expected in their state (as `npm run stuck` lists them)",
    labelNames: ["kind"],
    registers: [metrics],
    async collect() {
      const items = await findStuckItems(deps, deps.thresholds);
      for (const kind of STUCK_KINDS) this.set({ kind }, items.filter((i) => i.kind === kind).length);
    },
  });
}
