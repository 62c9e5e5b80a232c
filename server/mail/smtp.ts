/**
 * Hands one message to the SMTP server, with nodemailer's SMTP connection, and says exactly how far
 * it got. The message's bytes are only read after the server took DATA, and `beforeBody` runs at
 * that moment, before the first byte: so any failure up to there certainly delivered nothing, a
 * refusal the server answers after the body delivered nothing either, and only a connection lost
 * after the body started leaves the outcome unknown (SMTP cannot be asked later).
 */
import { Readable } from "node:stream";
import SMTPConnection from "nodemailer/lib/smtp-connection";
import type { SmtpSettings } from "../config.ts";

/** Where a failed hand-over stopped. */
export type SmtpOutcome =
  /** Nothing of the message was sent: a connection, greeting, login, envelope or DATA failure. */
  | "not-sent"
  /** The server answered the message with a refusal (4xx or 5xx). */
  | "refused"
  /** The connection was lost (or timed out) after the body started: it may have been accepted. */
  | "unknown";

export class SmtpError extends Error {
  constructor(
    message: string,
    readonly outcome: SmtpOutcome,
    /** The server's reply code, when it answered (5xx: never worth trying again). */
    readonly responseCode: number | null,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "SmtpError";
  }

  /** Whether trying again cannot help: the server refused for good (5xx). */
  get permanent(): boolean {
    return this.responseCode !== null && this.responseCode >= 500;
  }
}

export interface OutgoingMessage {
  from: string;
  to: string;
  /** The whole RFC 5322 message. */
  raw: Buffer;
}

interface NodemailerErrorLike {
  message?: string;
  responseCode?: number;
}

function replyCode(err: unknown): number | null {
  const code = (err as NodemailerErrorLike | null)?.responseCode;
  return typeof code === "number" && code >= 400 && code < 600 ? code : null;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** One SMTP server, reached afresh for every message (mail is rare; a pool would only hold sockets). */
export class SmtpSender {
  constructor(
    private readonly settings: SmtpSettings,
    /** How long one hand-over may take in all; past it the connection is dropped. */
    private readonly timeoutMs: number,
  ) {}

  /**
   * Delivers `message`, calling `beforeBody` once the server took DATA and before any byte of the
   * message goes out (a rejection there sends nothing). Resolves with the server's reply; rejects
   * with an SmtpError naming the outcome.
   */
  async deliver(message: OutgoingMessage, beforeBody: () => Promise<void>): Promise<string> {
    const { settings } = this;
    const connection = new SMTPConnection({
      host: settings.host,
      port: settings.port,
      secure: settings.secure,
      requireTLS: settings.requireTLS,
      connectionTimeout: this.timeoutMs,
      greetingTimeout: this.timeoutMs,
      socketTimeout: this.timeoutMs,
      socketCloseTimeout: 0,
    });
    let bodyAsked = false;
    let bodyStarted = false;
    const failure = (err: unknown): SmtpError => {
      if (err instanceof SmtpError) return err;
      const code = replyCode(err);
      const outcome: SmtpOutcome = !bodyStarted ? "not-sent" : code !== null ? "refused" : "unknown";
      return new SmtpError(messageOf(err), outcome, code, { cause: err });
    };
    let overall: NodeJS.Timeout | undefined;
    try {
      return await new Promise<string>((resolve, reject) => {
        let settled = false;
        const fail = (err: unknown) => {
          if (settled) return;
          settled = true;
          connection.close();
          reject(failure(err));
        };
        overall = setTimeout(() => fail(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
        connection.on("error", fail);
        connection.connect((connectErr) => {
          if (connectErr) return fail(connectErr);
          const send = () => {
            const body = new Readable({
              read() {
                if (bodyAsked) return;
                bodyAsked = true;
                // The server took DATA: the last moment at which nothing of the message is out.
                beforeBody().then(
                  () => {
                    bodyStarted = true;
                    this.push(message.raw);
                    this.push(null);
                  },
                  (err: unknown) => {
                    fail(new SmtpError(messageOf(err), "not-sent", null, { cause: err }));
                    this.destroy();
                  },
                );
              },
            });
            connection.send({ from: message.from, to: [message.to] }, body, (sendErr, info) => {
              if (sendErr) return fail(sendErr);
              if (settled) return;
              settled = true;
              connection.quit();
              resolve(info?.response ?? "");
            });
          };
          if (!settings.auth) return send();
          connection.login(settings.auth, (loginErr) => (loginErr ? fail(loginErr) : send()));
        });
      });
    } finally {
      clearTimeout(overall);
    }
  }
}
