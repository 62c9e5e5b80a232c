import type { PoolClient } from "pg";
import type { ContractKind, JsonArgs } from "../abi.ts";
import type { ValueNotes } from "../untrusted.ts";
import { historyTable } from "./rows.ts";

export interface ChainEventRow {
  chain_id: number;
  block_number: number;
  log_index: number;
  block_hash: string;
  block_time: Date;
  tx_hash: string;
  tx_index: number;
  contract: string;
  contract_name: ContractKind;
  event_name: string;
  args: JsonArgs;
  /** The log's data as emitted (`\x` hex), kept only when `value_notes` is set. */
  raw_data: string | null;
  value_notes: ValueNotes | null;
}

export const chainEvents = historyTable<ChainEventRow>("chain_events");

/** The events of blocks above `block`, in chain order. */
export async function eventsAbove(client: PoolClient, block: number): Promise<ChainEventRow[]> {
  const { rows } = await client.query<ChainEventRow>(
    "SELECT * FROM chain_events WHERE block_number > $1 ORDER BY block_number, log_index",
    [block],
  );
  return rows;
}
