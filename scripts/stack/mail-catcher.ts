/**
 * The development stack's SMTP server: it accepts every message on a local port (no TLS, no login),
 * keeps the newest ones in memory, parsed, for the web app's /dev/mail and the tests to read. It
 * can also be told how to answer each message, so tests can refuse or lose one like a real server.
 */
import { simpleParser, type AddressObject } from "mailparser";
import { SMTPServer } from "smtp-server";
import type { CaughtMail, CaughtMailSummary } from "../../lib/api/mail.ts";

/** How the catcher answers the n-th message (1-based): keep it, refuse it, or keep it and never answer. */
export type CatcherAnswer = "accept" | { code: number; message: string } | "silent";

export interface MailCatcherOptions {
  /** 0 (default): any free port. */
  port?: number;
  /** Messages kept, newest first. */
  keep?: number;
  answer?: (n: number) => CatcherAnswer;
}

export interface MailCatcher {
  /** SMTP_URL for the server. */
  url: string;
  port: number;
  /** Caught mail, newest first. */
  list(): CaughtMailSummary[];
  get(id: string): CaughtMail | null;
  /** Every caught mail, oldest first, with its raw bytes. */
  all(): (CaughtMail & { raw: Buffer })[];
  /** Resolves when at least `count` mails were caught; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<(CaughtMail & { raw: Buffer })[]>;
  stop(): Promise<void>;
}

const MAX_MESSAGE_BYTES = 25 * 1024 * 1024;

function addresses(value: AddressObject | AddressObject[] | undefined): string[] {
  const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return list.flatMap((a) => a.value.map((v) => v.address ?? "")).filter(Boolean);
}

export async function startMailCatcher(options: MailCatcherOptions = {}): Promise<MailCatcher> {
  const keep = options.keep ?? 500;
  const caught: (CaughtMail & { raw: Buffer })[] = [];
  let received = 0;
  let nextId = 1;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["AUTH", "STARTTLS"],
    size: MAX_MESSAGE_BYTES,
    logger: false,
    // Connections a test left hanging do not hold the stop up for long.
    closeTimeout: 1_000,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("error", callback);
      stream.on("end", () => {
        received += 1;
        const answer = options.answer?.(received) ?? "accept";
        if (typeof answer === "object") {
          callback(Object.assign(new Error(answer.message), { responseCode: answer.code }));
          return;
        }
        const raw = Buffer.concat(chunks);
        simpleParser(raw).then(
          (parsed) => {
            caught.push({
              id: String(nextId++),
              receivedAt: new Date().toISOString(),
              from: parsed.from?.text ?? "",
              to: session.envelope.rcptTo
                .map((r) => r.address)
                .concat(addresses(parsed.to))
                .filter((v, i, all) => all.indexOf(v) === i),
              subject: parsed.subject ?? "",
              messageId: parsed.messageId ?? null,
              attachments: parsed.attachments.map((a) => ({
                filename: a.filename ?? "attachment",
                contentType: a.contentType,
                size: a.size,
              })),
              text: parsed.text ?? "",
              html: typeof parsed.html === "string" ? parsed.html : null,
              raw,
            });
            if (caught.length > keep) caught.shift();
            if (answer === "accept") callback(null, "queued as caught");
          },
          (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
        );
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  server.on("error", () => undefined);
  const address = server.server.address();
  const port = typeof address === "object" && address ? address.port : (options.port ?? 0);
  const summary = ({ text: _text, html: _html, raw: _raw, ...rest }: CaughtMail & { raw: Buffer }) => rest;
  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    list: () => [...caught].reverse().map(summary),
    get(id) {
      const found = caught.find((m) => m.id === id);
      if (!found) return null;
      const { raw: _raw, ...mail } = found;
      return mail;
    },
    all: () => [...caught],
    async waitFor(count, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (caught.length < count) {
        if (Date.now() > deadline)
          throw new Error(`${caught.length} of ${count} mails caught after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return [...caught];
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
