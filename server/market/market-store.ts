import type { Pool } from "pg";
import { finalityOf, type ChainHeads } from "../../lib/finality.ts";
import { checksum } from "../../lib/address.ts";
import type { MarketSort, SellerReputation } from "../../lib/api/market.ts";
import type { ItemMetadata, ProvenanceStep } from "../../lib/api/items.ts";
import type { TradeStep } from "../../lib/api/trades.ts";
import { LISTING_COLUMNS, type ListingRow } from "../repositories/trades.ts";
import { keptMetadata, RETRY_FAILED_SECONDS } from "./metadata-store.ts";

const ZERO = "0x0000000000000000000000000000000000000000";

/** The open listings a market page asks for; every value already validated. */
export interface OpenListingsFilter {
  itemIds?: string[];
  seller?: string;
  currency?: string;
  minPrice?: string;
  maxPrice?: string;
  /** Unix seconds by the chain's clock: listings past their deadline can no longer be bought. */
  now: number;
  sort: MarketSort;
  /** The sort value and listing id of the last listing of the previous page. */
  after?: { value: string | null; listingId: string };
  limit: number;
}

/** An open listing with its item type's current URI and kept metadata (null for other tokens' items). */
export interface OpenListingRow extends ListingRow {
  item_uri: string | null;
  item_status: ItemMetadata["status"] | null;
  item_name: string | null;
  item_description: string | null;
  item_image: string | null;
}

/** Per sort: the column keyset pagination orders by (with the listing id), and its direction. */
const ORDER: Record<MarketSort, { column: string | null; desc: boolean }> = {
  newest: { column: null, desc: true },
  price_asc: { column: "price", desc: false },
  price_desc: { column: "price", desc: true },
  ending: { column: "deadline", desc: false },
};

export interface ItemRow {
  item_id: string;
  uri: string;
  max_supply: string;
  minted: string;
  burned: string;
  block_number: string;
  updated_block: string;
  holders: number;
  open_listings: number;
}

export interface HoldingRow {
  item_id: string;
  balance: string;
  uri: string | null;
  max_supply: string | null;
  updated_block: string;
}

/** A position in an item's history: block, log and index within a batch transfer. */
export interface HistoryPosition {
  block: string;
  log: number;
  batch: number;
}

/** Reads the indexer's listings, item tables and their block times for the market. */
export class MarketStore {
  constructor(
    private readonly db: Pool,
    private readonly itemToken: string,
  ) {}

  /**
   * One page of open listings (one more than `limit` when there are more), in the sort's keyset
   * order, each with its item type's current URI and kept metadata, in one statement.
   */
  async openListings(filter: OpenListingsFilter): Promise<OpenListingRow[]> {
    const params: unknown[] = [filter.now];
    const where = ["l.state = 'listed'", "l.deadline > $1"];
    const add = (sql: (p: string) => string, value: unknown) => {
      params.push(value);
      where.push(sql(`$${params.length}`));
    };
    if (filter.itemIds) add((p) => `l.item_id = ANY(${p}::numeric[])`, filter.itemIds);
    if (filter.seller) add((p) => `l.seller = ${p}`, filter.seller);
    if (filter.currency) add((p) => `l.currency = ${p}`, filter.currency);
    if (filter.minPrice) add((p) => `l.price >= ${p}`, filter.minPrice);
    if (filter.maxPrice) add((p) => `l.price <= ${p}`, filter.maxPrice);
    const { column, desc } = ORDER[filter.sort];
    const op = desc ? "<" : ">";
    if (filter.after) {
      if (column) {
        params.push(filter.after.value, filter.after.listingId);
        where.push(`(l.${column}, l.listing_id) ${op} ($${params.length - 1}, $${params.length})`);
      } else {
        add((p) => `l.listing_id ${op} ${p}`, filter.after.listingId);
      }
    }
    const direction = desc ? "DESC" : "ASC";
    const order = column
      ? `l.${column} ${direction}, l.listing_id ${direction}`
      : `l.listing_id ${direction}`;
    params.push(filter.limit + 1, this.itemToken, RETRY_FAILED_SECONDS);
    const [limit, token, retry] = [params.length - 2, params.length - 1, params.length];
    // The page is cut first, by the partial index; only its rows are joined to their item types.
    const { rows } = await this.db.query<OpenListingRow>(
      `SELECT p.*, g.uri AS item_uri, m.status AS item_status, m.name AS item_name,
              m.description AS item_description, m.image AS item_image
         FROM (SELECT ${LISTING_COLUMNS}, row_number() OVER (ORDER BY ${order}) AS position
                 FROM listings l WHERE ${where.join(" AND ")} ORDER BY ${order} LIMIT $${limit}) p
         LEFT JOIN game_items g ON p.token = $${token} AND g.item_id = p.item_id::numeric
         LEFT JOIN item_metadata m ON m.item_id = g.item_id AND m.uri = g.uri AND ${keptMetadata("m", `$${retry}`)}
        ORDER BY p.position`,
      params,
    );
    return rows;
  }

  async listing(listingId: string): Promise<ListingRow | null> {
    const { rows } = await this.db.query<ListingRow>(
      `SELECT ${LISTING_COLUMNS} FROM listings l WHERE l.listing_id = $1`,
      [listingId],
    );
    return rows[0] ?? null;
  }

  /** Every escrow event of a listing, oldest first, with its block's time. */
  async listingHistory(listingId: string, heads: ChainHeads): Promise<(TradeStep & { at: string | null })[]> {
    const { rows } = await this.db.query<{
      event: string;
      state: TradeStep["state"];
      block_number: string;
      tx_hash: string;
      block_time: Date | null;
    }>(
      `SELECT s.event, s.state, s.block_number::text, s.tx_hash, e.block_time
         FROM listing_states s
         LEFT JOIN event_blocks e ON e.block_number = s.block_number AND e.log_index = s.log_index
        WHERE s.listing_id = $1 ORDER BY s.block_number, s.log_index`,
      [listingId],
    );
    return rows.map((r) => ({
      event: r.event,
      state: r.state,
      blockNumber: r.block_number,
      txHash: r.tx_hash,
      finality: finalityOf(r.block_number, heads),
      at: r.block_time?.toISOString() ?? null,
    }));
  }

  /** A wallet's record from the escrow's indexed listings. */
  async reputation(address: string): Promise<SellerReputation> {
    const { rows } = await this.db.query<{
      completed_sales: number;
      completed_purchases: number;
      disputes_lost: number;
      disputes_won: number;
      disputes_lapsed: number;
      disputes_open: number;
      open_listings: number;
      first_listed_at: Date | null;
    }>(
      `SELECT
         count(*) FILTER (WHERE l.seller = $1 AND l.state = 'completed')::int AS completed_sales,
         count(*) FILTER (WHERE l.buyer = $1 AND l.state = 'completed')::int AS completed_purchases,
         count(*) FILTER (WHERE l.seller = $1 AND l.state = 'refunded' AND l.arbiter IS NOT NULL)::int AS disputes_lost,
         count(*) FILTER (WHERE l.seller = $1 AND l.state = 'completed' AND l.arbiter IS NOT NULL)::int AS disputes_won,
         count(*) FILTER (WHERE l.seller = $1 AND l.state = 'refunded' AND l.arbiter IS NULL)::int AS disputes_lapsed,
         count(*) FILTER (WHERE l.seller = $1 AND l.state = 'disputed')::int AS disputes_open,
         count(*) FILTER (WHERE l.seller = $1 AND l.state = 'listed')::int AS open_listings,
         (SELECT e.block_time FROM listings f
            LEFT JOIN event_blocks e ON e.block_number = f.block_number AND e.log_index = f.log_index
           WHERE f.seller = $1 ORDER BY f.listing_id LIMIT 1) AS first_listed_at
         FROM listings l WHERE l.seller = $1 OR l.buyer = $1`,
      [address],
    );
    const r = rows[0]!;
    return {
      address: checksum(address)!,
      completedSales: r.completed_sales,
      completedPurchases: r.completed_purchases,
      disputesLost: r.disputes_lost,
      disputesWon: r.disputes_won,
      disputesLapsed: r.disputes_lapsed,
      disputesOpen: r.disputes_open,
      openListings: r.open_listings,
      firstListedAt: r.first_listed_at?.toISOString() ?? null,
    };
  }

  /**
   * An item's provenance, newest first: its transfers (mints and burns included) and the escrow events
   * of every listing of it, each with its block's time; one more than `limit` when there are more.
   */
  async itemHistory(
    itemId: string,
    before: HistoryPosition | null,
    limit: number,
    heads: ChainHeads,
  ): Promise<(ProvenanceStep & { position: HistoryPosition })[]> {
    const params: unknown[] = [itemId, this.itemToken, limit + 1];
    let keyset = "";
    if (before) {
      params.push(before.block, before.log, before.batch);
      keyset = "WHERE (h.block_number, h.log_index, h.batch_index) < ($4, $5, $6)";
    }
    const { rows } = await this.db.query<{
      kind: ProvenanceStep["kind"];
      event: string;
      listing_id: string | null;
      state: string | null;
      from_address: string | null;
      to_address: string | null;
      amount: string | null;
      block_number: string;
      log_index: number;
      batch_index: number;
      tx_hash: string;
      block_time: Date | null;
    }>(
      `WITH h AS (
         SELECT CASE WHEN t.from_address = '${ZERO}' THEN 'mint' WHEN t.to_address = '${ZERO}' THEN 'burn'
                     ELSE 'transfer' END AS kind,
                'Transfer' AS event, NULL::text AS listing_id, NULL::text AS state, t.from_address,
                t.to_address, t.amount::text, t.block_number, t.log_index, t.batch_index, t.tx_hash
           FROM item_transfers t
          WHERE t.item_id = $1
         UNION ALL
         SELECT 'trade', s.event, s.listing_id::text, s.state, NULL, NULL, NULL, s.block_number, s.log_index, 0,
                s.tx_hash
           FROM listings l JOIN listing_states s ON s.listing_id = l.listing_id
          WHERE l.item_id = $1 AND l.token = $2
       )
       SELECT h.kind, h.event, h.listing_id, h.state, h.from_address, h.to_address, h.amount,
              h.block_number::text, h.log_index, h.batch_index, h.tx_hash, e.block_time
         FROM h LEFT JOIN event_blocks e ON e.block_number = h.block_number AND e.log_index = h.log_index
         ${keyset}
        ORDER BY h.block_number DESC, h.log_index DESC, h.batch_index DESC LIMIT $3`,
      params,
    );
    return rows.map((r) => ({
      kind: r.kind,
      event: r.event,
      listingId: r.listing_id,
      state: r.state,
      from: checksum(r.from_address),
      to: checksum(r.to_address),
      amount: r.amount,
      blockNumber: r.block_number,
      logIndex: r.log_index,
      txHash: r.tx_hash,
      at: r.block_time?.toISOString() ?? null,
      finality: finalityOf(r.block_number, heads),
      position: { block: r.block_number, log: r.log_index, batch: r.batch_index },
    }));
  }

  /** An item type with its number of holders and open listings. */
  async item(itemId: string): Promise<ItemRow | null> {
    const { rows } = await this.db.query<ItemRow>(
      `SELECT g.item_id::text, g.uri, g.max_supply::text, g.minted::text, g.burned::text, g.block_number::text,
              g.updated_block::text,
              (SELECT count(*)::int FROM item_balances b WHERE b.item_id = g.item_id) AS holders,
              (SELECT count(*)::int FROM listings l WHERE l.item_id = g.item_id AND l.token = $2
                  AND l.state = 'listed') AS open_listings
         FROM game_items g WHERE g.item_id = $1`,
      [itemId, this.itemToken],
    );
    return rows[0] ?? null;
  }

  /** Items a wallet holds (non-zero balances), by item id. */
  async holdings(owner: string): Promise<HoldingRow[]> {
    const { rows } = await this.db.query<HoldingRow>(
      `SELECT b.item_id::text, b.balance::text, g.uri, g.max_supply::text, b.updated_block::text
         FROM item_balances b LEFT JOIN game_items g ON g.item_id = b.item_id
        WHERE b.owner = $1 ORDER BY b.item_id`,
      [owner],
    );
    return rows;
  }
}
