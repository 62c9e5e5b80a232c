/** The SQL of the mails table: each state move of a mail is one guarded UPDATE, so two workers never both win one. */
import type { Pool } from "pg";

export type MailState = "pending" | "sending" | "sent" | "failed" | "unconfirmed";

export interface MailRow {
  id: string;
  key: string;
  recipient: string;
  template: string;
  data: Record<string, unknown>;
  state: MailState;
  messageId: string | null;
  attempts: number;
  /** Milliseconds until a `sending` mail's lease lapses (negative once it has). */
  leaseLeftMs: number | null;
  createdAt: Date;
}

const COLUMNS = `id::text, key, recipient, template, data, state, message_id AS "messageId", attempts,
  (extract(epoch FROM lease_until - now()) * 1000)::float8 AS "leaseLeftMs", created_at AS "createdAt"`;

export class MailStore {
  constructor(private readonly db: Pool) {}

  async find(id: string): Promise<MailRow | null> {
    const { rows } = await this.db.query<MailRow>(`SELECT ${COLUMNS} FROM mails WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }

  /** Counts an attempt at a pending mail; false when it is no longer pending. */
  async countAttempt(id: string): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `UPDATE mails SET attempts = attempts + 1, updated_at = now() WHERE id = $1 AND state = 'pending'`,
      [id],
    );
    return rowCount === 1;
  }

  /** pending → sending, for `leaseMs`: whoever wins this may hand the message over; false for the others. */
  async claim(id: string, messageId: string, leaseMs: number): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `UPDATE mails SET state = 'sending', message_id = $2, error = NULL,
              lease_until = now() + make_interval(secs => $3), updated_at = now()
        WHERE id = $1 AND state = 'pending'`,
      [id, messageId, leaseMs / 1000],
    );
    return rowCount === 1;
  }

  /** sending → sent (also from unconfirmed: a slow sender's late word settles the doubt). */
  async markSent(id: string, response: string): Promise<void> {
    await this.db.query(
      `UPDATE mails SET state = 'sent', smtp_response = $2, lease_until = NULL, sent_at = now(), updated_at = now()
        WHERE id = $1 AND state IN ('sending', 'unconfirmed')`,
      [id, response.slice(0, 1000)],
    );
  }

  /** sending → pending: the server refused the message for now; the next attempt sends it. */
  async release(id: string, error: string): Promise<void> {
    await this.db.query(
      `UPDATE mails SET state = 'pending', error = $2, lease_until = NULL, updated_at = now()
        WHERE id = $1 AND state = 'sending'`,
      [id, error.slice(0, 1000)],
    );
  }

  /** pending or sending → failed: refused for good, or out of attempts. */
  async markFailed(id: string, error: string): Promise<void> {
    await this.db.query(
      `UPDATE mails SET state = 'failed', error = $2, lease_until = NULL, updated_at = now()
        WHERE id = $1 AND state IN ('pending', 'sending')`,
      [id, error.slice(0, 1000)],
    );
  }

  /**
   * sending → unconfirmed: the hand-over's outcome is unknown. `lapsedOnly` marks it only once its
   * lease has lapsed (its sender is gone); answers whether it was marked.
   */
  async markUnconfirmed(id: string, error: string, lapsedOnly: boolean): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `UPDATE mails SET state = 'unconfirmed', error = $2, updated_at = now()
        WHERE id = $1 AND state = 'sending' AND (NOT $3 OR lease_until <= now())`,
      [id, error.slice(0, 1000), lapsedOnly],
    );
    return rowCount === 1;
  }
}
