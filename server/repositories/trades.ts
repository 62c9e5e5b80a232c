import type { Pool } from "pg";
import { finalityOf, type ChainHeads } from "../../lib/finality.ts";
import type { Page } from "../../lib/api/primitives.ts";
import type { ItemHolding } from "../../lib/api/items.ts";
import type { ListTradesQuery, Trade, TradeState, TradeStep } from "../../lib/api/trades.ts";
import { checksum } from "../../lib/address.ts";

interface ListingRow {
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

const SELECT = `SELECT listing_id::text, seller, buyer, token, item_id::text, amount::text, price::text, currency,
  deadline::text, confirm_by::text, state, commission_bps, resolve_by::text, seller_proceeds::text, commission::text,
  settled, arbiter, assigned_arbiter, items_claimed, funds_claimed, block_number::text, tx_hash, updated_block::text
  FROM listings`;

const iso = (seconds: string) => new Date(Number(seconds) * 1000).toISOString();

function toTrade(row: ListingRow, heads: ChainHeads): Trade {
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

/** Reads the indexer's escrow listings, their state history and item balances. */
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
      where.push(`${column} = $${params.length}`);
    }
    if (query.cursor) {
      params.push(query.cursor);
      where.push(`listing_id < $${params.length}`);
    }
    params.push(query.limit + 1);
    const { rows } = await this.db.query<ListingRow>(
      `${SELECT} ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY listing_id DESC LIMIT $${params.length}`,
      params,
    );
    const more = rows.length > query.limit;
    if (more) rows.pop();
    return { items: rows.map((r) => toTrade(r, heads)), nextCursor: more ? rows.at(-1)!.listing_id : null };
  }

  async find(tradeId: string, heads: ChainHeads): Promise<Trade | null> {
    const { rows } = await this.db.query<ListingRow>(`${SELECT} WHERE listing_id = $1`, [tradeId]);
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

  /** Items a wallet holds (non-zero balances), by item id. */
  async items(owner: string, token: string, heads: ChainHeads): Promise<ItemHolding[]> {
    const { rows } = await this.db.query<{
      item_id: string;
      balance: string;
      uri: string | null;
      max_supply: string | null;
      updated_block: string;
    }>(
      `SELECT b.item_id::text, b.balance::text, g.uri, g.max_supply::text, b.updated_block::text
         FROM item_balances b LEFT JOIN game_items g ON g.item_id = b.item_id
        WHERE b.owner = $1 ORDER BY b.item_id`,
      [owner],
    );
    return rows.map((r) => ({
      token: checksum(token)!,
      itemId: r.item_id,
      balance: r.balance,
      uri: r.uri,
      maxSupply: r.max_supply,
      finality: finalityOf(r.updated_block, heads),
    }));
  }
}
