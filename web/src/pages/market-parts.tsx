/** Pieces the trading floor's pages share: an item's picture and name, prices with commission, provenance. */
import type { ItemMetadata, ProvenanceStep } from "../../../lib/api/items.ts";
import type { MarketSettings, PriceBreakdown, SellerReputation } from "../../../lib/api/market.ts";
import type { TradeState } from "../../../lib/api/trades.ts";
import { formatBps } from "../../../lib/commission.ts";
import { Badge, FinalityBadge, Time, Untrusted } from "../components.tsx";
import { shortHex } from "../format.ts";
import { formatAmount } from "../market.ts";
import { Link } from "../router.tsx";

export const STATE_TONE: Record<TradeState, "ok" | "warn" | "bad" | "info" | "muted"> = {
  listed: "info",
  paid: "warn",
  disputed: "bad",
  completed: "ok",
  cancelled: "muted",
  expired: "muted",
  refunded: "muted",
};

export function StateBadge({ state }: { state: TradeState }) {
  return <Badge tone={STATE_TONE[state]}>{state}</Badge>;
}

/** The item's picture, or its id on a plain tile when its metadata has none the app can show. */
export function ItemImage({ metadata, itemId }: { metadata: ItemMetadata; itemId: string }) {
  return metadata.image ? (
    <img className="item-image" src={metadata.image} alt="" loading="lazy" />
  ) : (
    <span className="item-image item-image-empty" aria-hidden="true">
      #{itemId.length > 6 ? `${itemId.slice(0, 5)}…` : itemId}
    </span>
  );
}

/** The item's name as its studio wrote it (untrusted text), or "Item #id". */
export function ItemName({ metadata, itemId }: { metadata: ItemMetadata; itemId: string }) {
  return metadata.name ? <Untrusted text={metadata.name} /> : <>Item #{itemId}</>;
}

/** A plain-text name, for labels and titles. */
export const itemLabel = (metadata: ItemMetadata, itemId: string) => metadata.name ?? `Item #${itemId}`;

/** The price, the commission fixed at listing and what the seller receives. */
export function Breakdown({
  breakdown,
  currency,
  market,
}: {
  breakdown: PriceBreakdown;
  currency: string;
  market: MarketSettings | null;
}) {
  return (
    <dl className="breakdown" aria-label="Price breakdown">
      <div>
        <dt>Price</dt>
        <dd>{formatAmount(breakdown.price, currency, market)}</dd>
      </div>
      <div>
        <dt>Commission ({formatBps(breakdown.commissionBps)})</dt>
        <dd>− {formatAmount(breakdown.commission, currency, market)}</dd>
      </div>
      <div className="breakdown-total">
        <dt>Seller receives</dt>
        <dd>{formatAmount(breakdown.sellerReceives, currency, market)}</dd>
      </div>
    </dl>
  );
}

export function Reputation({ reputation }: { reputation: SellerReputation }) {
  return (
    <p className="reputation">
      <strong>{reputation.completedSales}</strong> {reputation.completedSales === 1 ? "sale" : "sales"}{" "}
      completed · <strong>{reputation.disputesLost}</strong>{" "}
      {reputation.disputesLost === 1 ? "dispute" : "disputes"} lost
      {reputation.disputesWon > 0 && <> · {reputation.disputesWon} won</>}
      {reputation.disputesOpen > 0 && <> · {reputation.disputesOpen} open</>}
      {reputation.firstListedAt && (
        <>
          {" "}
          · trading since <Time iso={reputation.firstListedAt} />
        </>
      )}
    </p>
  );
}

const TRADE_TEXT: Record<string, string> = {
  Listed: "Listed",
  Cancelled: "Listing cancelled",
  Expired: "Listing expired unsold",
  Bought: "Bought; payment held in escrow",
  Disputed: "Disputed by the buyer",
  ArbiterAssigned: "Dispute handed to another arbiter",
  DisputeRejected: "Dispute rejected by the arbiter",
  Completed: "Sale completed",
  Refunded: "Trade refunded",
  ItemsClaimed: "Items taken out of escrow",
  FundsClaimed: "Payment taken out of escrow",
};

/** An escrow event as a player reads it ("Bought; payment held in escrow" for Bought). */
export function tradeStepText(event: string): string {
  return TRADE_TEXT[event] ?? event;
}

function Party({ address, escrow }: { address: string | null; escrow: string }) {
  if (!address) return <>nobody</>;
  if (address.toLowerCase() === escrow.toLowerCase()) return <>the escrow</>;
  return <code title={address}>{shortHex(address)}</code>;
}

/** What happened to an item, newest first: mints, transfers, burns and the escrow steps of its listings. */
export function Provenance({ steps, escrow }: { steps: ProvenanceStep[]; escrow: string }) {
  return (
    <ol className="timeline" aria-label="Provenance">
      {steps.map((step) => (
        <li key={`${step.blockNumber}.${step.logIndex}.${step.kind}.${step.from ?? ""}.${step.to ?? ""}`}>
          <span className="timeline-text">
            {step.kind === "trade" ? (
              <>
                {tradeStepText(step.event)}{" "}
                <Link href={`/market/${step.listingId}`}>trade #{step.listingId}</Link>
              </>
            ) : step.kind === "mint" ? (
              <>
                Minted {step.amount} to <Party address={step.to} escrow={escrow} />
              </>
            ) : step.kind === "burn" ? (
              <>
                {step.amount} burned by <Party address={step.from} escrow={escrow} />
              </>
            ) : (
              <>
                {step.amount} moved from <Party address={step.from} escrow={escrow} /> to{" "}
                <Party address={step.to} escrow={escrow} />
              </>
            )}
          </span>
          <span className="timeline-meta">
            {step.at && <Time iso={step.at} />} · block {step.blockNumber}{" "}
            <FinalityBadge finality={step.finality} />
          </span>
        </li>
      ))}
    </ol>
  );
}
