import type { ConnectionOptions, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { Pool } from "pg";
import type { Logger } from "pino";
import type { Config } from "../config.ts";
import { noCrashes, type Checkpoint } from "../crash-points.ts";
import { closeWorkers, jobWorker } from "../jobs/job-worker.ts";
import { Outbox } from "../queues/outbox.ts";
import { QUEUE_NAMES, type Queues, type SendMailJob } from "../queues/queues.ts";
import { Recoveries } from "../recoveries.ts";
import { remindExpiries } from "./jobs/expiry-reminders.ts";
import { sendMail } from "./jobs/send-mail.ts";
import { MailStore } from "./mail-store.ts";
import { SmtpSender } from "./smtp.ts";
import type { MailContext } from "./template.ts";
import { claimToken } from "../orders/claim-tokens.ts";

export interface MailWorkerDeps {
  config: Pick<Config, "mail" | "platform" | "checkout" | "redis">;
  db: Pool;
  redis: Redis;
  connection: ConnectionOptions;
  logger: Logger;
  queues: Queues;
  /** The chain's time, which licenses expire by. */
  clock: { nowSeconds(): Promise<number> };
  /** Crash points the sender passes (tests only). */
  checkpoint?: Checkpoint;
}

export interface MailWorkers {
  close(graceMs?: number): Promise<void>;
}

/** Mails handed over at once by one worker process. */
const SEND_CONCURRENCY = 8;

/** What templates know of the platform, and the key claim links are derived under. */
export function mailContext(config: Pick<Config, "platform" | "checkout">): MailContext {
  const { claimKey } = config.checkout;
  return { platform: config.platform, claimToken: (claimId) => claimToken(claimKey, claimId) };
}

/**
 * Starts the expiry reminders (every EXPIRY_REMINDER_EVERY_SECONDS) and the consumer of `send-mail`
 * over SMTP_URL. Without SMTP_URL (allowed outside production) mail is recorded and waits in its
 * queue, and nothing is sent.
 */
export async function startMailWorkers(deps: MailWorkerDeps): Promise<MailWorkers> {
  const { config, db, redis, connection, queues, logger } = deps;
  const recoveries = new Recoveries(redis, config.redis.prefix, logger);
  const worker = { connection, redisPrefix: config.redis.prefix, logger, recoveries };
  const outbox = new Outbox({ db, queues, logger, recoveries });
  const reminders = { db, outbox, clock: deps.clock, days: config.mail.expiryReminderDays };
  const workers: Worker[] = [
    jobWorker(worker, QUEUE_NAMES.expiryReminders, 1, async () => remindExpiries(reminders)),
  ];
  await queues.expiryReminders.upsertJobScheduler(
    "expiry-reminders",
    { every: config.mail.expiryReminderEveryMs },
    { name: "expiry-reminders", data: {} },
  );
  const { smtp } = config.mail;
  if (!smtp) logger.warn("SMTP_URL is not set: mail is recorded but not sent");
  else {
    const send = {
      mails: new MailStore(db),
      smtp: new SmtpSender(smtp, config.mail.sendTimeoutMs),
      from: config.mail.from,
      context: mailContext(config),
      sendTimeoutMs: config.mail.sendTimeoutMs,
      logger,
      recoveries,
      checkpoint: deps.checkpoint ?? noCrashes,
    };
    workers.push(
      jobWorker<SendMailJob, unknown>(worker, QUEUE_NAMES.sendMail, SEND_CONCURRENCY, async (job) =>
        sendMail(send, job.data.mailId, { finalAttempt: job.attemptsMade + 1 >= (job.opts.attempts ?? 1) }),
      ),
    );
  }
  return { close: (graceMs) => closeWorkers(workers, graceMs) };
}
