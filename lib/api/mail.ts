/** Mail on the wire: a buyer's email address, and the mail the development stack's SMTP catcher caught. */
import { z } from "zod";

/**
 * An email address a mail may go to: one mailbox, no display name, no line breaks (nothing that
 * could add a header or a recipient); parsed to its trimmed form with the domain in lower case.
 */
export const emailAddressSchema = z
  .string()
  .trim()
  .max(254, "must be at most 254 characters")
  .pipe(z.email("must be an email address"))
  .transform((v) => {
    const at = v.lastIndexOf("@");
    return `${v.slice(0, at)}@${v.slice(at + 1).toLowerCase()}`;
  })
  .meta({ example: "buyer@example.com" });

/** One mail the development stack's SMTP catcher caught, as listed. */
export const caughtMailSummarySchema = z.object({
  id: z.string(),
  receivedAt: z.string(),
  from: z.string(),
  to: z.array(z.string()),
  subject: z.string(),
  messageId: z.string().nullable(),
  attachments: z.array(z.object({ filename: z.string(), contentType: z.string(), size: z.number() })),
});

/** One caught mail with its bodies. */
export const caughtMailSchema = caughtMailSummarySchema.extend({
  text: z.string(),
  html: z.string().nullable(),
});

export const caughtMailListSchema = z.object({ mails: z.array(caughtMailSummarySchema) });

export type CaughtMailSummary = z.infer<typeof caughtMailSummarySchema>;
export type CaughtMail = z.infer<typeof caughtMailSchema>;
export type CaughtMailList = z.infer<typeof caughtMailListSchema>;
