import type { Pool, PoolClient } from "pg";
import type { ChainHeads } from "../../lib/finality.ts";
import type { BlockHeader } from "../chain.ts";
import { historyTable } from "./rows.ts";

/** The last block whose rows are all committed, and its hash (unknown before the first range). */
export interface Checkpoint {
  number: number;
  hash: string | null;
}

export interface StoredState {
  checkpoint: Checkpoint;
  heads: ChainHeads;
}

export interface IndexerBlockRow {
  block_number: number;
  block_hash: string;
  parent_hash: string;
}

export interface UndoRow {
  block_number: number;
  seq: number;
  table_name: string;
  row_key: Record<string, unknown>;
  prior: object | null;
}

export const indexerBlocks = historyTable<IndexerBlockRow>("indexer_blocks");
export const indexerUndo = historyTable<UndoRow>("indexer_undo");

interface StateRow {
  chain_id: string;
  block_number: string;
  block_hash: string | null;
  head_block: string;
  safe_block: string;
  finalized_block: string;
}

function toState(row: StateRow): StoredState {
  return {
    checkpoint: { number: Number(row.block_number), hash: row.block_hash },
    heads: {
      head: Number(row.head_block),
      safe: Number(row.safe_block),
      finalized: Number(row.finalized_block),
    },
  };
}

/** A block that identifies the chain a database mirrors. */
export interface ChainAnchor {
  number: number;
  hash: string;
}

/**
 * The anchor recorded for `chainId`, null on first run (or for a database from before anchors). Fails,
 * writing nothing, if the database indexes another chain id.
 */
export async function storedAnchor(db: Pool, chainId: number): Promise<ChainAnchor | null> {
  const { rows } = await db.query<{
    chain_id: string;
    anchor_block: string | null;
    anchor_hash: string | null;
  }>("SELECT chain_id, anchor_block, anchor_hash FROM indexer_state");
  const other = rows.find((row) => Number(row.chain_id) !== chainId);
  if (other) throw new Error(`this database already indexes chain ${other.chain_id}, not chain ${chainId}`);
  const row = rows[0];
  return row?.anchor_hash ? { number: Number(row.anchor_block), hash: row.anchor_hash } : null;
}

/** The stored state of `chainId`, creating it at `startBlock - 1` on first run, with `anchor` recorded. */
export async function initState(
  db: Pool,
  chainId: number,
  startBlock: number,
  anchor: ChainAnchor,
): Promise<StoredState> {
  const { rows } = await db.query<StateRow>(
    `WITH created AS (
       INSERT INTO indexer_state (chain_id, block_number, anchor_block, anchor_hash) VALUES ($1, $2, $3, $4)
       ON CONFLICT (chain_id) DO UPDATE SET anchor_block = coalesce(indexer_state.anchor_block, EXCLUDED.anchor_block),
         anchor_hash = coalesce(indexer_state.anchor_hash, EXCLUDED.anchor_hash)
       RETURNING *)
     SELECT * FROM created`,
    [chainId, startBlock - 1, anchor.number, anchor.hash],
  );
  return toState(rows[0]!);
}

/**
 * Locks the state row for the rest of the transaction and checks that the checkpoint is still
 * `expected`: a second indexer on the same database fails here instead of writing twice.
 */
export async function lockCheckpoint(
  client: PoolClient,
  chainId: number,
  expected: Checkpoint,
): Promise<void> {
  const { rows } = await client.query<StateRow>(
    "SELECT * FROM indexer_state WHERE chain_id = $1 FOR UPDATE",
    [chainId],
  );
  const stored = rows[0] ? toState(rows[0]).checkpoint : null;
  if (!stored || stored.number !== expected.number || stored.hash !== expected.hash) {
    throw new Error(
      `checkpoint moved under this indexer (expected block ${expected.number}, found ${stored?.number ?? "none"}): is another indexer running on this database?`,
    );
  }
}

export async function saveCheckpoint(
  client: PoolClient,
  chainId: number,
  checkpoint: Checkpoint,
  heads: ChainHeads,
) {
  await client.query(
    `UPDATE indexer_state SET block_number = $2, block_hash = $3, head_block = $4, safe_block = $5,
       finalized_block = $6, updated_at = now() WHERE chain_id = $1`,
    [chainId, checkpoint.number, checkpoint.hash, heads.head, heads.safe, heads.finalized],
  );
}

export async function saveHeads(db: Pool, chainId: number, heads: ChainHeads) {
  await db.query(
    `UPDATE indexer_state SET head_block = $2, safe_block = $3, finalized_block = $4, updated_at = now()
     WHERE chain_id = $1`,
    [chainId, heads.head, heads.safe, heads.finalized],
  );
}

/** Stored hashes of blocks `from..to`, by block number. */
export async function storedHashes(db: Pool, from: number, to: number): Promise<Map<number, string>> {
  const { rows } = await db.query<{ block_number: string; block_hash: string }>(
    "SELECT block_number, block_hash FROM indexer_blocks WHERE block_number BETWEEN $1 AND $2",
    [from, to],
  );
  return new Map(rows.map((row) => [Number(row.block_number), row.block_hash]));
}

export function blockRow(header: BlockHeader): IndexerBlockRow {
  return { block_number: header.number, block_hash: header.hash, parent_hash: header.parentHash };
}

/** Drops block hashes and undo images that no reorg can need any more. */
export async function pruneBelow(client: PoolClient, finalized: number, checkpoint: number) {
  await client.query("DELETE FROM indexer_blocks WHERE block_number < LEAST($1::bigint, $2::bigint)", [
    finalized,
    checkpoint,
  ]);
  await client.query("DELETE FROM indexer_undo WHERE block_number <= $1", [finalized]);
}

/** Removes block hashes and undo images above `block` after a rollback to it. */
export async function dropAbove(client: PoolClient, block: number) {
  await client.query("DELETE FROM indexer_blocks WHERE block_number > $1", [block]);
  await client.query("DELETE FROM indexer_undo WHERE block_number > $1", [block]);
}
