/**
 * What a mail template is — a data schema and a renderer of subject, text, HTML and attachments —
 * and the HTML helpers every template renders with: `html` escapes whatever it interpolates, so a
 * hostile work title or reason shows as text and never as markup.
 */
import type { z } from "zod";

/** What a template knows of the platform when it renders (from the configuration). */
export interface MailContext {
  platform: {
    name: string;
    postalAddress: string | null;
    taxId: string | null;
    /** Where the web app is served, for links. */
    publicUrl: string;
  };
  /** The token of a claim link (an HMAC under CLAIM_KEY), which no table holds. */
  claimToken(claimId: string): string;
}

export interface MailAttachment {
  filename: string;
  contentType: string;
  content: Buffer;
}

/** A mail ready to compose. */
export interface RenderedMail {
  subject: string;
  text: string;
  html: SafeHtml;
  attachments: MailAttachment[];
}

/** A template: the data a mail of it records, and how it renders. Rendering is pure: same data, same mail. */
export interface MailTemplateDefinition<S extends z.ZodType = z.ZodType> {
  data: S;
  render(data: z.output<S>, ctx: MailContext): RenderedMail | Promise<RenderedMail>;
}

/** Declares a template, keeping its data type for `render`. */
export function defineTemplate<S extends z.ZodType>(
  template: MailTemplateDefinition<S>,
): MailTemplateDefinition<S> {
  return template;
}

/** HTML that is already safe: escaped, or written by a template. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function fragment(value: unknown): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(fragment).join("");
  if (value === null || value === undefined || value === false) return "";
  return escapeHtml(String(value));
}

/** A tagged template for HTML: every interpolated value is escaped unless it is `SafeHtml` (or a list of it). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  return new SafeHtml(
    strings.reduce((out, s, i) => out + s + (i < values.length ? fragment(values[i]) : ""), ""),
  );
}

/** Text for one header line: control characters (CR, LF, NUL, …) become spaces, at most `max` characters. */
export function oneLine(text: string, max = 200): string {
  const flat = [...text]
    .map((c) => (c.charCodeAt(0) < 0x20 || c === "\u007f" || c === "\u2028" || c === "\u2029" ? " " : c))
    .join("")
    .replace(/ {2,}/g, " ")
    .trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** An amount in a currency's minor units, formatted (1520 usd as `$15.20`). */
export function formatMoney(minor: string | number, currency: string): string {
  const format = new Intl.NumberFormat("en", { style: "currency", currency: currency.toUpperCase() });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(Number(minor) / 10 ** digits);
}

/** A UTC date and time as mails show it. */
export function formatTime(iso: string): string {
  return `${new Date(iso).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** The page every mail's HTML sits in: the platform's name, the body, the platform's details at the foot. */
export function layout(ctx: MailContext, title: string, body: SafeHtml): SafeHtml {
  const { platform } = ctx;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title}</title>
      </head>
      <body
        style="margin:0;padding:24px 12px;background:#f6f6f4;color:#1a1a1a;font:16px/1.5 system-ui,sans-serif"
      >
        <div style="max-width:560px;margin:0 auto;background:#ffffff;border-radius:8px;padding:24px 28px">
          <p style="margin:0 0 16px;color:#1f4e79;font-weight:600">${platform.name}</p>
          <h1 style="font-size:20px;margin:0 0 16px">${title}</h1>
          ${body}
          <p style="margin:24px 0 0;color:#5b6676;font-size:13px">
            ${platform.name}${platform.postalAddress ? html` · ${platform.postalAddress}` : ""}${platform.taxId ? html` · ${platform.taxId}` : ""}
          </p>
        </div>
      </body>
    </html>`;
}

/** Label and value rows as a two-column table; `preWrap` keeps the values' line breaks (free text). */
export function factTable(rows: [string, string][], { preWrap = false } = {}): SafeHtml {
  const wrap = preWrap ? ";white-space:pre-wrap" : "";
  return html`<table style="border-collapse:collapse;width:100%">
    ${rows.map(
      ([label, value]) =>
        html`<tr>
          <th style="text-align:left;padding:4px 12px 4px 0;vertical-align:top;font-weight:600">${label}</th>
          <td style="padding:4px 0;overflow-wrap:anywhere${wrap}">${value}</td>
        </tr>`,
    )}
  </table>`;
}
