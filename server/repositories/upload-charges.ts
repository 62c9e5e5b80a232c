import { withTransaction } from "../../lib/transaction.ts";
import type { Pool } from "pg";
import { AppError } from "../errors.ts";

/** The 413 of an upload past its account's quota. */
export const quotaExceeded = (quotaBytes: number, usedBytes: number): AppError =>
  new AppError(
    "UPLOAD_QUOTA_EXCEEDED",
    413,
    `the upload would pass this account's quota of ${quotaBytes} bytes (${usedBytes} used)`,
    { quotaBytes, usedBytes },
  );

/** Per-account charges for uploaded files (`upload_charges`). */
export class UploadCharges {
  constructor(private readonly db: Pool) {}

  /** Bytes charged to `account` so far. */
  async usedBytes(account: string): Promise<number> {
    const { rows } = await this.db.query<{ used: string }>(
      "SELECT coalesce(sum(size), 0)::text AS used FROM upload_charges WHERE account = $1",
      [account],
    );
    return Number(rows[0]!.used);
  }

  /**
   * Charges `account` for a file unless it was charged for it already, refusing with 413 when that
   * would pass `quotaBytes`; one charge per account at a time, so concurrent uploads cannot both
   * slip under the quota. Resolves true when this call made the charge.
   */
  async charge(account: string, contentHash: string, size: number, quotaBytes: number): Promise<boolean> {
    return withTransaction(this.db, async (client) => {
      await client.query("SELECT pg_advisory_xact_lock(hashtextextended('upload-charges:' || $1, 0))", [
        account,
      ]);
      const { rows } = await client.query<{ used: string; charged: boolean }>(
        `SELECT coalesce(sum(size), 0)::text AS used, bool_or(content_hash = $2) AS charged
           FROM upload_charges WHERE account = $1`,
        [account, contentHash],
      );
      if (rows[0]!.charged) return false;
      const used = Number(rows[0]!.used);
      if (used + size > quotaBytes) throw quotaExceeded(quotaBytes, used);
      await client.query("INSERT INTO upload_charges (account, content_hash, size) VALUES ($1, $2, $3)", [
        account,
        contentHash,
        size,
      ]);
      return true;
    });
  }

  /** Takes back a charge whose file was not stored after all. */
  async release(account: string, contentHash: string): Promise<void> {
    await this.db.query("DELETE FROM upload_charges WHERE account = $1 AND content_hash = $2", [
      account,
      contentHash,
    ]);
  }
}
