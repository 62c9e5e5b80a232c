import type { PoolClient } from "pg";
import type { JsonArgs } from "./abi.ts";
import { chainEvents, type ChainEventRow } from "./db/chain-events.ts";
import { indexerUndo } from "./db/indexer-state.ts";
import { deleteRows, insertRows, loadRows, type CurrentTable } from "./db/rows.ts";
import type { ChainEvent } from "./decode.ts";
import type { EventHandler } from "./handlers/handler.ts";
import { HANDLERS } from "./handlers/index.ts";
import { RangeStore } from "./store.ts";
import { storedArgs } from "./untrusted.ts";

/** A handler could not apply an event (its arguments break an assumption of the handler). */
export class HandlerFailedError extends Error {
  override name = "HandlerFailedError";
}

/**
 * Whether `error` is about the events being applied rather than the database or the connection: a value
 * PostgreSQL refuses (data exceptions, constraint violations, program limits such as an index row too
 * large) or a handler that failed. Such an event is quarantined; any other error is retried.
 */
export function isRefusal(error: unknown): boolean {
  if (error instanceof HandlerFailedError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^(22|23|54)/.test(code) && code.length === 5;
}

function handlerFor(event: ChainEvent): EventHandler<JsonArgs> | undefined {
  return HANDLERS[event.contract][event.name] as EventHandler<JsonArgs> | undefined;
}

/** The raw event log row of `event`. */
export function eventRow(chainId: number, event: ChainEvent): ChainEventRow {
  return {
    chain_id: chainId,
    block_number: event.blockNumber,
    log_index: event.logIndex,
    block_hash: event.blockHash,
    block_time: new Date(event.blockTime! * 1000),
    tx_hash: event.txHash,
    tx_index: event.txIndex,
    contract: event.address,
    contract_name: event.contract,
    event_name: event.name,
    args: storedArgs(event.args, event.notes),
    raw_data: event.notes ? `\\x${event.data.slice(2)}` : null,
    value_notes: event.notes,
  };
}

/** The current-state rows `events` read or change, by table: loaded before they are applied. */
export function neededRows(events: ChainEvent[]): { table: CurrentTable<object>; keys: object[] }[] {
  const needed = new Map<string, { table: CurrentTable<object>; keys: object[] }>();
  for (const event of events) {
    for (const { table, key } of handlerFor(event)?.needs?.(event.args) ?? []) {
      let entry = needed.get(table.name);
      if (!entry) needed.set(table.name, (entry = { table, keys: [] }));
      entry.keys.push(key);
    }
  }
  return [...needed.values()];
}

export interface ApplyOptions {
  chainId: number;
  /** Record undo images (blocks above the finalized one). */
  trackUndo: boolean;
  /** The first undo sequence number to use in these blocks; later calls continue from the returned one. */
  undoSeq?: number;
  /** `neededRows(events)`, when computed already. */
  needed?: { table: CurrentTable<object>; keys: object[] }[];
}

/**
 * Applies `events` in chain order inside the caller's transaction: raw event rows, derived rows and undo
 * images. Returns the next free undo sequence number.
 */
export async function applyEvents(
  client: PoolClient,
  events: ChainEvent[],
  options: ApplyOptions,
): Promise<number> {
  const store = new RangeStore(options.trackUndo, options.undoSeq ?? 0);
  for (const { table, keys } of options.needed ?? neededRows(events))
    store.preload(table, keys, await loadRows(client, table, keys));
  for (const event of events) {
    try {
      handlerFor(event)?.apply(event, store);
    } catch (error) {
      throw new HandlerFailedError(
        `${event.contract}.${event.name} at ${event.blockNumber}/${event.logIndex}: ${(error as Error).message}`,
      );
    }
  }
  await insertRows(
    client,
    chainEvents,
    events.map((event) => eventRow(options.chainId, event)),
  );
  for (const { table, rows } of store.historyWrites()) await insertRows(client, table, rows);
  for (const { table, deletes, inserts } of store.currentWrites()) {
    await deleteRows(client, table, deletes);
    await insertRows(client, table, inserts);
  }
  await insertRows(client, indexerUndo, store.undo);
  return (options.undoSeq ?? 0) + store.undo.length;
}
