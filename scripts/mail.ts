/**
 * `npm run mail`: an operator's word on a mail `npm run stuck` listed. Reads DATABASE_URL,
 * REDIS_URL and REDIS_PREFIX as the server does.
 *   npm run mail -- --sent <key>     an unconfirmed mail the SMTP server's log shows it accepted
 *   npm run mail -- --resend <key>   an unconfirmed or failed mail, handed to SMTP once more (same Message-ID)
 * The key is the id `npm run stuck` lists the mail under (`receipt:<order id>`).
 * Exits 1 when the mail is unknown or not in a state the decision applies to.
 */
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import pg from "pg";
import pino from "pino";
import { configOrExit, loadOperatorConfig } from "../server/config.ts";
import { AppError } from "../server/errors.ts";
import { settleMail, type MailDecision } from "../server/mail/mails.ts";
import { Outbox } from "../server/queues/outbox.ts";
import { createQueues } from "../server/queues/queues.ts";
import { Recoveries } from "../server/recoveries.ts";

const { values } = parseArgs({ options: { sent: { type: "string" }, resend: { type: "string" } } });
const decisions = (["sent", "resend"] as const).filter((d) => values[d] !== undefined);
if (decisions.length !== 1 || values[decisions[0]!]!.length === 0) {
  console.error("usage: npm run mail -- --sent <mail key> | --resend <mail key>");
  process.exit(2);
}
const decision: MailDecision = decisions[0]!;
const key = values[decision]!;
const config = configOrExit(() => loadOperatorConfig());
const logger = pino({ level: "warn" });
const db = new pg.Pool({ connectionString: config.database.url, max: 2 });
const redis = new Redis(config.redis.url, { maxRetriesPerRequest: null });
const queues = createQueues(redis, config.redis.prefix);
const recoveries = new Recoveries(redis, config.redis.prefix, logger);
try {
  const before = await settleMail(
    { db, outbox: new Outbox({ db, queues, logger, recoveries }) },
    key,
    decision,
  );
  if (before === null) {
    console.error(`no mail ${key}`);
    process.exitCode = 1;
  } else {
    console.log(`mail ${key}: ${before} → ${decision === "sent" ? "sent" : "pending, queued to send again"}`);
  }
} catch (err) {
  if (!(err instanceof AppError)) throw err;
  console.error(err.message);
  process.exitCode = 1;
} finally {
  await queues.close();
  redis.disconnect();
  await db.end();
}
