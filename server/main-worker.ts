/**
 * `npm run worker`: BullMQ job consumers; run as many as needed, they share the relayer safely. On
 * SIGTERM the process stops taking jobs, lets running ones finish for a few seconds, hands the
 * rest back to their queues for the other workers, and exits within STOP_DEADLINE_MS.
 */
import { migrateServerSchema } from "./schema.ts";
import { loadConfigOrExit } from "./config.ts";
import { createRuntime } from "./runtime.ts";
import { onStopSignals } from "./stop-signals.ts";
import { startWorkers } from "./workers.ts";

const config = loadConfigOrExit();
const runtime = await createRuntime(config);
await migrateServerSchema(runtime.db);
const workers = await startWorkers({
  config,
  db: runtime.db,
  redis: runtime.redis,
  connection: runtime.redis,
  queues: runtime.queues,
  relayer: runtime.relayer,
  registry: runtime.registry,
  provider: runtime.provider,
  ipfs: runtime.ipfs,
  chainId: runtime.chainId,
  deployment: runtime.deployment,
  logger: runtime.logger,
  checkpoint: runtime.checkpoint,
});
runtime.logger.info("workers started");
onStopSignals(runtime.logger, async () => {
  await workers.close();
  await runtime.close();
});
