/**
 * The `send-mail` job: hands one recorded mail to SMTP, exactly once under retries, duplicate jobs
 * and workers killed at any moment. SMTP cannot be asked afterwards whether it took a message, so:
 * - the mail is marked `sending` (committed, with a lease) only once the server took DATA and before
 *   the first byte of the message goes out, by a guarded UPDATE that one worker alone wins;
 * - anything failing before that (connection refused, greeting, login, envelope) sent nothing: the
 *   mail stays `pending` and the job retries with backoff;
 * - the server's refusal of the message returns it to `pending` (4xx) or fails it (5xx);
 * - a mail found `sending` past its lease, or whose connection broke after the body started, may
 *   have been accepted: it is marked `unconfirmed`, never sent again on its own, and listed by
 *   `npm run stuck` for an operator to look up by its Message-ID;
 * - the lease outlasts the longest hand-over (the SMTP timeout), so a live sender always finishes
 *   before anyone else judges its mail.
 */
import type { Logger } from "pino";
import { noCrashes, type Checkpoint } from "../../crash-points.ts";
import { DeferredError, PermanentError } from "../../errors.ts";
import { RECOVERY_KINDS, type Recoveries } from "../../recoveries.ts";
import { composeMail, type MailSender } from "../compose.ts";
import type { MailState, MailStore } from "../mail-store.ts";
import { SmtpError, type SmtpSender } from "../smtp.ts";
import type { MailContext } from "../template.ts";

export interface SendMailDeps {
  mails: MailStore;
  smtp: SmtpSender;
  from: MailSender;
  context: MailContext;
  /** How long a hand-over may take; the lease of a `sending` mail is this and a margin. */
  sendTimeoutMs: number;
  logger: Logger;
  recoveries: Recoveries;
  checkpoint?: Checkpoint;
}

/** Beyond the SMTP timeout, for the sender to write its outcome. */
const LEASE_MARGIN_MS = 5_000;

/** Another worker won the mail between this one's read and its claim. */
class ClaimLost extends Error {}

/**
 * Sends mail `mailId` if it is pending; answers the state it leaves it in. Throws to retry (the
 * server was unreachable or refused for now); `finalAttempt` fails the mail instead of leaving it pending.
 */
export async function sendMail(
  deps: SendMailDeps,
  mailId: string,
  options: { finalAttempt: boolean },
): Promise<{ state: MailState }> {
  const { mails, logger } = deps;
  const checkpoint = deps.checkpoint ?? noCrashes;
  const mail = await mails.find(mailId);
  if (!mail) throw new PermanentError(`mail ${mailId} does not exist`);
  if (mail.state === "sending") {
    if (mail.leaseLeftMs !== null && mail.leaseLeftMs > 0) {
      throw new DeferredError("another worker is handing this mail over", Math.ceil(mail.leaseLeftMs) + 100);
    }
    const marked = await mails.markUnconfirmed(
      mailId,
      "the worker handing it over stopped before it recorded the server's answer",
      true,
    );
    if (marked) {
      deps.recoveries.record(
        RECOVERY_KINDS.unconfirmedMail,
        1,
        { mailId, messageId: mail.messageId },
        "a mail's sender died mid-hand-over: marked unconfirmed, not sent again",
      );
    }
    return { state: "unconfirmed" };
  }
  if (mail.state !== "pending") return { state: mail.state };

  const { messageId, raw } = await composeMail(mail, deps.from, deps.context);
  if (!(await mails.countAttempt(mailId))) return { state: (await mails.find(mailId))!.state };
  const leaseMs = deps.sendTimeoutMs + LEASE_MARGIN_MS;
  let response: string;
  try {
    response = await deps.smtp.deliver({ from: deps.from.address, to: mail.recipient, raw }, async () => {
      checkpoint("mail:before-send");
      if (!(await mails.claim(mailId, messageId, leaseMs))) throw new ClaimLost();
    });
  } catch (err) {
    if (!(err instanceof SmtpError)) throw err;
    if (err.cause instanceof ClaimLost) return { state: (await mails.find(mailId))!.state };
    if (err.outcome === "unknown") {
      await mails.markUnconfirmed(mailId, err.message, false);
      logger.warn({ mailId, messageId, err: err.message }, "mail hand-over broke off: marked unconfirmed");
      return { state: "unconfirmed" };
    }
    if (err.permanent || options.finalAttempt) {
      await mails.markFailed(mailId, err.message);
      throw new PermanentError(`mail ${mailId} refused: ${err.message}`, { cause: err });
    }
    if (err.outcome === "refused") await mails.release(mailId, err.message);
    throw err;
  }
  checkpoint("mail:after-send");
  await mails.markSent(mailId, response);
  return { state: "sent" };
}
