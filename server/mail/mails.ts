/**
 * Mail, recorded with the change that calls for it: `recordMail` writes the mail and its send job in
 * the caller's transaction (the job is queued after commit through the outbox, as every job is), and
 * the `send-mail` job hands it to SMTP once (see jobs/send-mail.ts for how "once" holds).
 */
import type { PoolClient } from "pg";
import { emailAddressSchema } from "../../lib/api/mail.ts";
import { AppError } from "../errors.ts";
import { outboxJobs, recordJobsSql, type OutboxJob } from "../queues/outbox.ts";
import { MAIL_JOB_PREFIX, QUEUE_NAMES } from "../queues/queues.ts";
import { MAIL_TEMPLATES, isMailTemplate, type MailTemplate } from "./templates/index.ts";

export type { MailTemplate } from "./templates/index.ts";

/** A mail to record. */
export interface NewMail {
  /** What makes the mail unique (`receipt:<orderId>`): a second mail with the same key is not recorded. */
  key: string;
  to: string;
  template: MailTemplate;
  /** The template's data; checked against its schema now, rendered when sent. */
  data: Record<string, unknown>;
}

/**
 * Records `mail` in the caller's transaction with its send job, and answers the jobs for the caller
 * to `outbox.deliver` after commit (none when a mail with this key exists). An address that is not
 * one mailbox is refused with 400 MAIL_ADDRESS_INVALID.
 */
export async function recordMail(client: PoolClient, mail: NewMail): Promise<OutboxJob[]> {
  const to = emailAddressSchema.safeParse(mail.to);
  if (!to.success) {
    throw new AppError("MAIL_ADDRESS_INVALID", 400, "not an email address a mail can be sent to", {
      problems: to.error.issues.map((i) => i.message),
    });
  }
  if (!isMailTemplate(mail.template)) throw new Error(`unknown mail template ${String(mail.template)}`);
  const data: unknown = MAIL_TEMPLATES[mail.template].data.parse(mail.data);
  const { rows } = await client.query<{ outbox_jobs: OutboxJob[] }>(
    `WITH mail AS (
       INSERT INTO mails (key, recipient, template, data) VALUES ($1, $2, $3, $4)
       ON CONFLICT (key) DO NOTHING RETURNING id
     ), jobs AS (
       ${recordJobsSql(`SELECT $5, $6 || id::text, jsonb_build_object('mailId', id::text) FROM mail`)}
     )
     SELECT ${outboxJobs("jobs")}`,
    [mail.key, to.data, mail.template, JSON.stringify(data), QUEUE_NAMES.sendMail, MAIL_JOB_PREFIX],
  );
  return rows[0]!.outbox_jobs;
}
