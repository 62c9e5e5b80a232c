/**
 * `npm run stuck`: what has been in its state longer than expected — orders, jobs, relayer
 * transactions, outbox rows — so nothing can be stuck silently. Reads DATABASE_URL, REDIS_URL,
 * REDIS_PREFIX and STUCK_AFTER_SECONDS as the server does. Exits 1 when anything is listed.
 *   npm run stuck [-- --json] [-- --all]   (--all: everything unfinished, however recent)
 */
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import pg from "pg";
import { configOrExit, loadOperatorConfig } from "../server/config.ts";
import { createQueues } from "../server/queues/queues.ts";
import { findStuckItems, PLATFORM_STEP_SECONDS } from "../server/services/stuck-items.ts";

const { values } = parseArgs({ options: { json: { type: "boolean" }, all: { type: "boolean" } } });
const config = configOrExit(() => loadOperatorConfig());
const db = new pg.Pool({ connectionString: config.database.url, max: 2 });
const redis = new Redis(config.redis.url, { maxRetriesPerRequest: null });
const queues = createQueues(redis, config.redis.prefix);
try {
  const thresholds = values.all
    ? { platformSeconds: 0, chainSeconds: 0 }
    : { platformSeconds: PLATFORM_STEP_SECONDS, chainSeconds: config.operations.stuckAfterSeconds };
  const items = await findStuckItems({ db, queues }, thresholds);
  if (values.json) console.log(JSON.stringify(items, null, 2));
  else if (items.length === 0) console.log("nothing stuck");
  else {
    const rows = items.map((i) => [i.kind, i.id, i.state, `${i.ageSeconds} s`, `${i.expectedSeconds} s`]);
    const header = ["kind", "id", "state", "in state", "expected"];
    const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
    for (const row of [header, ...rows])
      console.log(row.map((cell, c) => cell.padEnd(widths[c]!)).join("  "));
  }
  process.exitCode = items.length > 0 ? 1 : 0;
} finally {
  await queues.close();
  redis.disconnect();
  await db.end();
}
