/**
 * The market benchmark's data, written with COPY into the indexer's tables of a migrated database:
 * item types of the platform's item contract named from two word lists (their ERC-1155 metadata
 * inlined as data URIs, read by the API as it reads any), and escrow listings — the open ones still
 * for sale and as many ended ones (completed or cancelled) beside them — each with its state history.
 * The same seed gives the same rows.
 */
import type { ClientBase } from "pg";
import { metadataUri } from "../../test/helpers/market.ts";
import { sampler } from "./random.ts";
import { COPY_COLUMNS, copyInto } from "./scale-data.ts";

export const MATERIALS =
  `iron steel bronze silver golden obsidian crystal oak ash bone dragon elven dwarven frost flame
  storm shadow holy cursed ancient rusty royal runic jade ivory ebony copper mithril glass thorn
  moon sun star void blood ember tidal wind stone amber`.split(/\s+/);
export const KINDS =
  `sword axe bow dagger staff shield helmet boots gloves ring amulet cloak spear hammer wand mace
  crossbow scythe lantern potion scroll gem arrow banner saddle`.split(/\s+/);
/** Item types: one of each material and kind. */
export const ITEM_TYPES = MATERIALS.length * KINDS.length;

/** Item type `i` (0-based) is item id i + 1. */
export function itemName(i: number): string {
  const title = (w: string) => w[0]!.toUpperCase() + w.slice(1);
  return `${title(MATERIALS[Math.floor(i / KINDS.length)]!)} ${title(KINDS[i % KINDS.length]!)}`;
}

export interface MarketDataOptions {
  seed: number;
  /** Lower-case addresses of the platform's item contract and of the currencies listings ask for. */
  itemToken: string;
  /** Prices are drawn in thousandths of each currency's `maxPrice`. */
  currencies: { address: string; maxPrice: bigint }[];
  openListings: number;
  endedListings: number;
  sellers: number;
  /** Unix seconds by the chain's clock: open listings end 1 hour to 30 days after it. */
  now: number;
  /** The block every row is recorded at (a block the chain has). */
  block: number;
}

export interface MarketData {
  rows: Record<string, number>;
  /** Sellers, lower-case, most active first. */
  sellers: string[];
}

const hexOf = (random: () => number, chars: number) => {
  let out = "0x";
  while (out.length < chars + 2)
    out += Math.floor(random() * 2 ** 32)
      .toString(16)
      .padStart(8, "0");
  return out.slice(0, chars + 2);
};

/** Fills game_items, listings and listing_states of the (migrated) database of `client`. */
export async function copyMarketData(client: ClientBase, options: MarketDataOptions): Promise<MarketData> {
  const random = sampler(options.seed);
  const sellers = Array.from({ length: options.sellers }, () => hexOf(random, 40));
  const txHash = hexOf(random, 64);
  const total = options.openListings + options.endedListings;
  const rows: Record<string, number> = {};
  rows.game_items = await copyInto(
    client,
    "game_items",
    COPY_COLUMNS.game_items,
    Array.from({ length: ITEM_TYPES }, (_, i) => [
      i + 1,
      metadataUri({ name: itemName(i), description: `${itemName(i)} from the benchmark's armoury` }),
      0,
      1_000_000,
      0,
      options.block,
      i,
      txHash,
      options.block,
    ]),
  );
  // Listing l's rows, drawn once so listings and their states agree; ended listings are the odd ones.
  const listing = (l: number) => {
    const u = random();
    const currency = options.currencies[u < 0.7 ? 0 : 1 % options.currencies.length]!;
    const seller = sellers[Math.floor(options.sellers * random() * random())]!;
    const open = l % 2 === 0 ? l / 2 < options.openListings : (l - 1) / 2 >= options.endedListings;
    const state = open ? "listed" : random() < 0.6 ? "completed" : "cancelled";
    return {
      seller,
      item: 1 + Math.floor(random() * ITEM_TYPES),
      price: (BigInt(1 + Math.floor(random() * 1000)) * currency.maxPrice) / 1000n,
      currency: currency.address,
      deadline: options.now + 3600 + Math.floor(random() * 30 * 24 * 3600),
      state,
      buyer: state === "completed" ? sellers[Math.floor(random() * options.sellers)]! : null,
    };
  };
  const drawn = Array.from({ length: total }, (_, l) => listing(l));
  rows.listings = await copyInto(
    client,
    "listings",
    COPY_COLUMNS.listings,
    drawn.map((d, l) => {
      const commission = d.state === "completed" ? (d.price * 250n) / 10_000n : null;
      return [
        l + 1,
        d.seller,
        options.itemToken,
        d.item,
        1,
        d.price,
        d.currency,
        d.deadline,
        d.state,
        d.buyer,
        null,
        commission === null ? null : d.price - commission,
        commission,
        d.state === "completed" ? false : null,
        null,
        options.block,
        2 * l,
        txHash,
        options.block,
        250,
        d.state !== "listed",
        false,
      ];
    }),
  );
  rows.listing_states = await copyInto(
    client,
    "listing_states",
    COPY_COLUMNS.listing_states,
    drawn.flatMap((d, l) => [
      [l + 1, "Listed", "listed", options.block, 2 * l, txHash],
      ...(d.state === "listed"
        ? []
        : [
            [
              l + 1,
              d.state === "completed" ? "Completed" : "Cancelled",
              d.state,
              options.block,
              2 * l + 1,
              txHash,
            ],
          ]),
    ]),
  );
  for (const table of ["game_items", "listings", "listing_states"])
    await client.query(`VACUUM (ANALYZE) ${table}`);
  return { rows, sellers };
}
