import type { Pool } from "pg";
import { finalityOf, type ChainHeads } from "../../lib/finality.ts";
import type { Page } from "../../lib/api/primitives.ts";
import type { ListTradesQuery, Trade, TradeState, TradeStep } from "../../lib/api/trades.ts";
import { checksum } from "../../lib/address.ts";

/** A row of the indexer's `listings` as LISTING_COLUMNS reads it. */
export interface ListingRow {
  listing_id: string;
  seller: string;
  buyer: string | null;
  token: string;
  item_id: string;
  amount: string;
  price: string;
  currency: string;
  deadline: string;
  confirm_by: string | null;
  state: TradeState;
  commission_bps: number | null;
  resolve_by: string | null;
  seller_proceeds: string | null;
  commission: string | null;
  settled: boolean | null;
  arbiter: string | null;
  assigned_arbiter: string | null;
  items_claimed: boolean;
  funds_claimed: boolean;
  block_number: string;
  tx_hash: string;
  updated_block: string;
}

/** The columns of `listings` a trade is read from, qualified by `l`. */
export const LISTING_COLUMNS = `l.listing_id::text, l.seller, l.buyer, l.token, l.item_id::text, l.amount::text,
  l.price::text, l.currency, l.deadline::text, l.confirm_by::text, l.state, l.commission_bps, l.resolve_by::text,
  l.seller_proceeds::text, l.commission::text, l.settled, l.arbiter, l.assigned_arbiter, l.items_claimed,
  l.funds_claimed, l.block_number::text, l.tx_hash, l.updated_block::text`;

const SELECT = `SELECT ${LISTING_COLUMNS} FROM listings l`;

/** Unix seconds (decimal) as ISO 8601. */
export const iso = (seconds: string) => new Date(Number(seconds) * 1000).toISOString();

/** A listing row as the wire contract's Trade. */
export function toTrade(row: ListingRow, heads: ChainHeads): Trade {
  return {
    listingId: row.listing_id,
    seller: checksum(row.seller)!,
    buyer: checksum(row.buyer),
    token: checksum(row.token)!,
    itemId: row.item_id,
    amount: row.amount,
    price: row.price,
    currency: checksum(row.currency)!,
    deadline: iso(row.deadline),
    confirmBy: row.confirm_by === null ? null : iso(row.confirm_by),
    state: row.state,
    commissionBps: row.commission_bps ?? 0,
    resolveBy: row.resolve_by === null ? null : iso(row.resolve_by),
    sellerProceeds: row.seller_proceeds,
    commission: row.commission,
    settled: row.settled,
    arbiter: checksum(row.arbiter),
    assignedArbiter: checksum(row.assigned_arbiter),
    itemsClaimed: row.items_claimed,
    fundsClaimed: row.funds_claimed,
    blockNumber: row.block_number,
    txHash: row.tx_hash,
    finality: finalityOf(row.updated_block, heads),
  };
}

/** Reads the indexer's escrow listings and their state history. */
export class TradesRepository {
  constructor(private readonly db: Pool) {}

  /** Newest first; `cursor` is the last trade id of the previous page. */
  async list(query: ListTradesQuery, heads: ChainHeads): Promise<Page<Trade>> {
    const params: unknown[] = [];
    const where: string[] = [];
    for (const [column, value] of [
      ["seller", query.seller],
      ["buyer", query.buyer],
      ["state", query.state],
    ] as const) {
      if (value === undefined) continue;
      params.push(value);
      where.push(`l.${column} = $${params.length}`);
    }
    if (query.cursor) {
      params.push(query.cursor);
      where.push(`l.listing_id < $${params.length}`);
    }
    params.push(query.limit + 1);
    const { rows } = await this.db.query<ListingRow>(
      `${SELECT} ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY l.listing_id DESC LIMIT $${params.length}`,
      params,
    );
    const more = rows.length > query.limit;
    if (more) rows.pop();
    return { items: rows.map((r) => toTrade(r, heads)), nextCursor: more ? rows.at(-1)!.listing_id : null };
  }

  async find(tradeId: string, heads: ChainHeads): Promise<Trade | null> {
    const { rows } = await this.db.query<ListingRow>(`${SELECT} WHERE l.listing_id = $1`, [tradeId]);
    return rows[0] ? toTrade(rows[0], heads) : null;
  }

  /** Every escrow event of the trade, oldest first, with the state it left the trade in. */
  async history(tradeId: string, heads: ChainHeads): Promise<TradeStep[]> {
    const { rows } = await this.db.query<{
      event: string;
      state: TradeState;
      block_number: string;
      tx_hash: string;
    }>(
      `SELECT event, state, block_number::text, tx_hash FROM listing_states
        WHERE listing_id = $1 ORDER BY block_number, log_index`,
      [tradeId],
    );
    return rows.map((r) => ({
      event: r.event,
      state: r.state,
      blockNumber: r.block_number,
      txHash: r.tx_hash,
      finality: finalityOf(r.block_number, heads),
    }));
  }
}
