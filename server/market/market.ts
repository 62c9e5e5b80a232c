import type { Provider } from "ethers";
import { finalityOf, type ChainHeads } from "../../lib/finality.ts";
import { checksum } from "../../lib/address.ts";
import { MAX_COMMISSION_BPS, splitPrice } from "../../lib/commission.ts";
import type { Deployment } from "../../lib/deployment.ts";
import type { Holdings, Item, ItemHistory, ItemHistoryQuery, ItemMetadata } from "../../lib/api/items.ts";
import type {
  ListingPage,
  MarketListing,
  MarketPage,
  MarketQuery,
  MarketSettings,
  PriceBreakdown,
  SellerReputation,
} from "../../lib/api/market.ts";
import type { Trade } from "../../lib/api/trades.ts";
import {
  IERC20Metadata__factory,
  ItemEscrow__factory,
  type ItemEscrow,
} from "../../types/typechain/index.ts";
import type { ChainClock } from "../chain/chain-clock.ts";
import { AppError, notFound } from "../errors.ts";
import { toTrade, type ListingRow } from "../repositories/trades.ts";
import { resolveMetadata, type MetadataSources } from "./item-metadata.ts";
import type { HistoryPosition, MarketStore } from "./market-store.ts";
import {
  currentMetadataOf,
  type CurrentMetadata,
  type ItemUri,
  type MetadataStore,
} from "./metadata-store.ts";

const NATIVE = "0x0000000000000000000000000000000000000000";
/** Item types whose metadata a search reads first when never read; the rest are read as they are shown. */
const SEARCH_RESOLVES = 200;
/** How long searches rely on every item type's metadata having been read before looking for new ones. */
const UNREAD_CHECK_MS = 5000;
/** Item types a name search may match; more words narrow it. */
const SEARCH_MATCHES = 1000;
/** Name searches whose matching item types are kept, for UNREAD_CHECK_MS each. */
const SEARCHES_KEPT = 10_000;
/** The provenance steps a listing's page carries; the rest page through the item's history. */
const PROVENANCE_ON_PAGE = 50;
/** How long the escrow's commission and windows are kept before being read again. */
const SETTINGS_TTL_MS = 5000;

export interface MarketServiceDeps {
  provider: Provider;
  deployment: Deployment;
  market: MarketStore;
  metadata: MetadataStore;
  sources: MetadataSources;
  clock: ChainClock;
  heads(): Promise<ChainHeads>;
}

const UNREAD: ItemMetadata = { status: "unsupported", name: null, description: null, image: null };

function breakdownOf(trade: Trade): PriceBreakdown {
  const split = splitPrice(BigInt(trade.price), trade.commissionBps);
  return {
    price: trade.price,
    commissionBps: trade.commissionBps,
    commission: split.commission.toString(),
    sellerReceives: split.sellerReceives.toString(),
  };
}

/** `<block>.<log>.<batch>` */
const historyCursorOf = (p: HistoryPosition) => `${p.block}.${p.log}.${p.batch}`;

/**
 * The trading floor's reads: every open listing (searched, filtered, sorted, keyset-paged), a
 * listing's page with its seller's reputation and the item's provenance, items with their metadata,
 * what a wallet holds, and the market's settings read from the escrow.
 */
export class MarketService {
  readonly #escrow: ItemEscrow;
  readonly #itemToken: string;
  #settings: { value: Promise<Omit<MarketSettings, "chainTime">>; at: number } | null = null;
  /** When a search last found every item type's metadata read (0: not yet, or more were left). */
  #allReadAt = 0;
  /** The item types each recent name search matched, by its words. */
  readonly #named = new Map<string, { ids: string[]; at: number }>();
  // Bumped whenever this process keeps metadata: a match read before must not be kept after.
  #namesGeneration = 0;

  constructor(private readonly deps: MarketServiceDeps) {
    this.#escrow = ItemEscrow__factory.connect(deps.deployment.contracts.ItemEscrow.address, deps.provider);
    this.#itemToken = deps.deployment.contracts.GameItems.address.toLowerCase();
  }

  /** The commission new listings are made at and the windows, from the escrow; the currencies the app knows. */
  async settings(): Promise<MarketSettings> {
    if (!this.#settings || Date.now() - this.#settings.at >= SETTINGS_TTL_MS) {
      const value = this.#readSettings();
      this.#settings = { value, at: Date.now() };
      value.catch(() => {
        this.#settings = null;
      });
    }
    const [settings, now] = await Promise.all([this.#settings.value, this.deps.clock.nowSeconds()]);
    return { ...settings, chainTime: new Date(now * 1000).toISOString() };
  }

  async #readSettings(): Promise<Omit<MarketSettings, "chainTime">> {
    const token = IERC20Metadata__factory.connect(this.deps.deployment.settlementToken, this.deps.provider);
    const [commissionBps, confirmationWindow, disputeWindow, symbol, decimals] = await Promise.all([
      this.#escrow.commissionBps(),
      this.#escrow.confirmationWindow(),
      this.#escrow.disputeWindow(),
      token.symbol(),
      token.decimals(),
    ]);
    return {
      escrow: checksum(this.deps.deployment.contracts.ItemEscrow.address.toLowerCase())!,
      itemToken: checksum(this.#itemToken)!,
      commissionBps: Number(commissionBps),
      maxCommissionBps: MAX_COMMISSION_BPS,
      confirmationWindowSeconds: Number(confirmationWindow),
      disputeWindowSeconds: Number(disputeWindow),
      currencies: [
        { address: NATIVE, symbol: "ETH", decimals: 18 },
        {
          address: checksum(this.deps.deployment.settlementToken.toLowerCase())!,
          symbol: symbol.slice(0, 16),
          decimals: Number(decimals),
        },
      ],
    };
  }

  /** A page of open listings: not bought, cancelled or past their deadline (by the chain's clock). */
  async listings(query: MarketQuery): Promise<MarketPage> {
    const after = query.cursor ? this.#parseCursor(query) : undefined;
    let itemIds = query.itemId === undefined ? undefined : [query.itemId];
    if (query.q !== undefined) {
      if (Date.now() - this.#allReadAt >= UNREAD_CHECK_MS) {
        const unread = await this.deps.metadata.unresolved(SEARCH_RESOLVES);
        await this.#resolve(unread);
        this.#allReadAt = unread.length === 0 ? Date.now() : 0;
      }
      const named = await this.#idsNamed(query.q);
      itemIds = itemIds ? itemIds.filter((id) => named.includes(id)) : named;
      if (itemIds.length === 0) return { items: [], nextCursor: null };
    }
    const [heads, now] = await Promise.all([this.deps.heads(), this.deps.clock.nowSeconds()]);
    const rows = await this.deps.market.openListings({
      itemIds,
      seller: query.seller,
      currency: query.currency,
      minPrice: query.minPrice,
      maxPrice: query.maxPrice,
      now,
      sort: query.sort,
      after,
      limit: query.limit,
    });
    const more = rows.length > query.limit;
    if (more) rows.pop();
    const current = currentMetadataOf(
      rows.flatMap((r) =>
        r.item_uri === null
          ? []
          : [
              {
                item_id: r.item_id,
                uri: r.item_uri,
                status: r.item_status,
                name: r.item_name,
                description: r.item_description,
                image: r.item_image,
              },
            ],
      ),
    );
    const items = await this.#withItems(rows, heads, current);
    const last = rows.at(-1);
    return { items, nextCursor: more && last ? this.#cursorOf(query.sort, last) : null };
  }

  /** A listing in any state, with its history, what a sale pays whom, the seller's record and the item's provenance. */
  async listingPage(listingId: string): Promise<ListingPage> {
    const row = await this.deps.market.listing(listingId);
    if (!row) throw notFound("listing", { listingId });
    const heads = await this.deps.heads();
    const [[listing], history, reputation, now] = await Promise.all([
      this.#withItems([row], heads),
      this.deps.market.listingHistory(listingId, heads),
      this.deps.market.reputation(row.seller),
      this.deps.clock.nowSeconds(),
    ]);
    const provenance =
      row.token === this.#itemToken
        ? await this.deps.market.itemHistory(row.item_id, null, PROVENANCE_ON_PAGE, heads)
        : [];
    const more = provenance.length > PROVENANCE_ON_PAGE;
    if (more) provenance.pop();
    return {
      ...listing!,
      buyable: row.state === "listed" && BigInt(row.deadline) > BigInt(now),
      history,
      reputation,
      provenance: provenance.map(({ position: _position, ...step }) => step),
      provenanceCursor: more ? historyCursorOf(provenance.at(-1)!.position) : null,
    };
  }

  reputation(address: string): Promise<SellerReputation> {
    return this.deps.market.reputation(address);
  }

  /** An item type of the platform's item contract, with its metadata, supply and market figures. */
  async item(itemId: string): Promise<Item> {
    const row = await this.deps.market.item(itemId);
    if (!row) throw notFound("item", { itemId });
    const heads = await this.deps.heads();
    const metadata = await this.#metadata([{ itemId: row.item_id, uri: row.uri }]);
    return {
      token: checksum(this.#itemToken)!,
      itemId: row.item_id,
      uri: row.uri,
      metadata: metadata.get(`${row.item_id} ${row.uri}`) ?? UNREAD,
      maxSupply: row.max_supply,
      minted: row.minted,
      burned: row.burned,
      holders: row.holders,
      openListings: row.open_listings,
      blockNumber: row.block_number,
      finality: finalityOf(row.updated_block, heads),
    };
  }

  /** An item's provenance, newest first, keyset-paged. */
  async itemHistory(itemId: string, query: ItemHistoryQuery): Promise<ItemHistory> {
    if (!(await this.deps.market.item(itemId))) throw notFound("item", { itemId });
    const [block, log, batch] = query.cursor?.split(".") ?? [];
    const before = query.cursor ? { block: block!, log: Number(log), batch: Number(batch) } : null;
    const steps = await this.deps.market.itemHistory(itemId, before, query.limit, await this.deps.heads());
    const more = steps.length > query.limit;
    if (more) steps.pop();
    return {
      items: steps.map(({ position: _position, ...step }) => step),
      nextCursor: more ? historyCursorOf(steps.at(-1)!.position) : null,
    };
  }

  /** The items a wallet holds, with their metadata (items in escrow belong to the escrow until the trade ends). */
  async holdings(owner: string): Promise<Holdings> {
    const [rows, heads] = await Promise.all([this.deps.market.holdings(owner), this.deps.heads()]);
    const metadata = await this.#metadata(
      rows.filter((r) => r.uri !== null).map((r) => ({ itemId: r.item_id, uri: r.uri! })),
    );
    return {
      items: rows.map((r) => ({
        token: checksum(this.#itemToken)!,
        itemId: r.item_id,
        balance: r.balance,
        uri: r.uri,
        maxSupply: r.max_supply,
        metadata: (r.uri !== null && metadata.get(`${r.item_id} ${r.uri}`)) || UNREAD,
        finality: finalityOf(r.updated_block, heads),
      })),
    };
  }

  /** Listing rows as the wire's listings, with their items' metadata (`current`, read here when not given). */
  async #withItems(rows: ListingRow[], heads: ChainHeads, known?: CurrentMetadata): Promise<MarketListing[]> {
    const ours = rows.filter((r) => r.token === this.#itemToken).map((r) => r.item_id);
    const current = known ?? (await this.deps.metadata.current([...new Set(ours)]));
    const uris = new Map(current.uris.map((i) => [i.itemId, i.uri]));
    const metadata = current.kept;
    const missing = current.uris.filter((i) => !metadata.has(`${i.itemId} ${i.uri}`));
    for (const [key, value] of await this.#resolve(missing)) metadata.set(key, value);
    return rows.map((row) => {
      const trade = toTrade(row, heads);
      const uri = row.token === this.#itemToken ? uris.get(row.item_id) : undefined;
      return {
        ...trade,
        item: (uri !== undefined && metadata.get(`${row.item_id} ${uri}`)) || UNREAD,
        breakdown: breakdownOf(trade),
      };
    });
  }

  /** Metadata of each (item, URI), read from the URIs and kept the first time they are asked for. */
  async #metadata(items: ItemUri[]): Promise<Map<string, ItemMetadata>> {
    const found = await this.deps.metadata.find(items);
    const missing = items.filter((i) => !found.has(`${i.itemId} ${i.uri}`));
    for (const [key, value] of await this.#resolve(missing)) found.set(key, value);
    return found;
  }

  /**
   * The item types whose name holds every word of `q`. A search's matches are kept as long as
   * searches rely on every item type's metadata having been read (UNREAD_CHECK_MS), and dropped as
   * soon as this process keeps new metadata; names read by another process, or an item type given
   * a new URI, reach searches within that time.
   */
  async #idsNamed(q: string): Promise<string[]> {
    const words = q.toLowerCase().split(/\s+/).filter(Boolean).join(" ");
    const kept = this.#named.get(words);
    if (kept && Date.now() - kept.at < UNREAD_CHECK_MS) return kept.ids;
    const generation = this.#namesGeneration;
    const at = Date.now();
    const ids = await this.deps.metadata.idsNamed(words, SEARCH_MATCHES);
    if (generation === this.#namesGeneration) {
      if (this.#named.size >= SEARCHES_KEPT) this.#named.clear();
      this.#named.set(words, { ids, at });
    }
    return ids;
  }

  async #resolve(items: ItemUri[]): Promise<Map<string, ItemMetadata>> {
    const resolved = new Map<string, ItemMetadata>();
    try {
      await Promise.all(
        items.map(async (item) => {
          const metadata = await resolveMetadata(item.uri, item.itemId, this.deps.sources);
          await this.deps.metadata.save(item, metadata);
          resolved.set(`${item.itemId} ${item.uri}`, metadata);
        }),
      );
    } finally {
      if (items.length > 0) {
        // New names may match searches kept before them.
        this.#namesGeneration += 1;
        this.#named.clear();
      }
    }
    return resolved;
  }

  #cursorOf(sort: MarketQuery["sort"], row: ListingRow): string {
    if (sort === "newest") return row.listing_id;
    return `${sort === "ending" ? row.deadline : row.price}.${row.listing_id}`;
  }

  #parseCursor(query: MarketQuery): { value: string | null; listingId: string } {
    const parts = query.cursor!.split(".");
    const keyed = query.sort !== "newest";
    if (parts.length !== (keyed ? 2 : 1)) {
      throw new AppError(
        "INVALID_CURSOR",
        400,
        `the cursor does not belong to a page sorted by ${query.sort}`,
      );
    }
    return keyed ? { value: parts[0]!, listingId: parts[1]! } : { value: null, listingId: parts[0]! };
  }
}
