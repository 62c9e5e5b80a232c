/** A recorded mail as the message handed to SMTP: rendered by its template, composed by nodemailer. */
import { createHash } from "node:crypto";
import MailComposer from "nodemailer/lib/mail-composer";
import type { MailRow } from "./mail-store.ts";
import type { MailContext, MailTemplateDefinition } from "./template.ts";
import { MAIL_TEMPLATES, isMailTemplate } from "./templates/index.ts";

/** Who mail comes from. */
export interface MailSender {
  name: string;
  address: string;
}

/**
 * The Message-ID of the mail with `key`: the same whoever sends it and however often, so a repeat
 * is recognisable downstream and an operator can look the mail up in the SMTP server's log.
 */
export function messageIdOf(key: string, from: MailSender): string {
  const domain = from.address.slice(from.address.lastIndexOf("@") + 1);
  return `<${createHash("sha256").update(key).digest("hex").slice(0, 32)}@${domain}>`;
}

/** Renders `mail` with its template and composes the whole message. */
export async function composeMail(
  mail: MailRow,
  from: MailSender,
  ctx: MailContext,
): Promise<{ messageId: string; raw: Buffer }> {
  if (!isMailTemplate(mail.template)) throw new Error(`unknown mail template ${mail.template}`);
  const template: MailTemplateDefinition = MAIL_TEMPLATES[mail.template];
  const rendered = await template.render(template.data.parse(mail.data), ctx);
  const messageId = messageIdOf(mail.key, from);
  const raw = await new MailComposer({
    from: { name: from.name, address: from.address },
    to: mail.recipient,
    subject: rendered.subject,
    text: rendered.text,
    html: rendered.html.value,
    attachments: rendered.attachments.map((a) => ({
      filename: a.filename,
      contentType: a.contentType,
      content: a.content,
    })),
    messageId,
    date: mail.createdAt,
  })
    .compile()
    .build();
  return { messageId, raw };
}
