/**
 * Every mail template by name. A new kind of mail is one file in this folder (`defineTemplate`)
 * and one line here.
 */
import type { z } from "zod";
import { claimLink } from "./claim-link.ts";
import { expiryReminder } from "./expiry-reminder.ts";
import { receipt } from "./receipt.ts";
import { refundDecision } from "./refund-decision.ts";

export const MAIL_TEMPLATES = {
  receipt,
  "refund-decision": refundDecision,
  "claim-link": claimLink,
  "expiry-reminder": expiryReminder,
};

/** The name of a mail template. */
export type MailTemplate = keyof typeof MAIL_TEMPLATES;

/** The data a mail of `T` records. */
export type MailData<T extends MailTemplate> = z.input<(typeof MAIL_TEMPLATES)[T]["data"]>;

export function isMailTemplate(name: string): name is MailTemplate {
  return Object.hasOwn(MAIL_TEMPLATES, name);
}
