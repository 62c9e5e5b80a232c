import type { Pool } from "pg";
import { contractInterfaces, type ContractKind } from "./abi.ts";
import { applyEvents, isRefusal } from "./apply.ts";
import { quarantined, type QuarantineRow } from "./db/quarantine.ts";
import { createDecoder } from "./decode.ts";
import { untrustedText } from "./untrusted.ts";
import { withTransaction } from "../lib/transaction.ts";

/** What re-applying the quarantine did, log by log. */
export interface ReapplyResult {
  applied: QuarantineRow[];
  /** Still refused or undecodable, with the new error stored. */
  kept: QuarantineRow[];
}

/**
 * Re-applies the quarantined logs of `chainId` in chain order, after a fix (a migration, a handler or a
 * decoder change): each is decoded and applied to the current state under the indexer's checkpoint lock,
 * so it never interleaves with a range being committed. Applied logs leave the quarantine; the others
 * stay with their new error. Undo images are recorded for blocks not yet final, so a reorg still rolls
 * them back.
 */
export async function reapplyQuarantined(db: Pool, chainId: number): Promise<ReapplyResult> {
  const decode = createDecoder(contractInterfaces());
  const result: ReapplyResult = { applied: [], kept: [] };
  for (const row of await quarantined(db, chainId)) {
    await withTransaction(db, async (client) => {
      const { rows: state } = await client.query<{ finalized: number }>(
        "SELECT finalized_block::int AS finalized FROM indexer_state WHERE chain_id = $1 FOR UPDATE",
        [chainId],
      );
      const decoded = decode(
        {
          blockNumber: row.block_number,
          blockHash: row.block_hash,
          txHash: row.tx_hash,
          txIndex: row.tx_index,
          logIndex: row.log_index,
          address: row.contract,
          topics: row.topics,
          data: `0x${(row.data as Buffer).toString("hex")}`,
          removed: false,
          blockTimestamp: row.block_time === null ? null : Math.floor(row.block_time.getTime() / 1000),
        },
        row.contract_name as ContractKind,
      );
      let error: { message: string; code: string | null } | null = null;
      if (!("event" in decoded)) {
        error = { message: decoded.detail, code: null };
      } else {
        const trackUndo = row.block_number > (state[0]?.finalized ?? 0);
        const { rows: seq } = await client.query<{ next: number }>(
          "SELECT coalesce(max(seq) + 1, 0)::int AS next FROM indexer_undo WHERE block_number = $1",
          [row.block_number],
        );
        await client.query("SAVEPOINT event");
        try {
          await applyEvents(client, [decoded.event], { chainId, trackUndo, undoSeq: seq[0]!.next });
        } catch (applyError) {
          if (!isRefusal(applyError)) throw applyError;
          await client.query("ROLLBACK TO SAVEPOINT event");
          error = {
            message: (applyError as Error).message,
            code: (applyError as { code?: string }).code ?? null,
          };
        }
      }
      if (error) {
        const message = untrustedText(Buffer.from(error.message).toString("hex")).text;
        await client.query(
          `UPDATE indexer_quarantine SET error = $4, error_code = $5
            WHERE chain_id = $1 AND block_number = $2 AND log_index = $3`,
          [chainId, row.block_number, row.log_index, message, error.code],
        );
        result.kept.push({ ...row, error: message, error_code: error.code });
      } else {
        await client.query(
          "DELETE FROM indexer_quarantine WHERE chain_id = $1 AND block_number = $2 AND log_index = $3",
          [chainId, row.block_number, row.log_index],
        );
        result.applied.push(row);
      }
    });
  }
  return result;
}
