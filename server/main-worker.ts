/** `npm run worker`: BullMQ job consumers; run as many as needed, they share the relayer safely. */
import { migrateServerSchema } from "./schema.ts";
import { loadConfigOrExit } from "./config.ts";
import { createRuntime } from "./runtime.ts";
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
});
runtime.logger.info("workers started");
const stop = () => {
  void workers
    .close()
    .then(() => runtime.close())
    .then(() => process.exit(0));
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
