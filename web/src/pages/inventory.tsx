import { useState } from "react";
import type { ItemHolding } from "../../../lib/api/items.ts";
import { describeError } from "../api.ts";
import { Empty, ErrorNote, FinalityBadge, Loading, useAsync, usePageTitle } from "../components.tsx";
import { formatAmount, getHoldings, getItemHistory, getMarketSettings, openListings } from "../market.ts";
import { Link } from "../router.tsx";
import { useWallet } from "../wallet.tsx";
import { ItemImage, ItemName, itemLabel, Provenance } from "./market-parts.tsx";

/** The items the connected wallet holds, with each one's history, and what it has in escrow for sale. */
export function InventoryPage() {
  usePageTitle("Inventory");
  const wallet = useWallet();
  return (
    <>
      <h1>Inventory</h1>
      <p className="lead">
        The game items your wallet holds, as the chain has them. Items you list move into escrow until the
        trade ends.
      </p>
      {wallet.address ? (
        <Holdings owner={wallet.address} />
      ) : (
        <Empty title="Connect a wallet to see your items" />
      )}
    </>
  );
}

function Holdings({ owner }: { owner: string }) {
  const holdings = useAsync((signal) => getHoldings(owner, signal), [owner]);
  const listed = useAsync((signal) => openListings(owner, signal), [owner]);
  const market = useAsync(() => getMarketSettings(), []);
  if (holdings.loading && !holdings.data) return <Loading label="Loading your items" />;
  if (holdings.error) return <ErrorNote error={holdings.error} retry={holdings.reload} />;
  const items = holdings.data!.items;
  return (
    <>
      {items.length === 0 ? (
        <Empty title="Your wallet holds no game items">
          <p>
            Find some in the <Link href="/market">market</Link>.
          </p>
        </Empty>
      ) : (
        <ul className="card-grid item-grid" aria-label="Items you hold">
          {items.map((item) => (
            <li key={item.itemId}>
              <HoldingCard item={item} />
            </li>
          ))}
        </ul>
      )}
      {listed.data && listed.data.length > 0 && (
        <section className="trade-section" aria-labelledby="in-escrow">
          <h2 id="in-escrow" className="section-heading">
            In escrow, for sale
          </h2>
          <ul className="plain-list">
            {listed.data.map((trade) => (
              <li key={trade.listingId}>
                <Link href={`/market/${trade.listingId}`}>
                  Trade #{trade.listingId}: {trade.amount} × item {trade.itemId} for{" "}
                  {formatAmount(trade.price, trade.currency, market.data)}
                </Link>
              </li>
            ))}
          </ul>
        </section>
      )}
    </>
  );
}

function HoldingCard({ item }: { item: ItemHolding }) {
  const [open, setOpen] = useState(false);
  const label = itemLabel(item.metadata, item.itemId);
  return (
    <article className="card item-card" aria-label={label}>
      <ItemImage metadata={item.metadata} itemId={item.itemId} />
      <div className="item-card-body">
        <h2 className="card-title">
          <ItemName metadata={item.metadata} itemId={item.itemId} />
        </h2>
        <p className="muted item-line">
          × {item.balance} · item #{item.itemId} <FinalityBadge finality={item.finality} />
        </p>
        {item.metadata.description && <p className="item-description">{item.metadata.description}</p>}
        <div className="offer-actions">
          <Link className="button button-primary button-small" href={`/sell?item=${item.itemId}`}>
            Sell
          </Link>
          <button
            type="button"
            className="button button-small"
            aria-expanded={open}
            onClick={() => setOpen((o) => !o)}
          >
            {open ? "Hide history" : "History"}
          </button>
        </div>
        {open && <ItemHistory itemId={item.itemId} />}
      </div>
    </article>
  );
}

/** An item's provenance, a page at a time. */
export function ItemHistory({ itemId }: { itemId: string }) {
  const market = useAsync(() => getMarketSettings(), []);
  const [cursor, setCursor] = useState<string | null>(null);
  const [more, setMore] = useState<{
    steps: Awaited<ReturnType<typeof getItemHistory>>["items"];
    error: string | null;
  }>({ steps: [], error: null });
  const first = useAsync((signal) => getItemHistory(itemId, null, signal), [itemId]);
  if (first.loading && !first.data) return <Loading label="Loading its history" />;
  if (first.error) return <ErrorNote error={first.error} retry={first.reload} />;
  const next = cursor ?? first.data!.nextCursor;
  const loadMore = async () => {
    try {
      const page = await getItemHistory(itemId, next);
      setMore((m) => ({ steps: [...m.steps, ...page.items], error: null }));
      setCursor(page.nextCursor ?? "");
    } catch (err) {
      setMore((m) => ({ ...m, error: describeError(err) }));
    }
  };
  return (
    <div className="item-history">
      <Provenance steps={[...first.data!.items, ...more.steps]} escrow={market.data?.escrow ?? ""} />
      {more.error && <p className="field-error">{more.error}</p>}
      {next && (
        <button type="button" className="button button-small" onClick={loadMore}>
          Earlier steps
        </button>
      )}
    </div>
  );
}
