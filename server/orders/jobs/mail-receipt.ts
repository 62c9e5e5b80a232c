import type { Pool } from "pg";
import { withTransaction } from "../../../lib/transaction.ts";
import { AppError, PermanentError } from "../../errors.ts";
import { recordMail } from "../../mail/mails.ts";
import type { Outbox } from "../../queues/outbox.ts";
import { findReceipt } from "../receipts.ts";

export interface MailReceiptDeps {
  db: Pool;
  outbox: Outbox;
}

/**
 * The order-receipt job, queued with a card payment's capture when the buyer gave an email address
 * at checkout: records the receipt mail (`receipt:<orderId>`, so once whatever runs it again) to
 * that address. An order without one gets no job and no mail; its buyer downloads the receipt.
 */
export async function mailReceipt(
  deps: MailReceiptDeps,
  orderId: string,
): Promise<"recorded" | "no-email" | "not-captured"> {
  const outcome = await withTransaction(deps.db, async (client) => {
    const { rows } = await client.query<{ email: string | null }>(`SELECT email FROM orders WHERE id = $1`, [
      orderId,
    ]);
    const email = rows[0]?.email;
    if (!email) return "no-email" as const;
    const receipt = await findReceipt(client, orderId);
    if (!receipt) return "not-captured" as const;
    try {
      return await recordMail(client, {
        key: `receipt:${orderId}`,
        to: email,
        template: "receipt",
        data: receipt,
      });
    } catch (err) {
      if (err instanceof AppError)
        throw new PermanentError(`order ${orderId}: ${err.message}`, { cause: err });
      throw err;
    }
  });
  if (typeof outcome === "string") return outcome;
  await deps.outbox.deliver(outcome);
  return "recorded";
}
