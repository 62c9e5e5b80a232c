/** `npm run api`: the HTTP API. Configuration comes from environment variables (see README). */
import { migrateServerSchema } from "./schema.ts";
import { createApp } from "./app.ts";
import { loadConfigOrExit } from "./config.ts";
import { createRuntime } from "./runtime.ts";

const config = loadConfigOrExit();
const runtime = await createRuntime(config);
await migrateServerSchema(runtime.db);
await runtime.feed.start();
const app = createApp({
  config,
  db: runtime.db,
  redis: runtime.redis,
  chain: { provider: runtime.provider, chainId: runtime.chainId, deployment: runtime.deployment },
  ipfs: runtime.ipfs,
  queues: runtime.queues,
  feed: runtime.feed,
  logger: runtime.logger,
});
const server = app.listen(config.http.port, config.http.host, () => {
  runtime.logger.info({ url: config.http.publicUrl }, "API listening");
});
const stop = () => {
  server.close(() => void runtime.close().then(() => process.exit(0)));
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
