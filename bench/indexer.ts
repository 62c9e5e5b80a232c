/**
 * Indexer benchmark: `npm run bench:indexer [-- --events 20000] [-- --live-seconds 10] [-- --runs 3]`.
 *
 * A worker thread runs a Hardhat chain with the contracts deployed and fills it with at least
 * `--events` (default 100,000) events — registrations, license purchases, license transfers and
 * escrow trades — served over HTTP JSON-RPC. This thread then times a cold backfill into an empty
 * PostgreSQL database and measures the live lag (block mined → its change notification received,
 * i.e. its rows committed) while 20 transactions per second are sent, `--runs` times (each into a
 * new database), and reports the median and the range. Writes bench/results/indexer.json.
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import pg from "pg";
import { pino } from "pino";
import { chainChangesChannel, parseChainChange } from "../lib/chain-changes.ts";
import { deploymentSchema } from "../lib/deployment.ts";
import { loadConfig } from "../indexer/config.ts";
import { createIndexer } from "../indexer/create-indexer.ts";
import { FetchJsonRpcProvider } from "../lib/fetch-json-rpc-provider.ts";
import { startChainWorker } from "./lib/chain-worker.ts";
import { report } from "./lib/report.ts";

const LIVE_TX_PER_SECOND = 20;

function argument(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const raw = i >= 0 ? process.argv[i + 1] : undefined;
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0)
    throw new Error(`--${name} must be a positive integer, got "${raw}"`);
  return value;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1)))] ?? Number.NaN;
}

const now = () => performance.timeOrigin + performance.now();
const targetEvents = argument("events", 100_000);
const liveSeconds = argument("live-seconds", targetEvents >= 100_000 ? 30 : 10);
const runs = argument("runs", 3);
const adminUrl = process.env.BENCH_DATABASE_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

console.log(`generating ≥ ${targetEvents.toLocaleString("en-US")} events…`);
const chain = await startChainWorker(targetEvents);
const ready = chain.ready;
const deployment = deploymentSchema.parse(ready.deployment);
console.log(
  `generated ${ready.rounds} trading rounds in ${ready.blocks} blocks in ${ready.generateSeconds.toFixed(1)} s`,
);

const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
const provider = new FetchJsonRpcProvider(ready.url);
const mined = new Map<number, number>();
chain.listen((message) => {
  if (message.type === "mined") mined.set(message.block, message.at);
});

interface Run {
  events: number;
  backfillSeconds: number;
  lags: number[];
}

/** One cold backfill into an empty database, then the live lag while transactions keep coming. */
async function run(): Promise<Run> {
  const dbName = `bench_indexer_${randomBytes(4).toString("hex")}`;
  await admin.query(`CREATE DATABASE ${dbName}`);
  const dbUrl = new URL(adminUrl);
  dbUrl.pathname = `/${dbName}`;
  const db = new pg.Pool({ connectionString: dbUrl.toString(), max: 4 });
  db.on("error", () => undefined);
  const prefix = `bench-${randomBytes(4).toString("hex")}`;
  const redis = new Redis(redisUrl);
  const subscriber = new Redis(redisUrl);
  const config = loadConfig({
    DATABASE_URL: dbUrl.toString(),
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    CHAIN_RPC_URL: ready.url,
    INDEXER_FINALITY: "depth",
    LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
  });
  const logger = pino({ name: "indexer", level: config.logLevel });
  const indexer = createIndexer({ config, db, redis, provider, deployment, logger });
  try {
    // --- cold backfill ---
    await indexer.ready();
    const backfillStarted = performance.now();
    await indexer.syncToHead();
    const backfillSeconds = (performance.now() - backfillStarted) / 1000;
    const { rows } = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM chain_events");
    const events = rows[0]!.n;
    console.log(`backfilled ${events.toLocaleString("en-US")} events in ${backfillSeconds.toFixed(2)} s`);

    // --- live: lag from each block being mined to the notification of its commit ---
    const notifiedAt = new Map<number, number>();
    await subscriber.subscribe(chainChangesChannel(prefix));
    subscriber.on("message", (_channel: string, message: string) => {
      const at = now();
      const change = parseChainChange(message);
      if (change?.kind !== "indexed") return;
      for (let b = change.fromBlock; b <= change.toBlock; b++) if (!notifiedAt.has(b)) notifiedAt.set(b, at);
    });
    mined.clear();
    const following = indexer.run();
    chain.tell({ type: "live", seconds: liveSeconds, txPerSecond: LIVE_TX_PER_SECOND });
    await chain.next("liveDone");
    const lastBlock = Math.max(...mined.keys());
    while (!notifiedAt.has(lastBlock)) await new Promise((resolve) => setTimeout(resolve, 20));
    await indexer.stop();
    await following;
    const lags = [...mined].map(([block, at]) => notifiedAt.get(block)! - at).sort((a, b) => a - b);
    return { events, backfillSeconds, lags };
  } finally {
    await indexer.stop();
    subscriber.disconnect();
    redis.disconnect();
    await db.end();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  }
}

try {
  const results: Run[] = [];
  for (let i = 1; i <= runs; i++) {
    console.log(`run ${i} of ${runs}`);
    results.push(await run());
  }
  const rates = results.map((r) => Math.round(r.events / r.backfillSeconds));
  const p50s = results.map((r) => Number(percentile(r.lags, 0.5).toFixed(1)));
  const p99s = results.map((r) => Number(percentile(r.lags, 0.99).toFixed(1)));
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const blocks = results.reduce((sum, r) => sum + r.lags.length, 0);
  await report(
    "indexer",
    {
      runs,
      events: results[0]!.events,
      backfillEventsPerSec: median(rates),
      backfillEventsPerSecMin: Math.min(...rates),
      backfillEventsPerSecMax: Math.max(...rates),
      liveLagP50Ms: median(p50s),
      liveLagP99Ms: median(p99s),
      liveLagP99MsMin: Math.min(...p99s),
      liveLagP99MsMax: Math.max(...p99s),
    },
    {
      events: `in ${ready.blocks} blocks, each run a cold backfill into an empty database`,
      backfillEventsPerSec: "median of the runs; target ≥ 15,000",
      liveLagP99Ms: `median of the runs; target ≤ 150; ${blocks} blocks at ${LIVE_TX_PER_SECOND} tx/s for ${liveSeconds} s per run`,
    },
  );
} finally {
  await admin.end();
  provider.destroy();
  await chain.stop();
}
