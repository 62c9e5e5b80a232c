import type { Pool, PoolClient } from "pg";
import { historyTable } from "./rows.ts";

export type QuarantineReason = "undecodable" | "refused";

export interface QuarantineRow {
  chain_id: number;
  block_number: number;
  log_index: number;
  block_hash: string;
  block_time: Date | null;
  tx_hash: string;
  tx_index: number;
  contract: string;
  contract_name: string;
  event_name: string;
  topics: string[];
  /** `\x` hex on the way in; bytes when read. */
  data: string | Buffer;
  reason: QuarantineReason;
  error: string;
  error_code: string | null;
  quarantined_at: Date;
}

/** Quarantined logs; a reorg deletes those above the fork like any history row. */
export const quarantine = historyTable<QuarantineRow>("indexer_quarantine");

/** Quarantined logs of `chainId` in chain order. */
export async function quarantined(db: Pool | PoolClient, chainId: number): Promise<QuarantineRow[]> {
  const { rows } = await db.query<QuarantineRow>(
    `SELECT chain_id::int, block_number::int, log_index, block_hash, block_time, tx_hash, tx_index, contract,
            contract_name, event_name, topics, data, reason, error, error_code, quarantined_at
       FROM indexer_quarantine WHERE chain_id = $1 ORDER BY block_number, log_index`,
    [chainId],
  );
  return rows;
}

/** How many logs of `chainId` are quarantined. */
export async function quarantinedCount(db: Pool | PoolClient, chainId: number): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM indexer_quarantine WHERE chain_id = $1",
    [chainId],
  );
  return rows[0]!.n;
}
