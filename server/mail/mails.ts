/**
 * Mail, recorded with the change that calls for it: `recordMail` writes the mail and its send job in
 * the caller's transaction (the job is queued after commit through the outbox, as every job is), and
 * the `send-mail` job hands it to SMTP once (see jobs/send-mail.ts for how "once" holds).
 */
import type { Pool, PoolClient } from "pg";
import { withTransaction } from "../../lib/transaction.ts";
import { emailAddressSchema } from "../../lib/api/mail.ts";
import { AppError } from "../errors.ts";
import { outboxJobs, recordJobs, recordJobsSql, type Outbox, type OutboxJob } from "../queues/outbox.ts";
import { MAIL_JOB_PREFIX, QUEUE_NAMES } from "../queues/queues.ts";
import type { MailState } from "./mail-store.ts";
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

/** An operator's word on a mail `npm run stuck` listed (see scripts/mail.ts). */
export type MailDecision = "sent" | "resend";

/**
 * Settles the mail with `key`, one that needs an operator. `sent`: an `unconfirmed` mail the SMTP
 * server's log shows it accepted becomes `sent`. `resend`: an `unconfirmed` or `failed` mail goes
 * back to `pending` with its attempts counted afresh, and a send job of its own is queued (the
 * mail's first job id stays taken for a while); it keeps its Message-ID, so a copy that did arrive
 * is recognizably the same. Answers the mail's state before, or null for an unknown key; a mail in
 * any other state is left as it is and refused with 409 MAIL_NOT_SETTLEABLE.
 */
export async function settleMail(
  deps: { db: Pool; outbox: Outbox },
  key: string,
  decision: MailDecision,
): Promise<MailState | null> {
  const settled = await withTransaction(deps.db, async (client) => {
    const { rows } = await client.query<{ id: string; state: MailState }>(
      `SELECT id::text, state FROM mails WHERE key = $1 FOR UPDATE`,
      [key],
    );
    const mail = rows[0];
    if (!mail) return null;
    const allowed = decision === "sent" ? ["unconfirmed"] : ["unconfirmed", "failed"];
    if (!allowed.includes(mail.state)) {
      throw new AppError(
        "MAIL_NOT_SETTLEABLE",
        409,
        `mail ${key} is ${mail.state}, not ${allowed.join(" or ")}`,
        {
          state: mail.state,
        },
      );
    }
    if (decision === "sent") {
      await client.query(
        `UPDATE mails SET state = 'sent', smtp_response = 'confirmed by an operator from the SMTP log',
                lease_until = NULL, sent_at = now(), updated_at = now()
          WHERE id = $1`,
        [mail.id],
      );
      return { state: mail.state, jobs: [] };
    }
    await client.query(
      `UPDATE mails SET state = 'pending', attempts = 0, error = NULL, lease_until = NULL, updated_at = now()
        WHERE id = $1`,
      [mail.id],
    );
    const jobs = await recordJobs(client, [
      {
        queue: QUEUE_NAMES.sendMail,
        jobId: `${MAIL_JOB_PREFIX}${mail.id}-resend-${Date.now()}`,
        data: { mailId: mail.id },
      },
    ]);
    return { state: mail.state, jobs };
  });
  if (!settled) return null;
  await deps.outbox.deliver(settled.jobs);
  return settled.state;
}
