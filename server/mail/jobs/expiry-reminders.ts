import type { Pool } from "pg";
import { withTransaction } from "../../../lib/transaction.ts";
import type { Outbox } from "../../queues/outbox.ts";
import { recordMail } from "../mails.ts";

export interface ExpiryRemindersDeps {
  db: Pool;
  outbox: Outbox;
  /** The chain's time: licenses expire by it. */
  clock: { nowSeconds(): Promise<number> };
  /** How long before its end a term is reminded of. */
  days: number;
}

/** Reminders recorded by one pass; the next pass takes the rest. */
const BATCH = 500;

/**
 * One pass of the expiry reminders: every valid license bought by card with an email address, still
 * held by the order's wallet, whose term ends within `days`, gets one mail per term
 * (`expiry:<tokenId>:<expiresAt>`, so a renewal's new term is reminded of again, a term only once).
 */
export async function remindExpiries(deps: ExpiryRemindersDeps): Promise<{ recorded: number }> {
  const now = await deps.clock.nowSeconds();
  const { rows } = await deps.db.query<{
    token_id: string;
    work_id: string;
    expires_at: string;
    email: string;
    title: string | null;
  }>(
    `SELECT l.token_id::text, l.work_id::text, l.expires_at::text, o.email, m.title
       FROM licenses l
       JOIN orders o ON o.token_id = l.token_id
       LEFT JOIN works w ON w.work_id = l.work_id
       LEFT JOIN work_metadata m ON m.metadata_uri = w.metadata_uri
      WHERE o.email IS NOT NULL AND (o.wallet IS NULL OR l.holder = o.wallet) AND NOT l.revoked
        AND l.expires_at > $1 AND l.expires_at <= $1 + $2
        AND NOT EXISTS (SELECT 1 FROM mails WHERE key = 'expiry:' || l.token_id || ':' || l.expires_at)
      ORDER BY l.expires_at LIMIT $3`,
    [now, deps.days * 86_400, BATCH],
  );
  if (rows.length === 0) return { recorded: 0 };
  const jobs = await withTransaction(deps.db, async (client) => {
    const recorded = [];
    for (const r of rows) {
      recorded.push(
        ...(await recordMail(client, {
          key: `expiry:${r.token_id}:${r.expires_at}`,
          to: r.email,
          template: "expiry-reminder",
          data: {
            tokenId: r.token_id,
            workId: r.work_id,
            title: r.title,
            expiresAt: new Date(Number(r.expires_at) * 1000).toISOString(),
            days: deps.days,
          },
        })),
      );
    }
    return recorded;
  });
  await deps.outbox.deliver(jobs);
  return { recorded: jobs.length };
}
