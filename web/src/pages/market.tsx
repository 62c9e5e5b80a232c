import { isAddress } from "ethers";
import { useEffect, useId, useState, type FormEvent } from "react";
import type { MarketListing, MarketSettings, MarketSort } from "../../../lib/api/market.ts";
import { formatBps } from "../../../lib/commission.ts";
import { describeError } from "../api.ts";
import { Countdown, Empty, ErrorNote, Loading, useAsync, usePageTitle } from "../components.tsx";
import { shortHex } from "../format.ts";
import { formatAmount, getMarketSettings, parseAmount, searchMarket, type MarketFilters } from "../market.ts";
import { Link, navigate } from "../router.tsx";
import { ItemImage, ItemName, itemLabel } from "./market-parts.tsx";

const SORTS: { value: MarketSort; label: string }[] = [
  { value: "newest", label: "Newest" },
  { value: "price_asc", label: "Price: low to high" },
  { value: "price_desc", label: "Price: high to low" },
  { value: "ending", label: "Ending soon" },
];

interface Form {
  q: string;
  itemId: string;
  seller: string;
  currency: string;
  min: string;
  max: string;
  sort: MarketSort;
}

function formOf(params: URLSearchParams): Form {
  const sort = params.get("sort");
  return {
    q: params.get("q") ?? "",
    itemId: params.get("item") ?? "",
    seller: params.get("seller") ?? "",
    currency: params.get("currency") ?? "",
    min: params.get("min") ?? "",
    max: params.get("max") ?? "",
    sort: SORTS.some((s) => s.value === sort) ? (sort as MarketSort) : "newest",
  };
}

/** The API's filters for a form: prices typed in the chosen currency's units; null with the first problem. */
function filtersOf(
  form: Form,
  market: MarketSettings | null,
): { filters: MarketFilters } | { problem: string } {
  const filters: MarketFilters = { sort: form.sort };
  if (form.q.trim()) filters.q = form.q.trim();
  if (form.itemId.trim()) {
    if (!/^\d+$/.test(form.itemId.trim())) return { problem: "The item id is a whole number." };
    filters.itemId = form.itemId.trim();
  }
  if (form.seller.trim()) {
    if (!isAddress(form.seller.trim()))
      return { problem: "The seller is a wallet address (0x and 40 hex digits)." };
    filters.seller = form.seller.trim();
  }
  const currency = market?.currencies.find((c) => c.address === form.currency);
  if (currency) filters.currency = currency.address;
  for (const [field, text] of [
    ["minPrice", form.min],
    ["maxPrice", form.max],
  ] as const) {
    if (!text.trim()) continue;
    if (!currency) return { problem: "Choose a currency to filter by price." };
    const value = parseAmount(text, currency.decimals);
    if (value === null) return { problem: `Prices are positive amounts of ${currency.symbol}.` };
    filters[field] = value.toString();
  }
  return { filters };
}

/** Every open listing of every player: search, filter, sort, and load more. */
export function MarketPage({ params }: { params: URLSearchParams }) {
  usePageTitle("Market");
  const id = useId();
  const market = useAsync(() => getMarketSettings(), []);
  const applied = formOf(params);
  const [form, setForm] = useState<Form>(applied);
  const key = params.toString();
  useEffect(() => setForm(formOf(new URLSearchParams(key))), [key]);
  const parsed = filtersOf(applied, market.data);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const next = new URLSearchParams();
    const fields: [string, string][] = [
      ["q", form.q],
      ["item", form.itemId],
      ["seller", form.seller],
      ["currency", form.currency],
      ["min", form.min],
      ["max", form.max],
    ];
    for (const [name, value] of fields) if (value.trim()) next.set(name, value.trim());
    if (form.sort !== "newest") next.set("sort", form.sort);
    navigate(`/market${next.toString() ? `?${next.toString()}` : ""}`);
  };
  const set = (field: keyof Form) => (e: { target: { value: string } }) =>
    setForm((f) => ({ ...f, [field]: e.target.value }));

  return (
    <>
      <div className="page-title">
        <h1>Market</h1>
        {market.data && (
          <span className="badge badge-info">
            Commission {formatBps(market.data.commissionBps)} on new listings
          </span>
        )}
      </div>
      <p className="lead">
        Game items other players list for sale. Payment is held in escrow until you confirm you received the
        items; a dispute goes to an arbiter.
      </p>
      <form className="card market-filters" role="search" aria-label="Search the market" onSubmit={submit}>
        <div className="field field-wide">
          <label htmlFor={`${id}-q`}>Item name</label>
          <input id={`${id}-q`} type="search" value={form.q} onChange={set("q")} placeholder="e.g. sword" />
        </div>
        <div className="field">
          <label htmlFor={`${id}-item`}>Item id</label>
          <input id={`${id}-item`} inputMode="numeric" value={form.itemId} onChange={set("itemId")} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-seller`}>Seller</label>
          <input
            id={`${id}-seller`}
            className="mono-input"
            value={form.seller}
            onChange={set("seller")}
            placeholder="0x…"
            spellCheck={false}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-currency`}>Currency</label>
          <select id={`${id}-currency`} value={form.currency} onChange={set("currency")}>
            <option value="">Any</option>
            {market.data?.currencies.map((c) => (
              <option key={c.address} value={c.address}>
                {c.symbol}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-min`}>Min price</label>
          <input id={`${id}-min`} inputMode="decimal" value={form.min} onChange={set("min")} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-max`}>Max price</label>
          <input id={`${id}-max`} inputMode="decimal" value={form.max} onChange={set("max")} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-sort`}>Sort</label>
          <select id={`${id}-sort`} value={form.sort} onChange={set("sort")}>
            {SORTS.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field market-submit">
          <button type="submit" className="button button-primary">
            Search
          </button>
        </div>
      </form>
      {"problem" in parsed ? (
        <p className="alert alert-warn" role="alert">
          {parsed.problem}
        </p>
      ) : (
        <Results key={key} filters={parsed.filters} market={market.data} />
      )}
    </>
  );
}

function Results({ filters, market }: { filters: MarketFilters; market: MarketSettings | null }) {
  const first = useAsync((signal) => searchMarket(filters, null, signal), [JSON.stringify(filters)]);
  const [more, setMore] = useState<MarketListing[]>([]);
  const [cursor, setCursor] = useState<string | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  if (first.loading && !first.data) return <Loading label="Searching the market" />;
  if (first.error) return <ErrorNote error={first.error} retry={first.reload} />;
  const listings = [...first.data!.items, ...more];
  const next = cursor === undefined ? first.data!.nextCursor : cursor;
  const loadMore = async () => {
    setLoading(true);
    try {
      const page = await searchMarket(filters, next);
      setMore((m) => [...m, ...page.items]);
      setCursor(page.nextCursor);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setLoading(false);
    }
  };
  if (listings.length === 0) return <Empty title="No open listing matches" />;
  return (
    <>
      <ul className="card-grid item-grid" aria-label="Open listings">
        {listings.map((listing) => (
          <li key={listing.listingId}>
            <ListingCard listing={listing} market={market} />
          </li>
        ))}
      </ul>
      {error && <p className="field-error">{error}</p>}
      {next && (
        <p className="center">
          <button type="button" className="button" disabled={loading} onClick={loadMore}>
            {loading ? "Loading…" : "Load more"}
          </button>
        </p>
      )}
    </>
  );
}

function ListingCard({ listing, market }: { listing: MarketListing; market: MarketSettings | null }) {
  const label = `${itemLabel(listing.item, listing.itemId)}, trade #${listing.listingId}`;
  return (
    <article className="card item-card work-card" aria-label={label}>
      <ItemImage metadata={listing.item} itemId={listing.itemId} />
      <div className="item-card-body">
        <h2 className="card-title">
          <Link href={`/market/${listing.listingId}`}>
            <ItemName metadata={listing.item} itemId={listing.itemId} />
            {listing.amount !== "1" && <> × {listing.amount}</>}
          </Link>
        </h2>
        <p className="item-price">{formatAmount(listing.price, listing.currency, market)}</p>
        <dl className="card-meta">
          <div>
            <dt>Seller receives</dt>
            <dd>
              {formatAmount(listing.breakdown.sellerReceives, listing.currency, market)} (after{" "}
              {formatBps(listing.breakdown.commissionBps)})
            </dd>
          </div>
          <div>
            <dt>Seller</dt>
            <dd>
              <code title={listing.seller}>{shortHex(listing.seller)}</code>
            </dd>
          </div>
          <div>
            <dt>Ends in</dt>
            <dd>
              <Countdown iso={listing.deadline} />
            </dd>
          </div>
        </dl>
      </div>
    </article>
  );
}
