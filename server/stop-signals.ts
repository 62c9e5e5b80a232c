import type { Logger } from "pino";

/** How long a process may take to stop on SIGTERM: within it, it hands back its work; past it, it exits anyway. */
export const STOP_DEADLINE_MS = 9_000;

/**
 * Runs `stop` on the first SIGTERM or SIGINT, then exits 0; a stop that outlasts `deadlineMs`
 * (or fails) exits 1, logged. A second signal changes nothing.
 */
export function onStopSignals(
  logger: Logger,
  stop: () => Promise<void>,
  deadlineMs = STOP_DEADLINE_MS,
): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "stopping");
    const started = Date.now();
    setTimeout(() => {
      logger.error({ deadlineMs }, "did not stop in time; exiting anyway");
      process.exit(1);
    }, deadlineMs).unref();
    stop().then(
      () => {
        logger.info({ ms: Date.now() - started }, "stopped");
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, "failed to stop cleanly");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", handle);
  process.on("SIGINT", handle);
}
