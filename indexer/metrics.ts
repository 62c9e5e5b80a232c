import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** How far a moving events/s figure looks back. */
const RATE_WINDOW_MS = 10_000;

/** The indexer's Prometheus metrics, on a registry of its own. */
export function createMetrics() {
  const registry = new Registry();
  const indexedBlock = new Gauge({
    name: "indexer_indexed_block",
    help: "Last block fully indexed",
    registers: [registry],
  });
  const headBlock = new Gauge({
    name: "indexer_head_block",
    help: "Chain head last seen",
    registers: [registry],
  });
  const lag = new Gauge({
    name: "indexer_lag_blocks",
    help: "Chain head minus last indexed block",
    registers: [registry],
  });
  const events = new Counter({
    name: "indexer_events_total",
    help: "Events committed",
    registers: [registry],
  });
  const recent: { at: number; count: number }[] = [];
  const forget = (now: number) => {
    while (recent.length > 0 && recent[0]!.at < now - RATE_WINDOW_MS) recent.shift();
  };
  new Gauge({
    name: "indexer_events_per_second",
    help: `Events committed per second over the last ${RATE_WINDOW_MS / 1000} s`,
    registers: [registry],
    collect() {
      forget(Date.now());
      this.set(recent.reduce((sum, r) => sum + r.count, 0) / (RATE_WINDOW_MS / 1000));
    },
  });
  const rangeSeconds = new Histogram({
    name: "indexer_range_seconds",
    help: "Time to fetch, apply and commit one block range",
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const reorgs = new Counter({
    name: "indexer_reorgs_total",
    help: "Reorgs rolled back",
    registers: [registry],
  });
  const skippedLogs = new Counter({
    name: "indexer_skipped_logs_total",
    help: "Logs not indexed, by reason",
    labelNames: ["reason"] as const,
    registers: [registry],
  });
  const quarantinedEvents = new Gauge({
    name: "indexer_quarantined_events",
    help: "Logs of followed contracts held in quarantine (undecodable, or rows PostgreSQL refused)",
    registers: [registry],
  });
  const errors = new Counter({
    name: "indexer_errors_total",
    help: "Failed steps that were retried, by kind",
    labelNames: ["kind"] as const,
    registers: [registry],
  });

  return {
    registry,
    skippedLogs,
    errors,
    reorgs,
    rangeSeconds,
    /** Records a committed range. */
    committed(toBlock: number, head: number, count: number, now = Date.now()): void {
      indexedBlock.set(toBlock);
      headBlock.set(head);
      lag.set(Math.max(0, head - toBlock));
      events.inc(count);
      recent.push({ at: now, count });
      forget(now);
    },
    /** Records how many logs are quarantined now. */
    quarantined(count: number): void {
      quarantinedEvents.set(count);
    },
    /** Records the head seen while idle. */
    head(head: number, indexed: number): void {
      headBlock.set(head);
      lag.set(Math.max(0, head - indexed));
    },
  };
}

export type IndexerMetrics = ReturnType<typeof createMetrics>;

/** Serves `GET /metrics` on `port` (0 picks a free one). */
export async function serveMetrics(
  registry: Registry,
  port: number,
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    if (req.method !== "GET" || req.url !== "/metrics") {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { "content-type": registry.contentType }).end(body),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "0.0.0.0", () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
