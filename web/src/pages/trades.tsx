import { useState } from "react";
import { describeError, isUnavailable } from "../api.ts";
import type { Trade } from "../../../lib/api/trades.ts";
import { listTrades, tradeAction, type TradeAction } from "../commerce.ts";
import { Empty, ErrorNote, Loading, Time, useAsync, usePageTitle } from "../components.tsx";
import { formatBps } from "../../../lib/commission.ts";
import { shortHex } from "../format.ts";
import { formatAmount, getMarketSettings } from "../market.ts";
import { Link } from "../router.tsx";
import { useWallet } from "../wallet.tsx";
import { StateBadge } from "./market-parts.tsx";

interface NextStep {
  text: string;
  action?: { kind: TradeAction; label: string };
  secondary?: { kind: TradeAction; label: string };
}

/** The side of an ended trade the wallet may still take out of escrow, if any. */
function claimStep(trade: Trade, owedItems: boolean, done: string): NextStep {
  if (owedItems) {
    return trade.itemsClaimed
      ? { text: done }
      : { text: `${done}: the items wait in escrow`, action: { kind: "claim-items", label: "Claim items" } };
  }
  return trade.fundsClaimed
    ? { text: done }
    : { text: `${done}: the money waits in escrow`, action: { kind: "claim-funds", label: "Claim funds" } };
}

/** What the connected wallet can or must do next on a listing, given its role and the escrow state. */
function nextStep(trade: Trade, role: "seller" | "buyer", now = Date.now()): NextStep {
  const windowOpen = trade.confirmBy !== null && new Date(trade.confirmBy).getTime() > now;
  switch (trade.state) {
    case "listed":
      if (role === "buyer") return { text: "Listed" };
      return new Date(trade.deadline).getTime() < now
        ? {
            text: "Unsold past its deadline: take the items back",
            action: { kind: "reclaim", label: "Reclaim items" },
          }
        : { text: "Waiting for a buyer", action: { kind: "cancel", label: "Cancel listing" } };
    case "paid":
      if (!windowOpen)
        return { text: "Confirmation window over", action: { kind: "settle", label: "Settle" } };
      return role === "buyer"
        ? {
            text: "Check the items, then confirm",
            action: { kind: "confirm", label: "Confirm receipt" },
            secondary: { kind: "dispute", label: "Dispute" },
          }
        : { text: "Waiting for the buyer to confirm" };
    case "disputed":
      return trade.resolveBy !== null && new Date(trade.resolveBy).getTime() < now
        ? {
            text: "Nobody resolved the dispute in time: unwind it to get your side back",
            action: { kind: "unwind", label: "Unwind" },
          }
        : { text: "An arbiter will resolve the dispute" };
    case "completed":
      return claimStep(trade, role === "buyer", role === "buyer" ? "Bought" : "Sold");
    case "refunded":
      return claimStep(trade, role === "seller", "Refunded");
    default:
      return { text: "Closed" };
  }
}

/** The connected wallet's listings and purchases with their escrow state and next action. */
export function TradesPage() {
  usePageTitle("Trades");
  const wallet = useWallet();
  return (
    <>
      <h1>Trades</h1>
      <p className="lead">
        Game items you list or buy are held in escrow until the buyer confirms or the window lapses; then each
        side claims what it is owed. Find items to buy in the <Link href="/market">market</Link>, or sell from
        your <Link href="/inventory">inventory</Link>.
      </p>
      {!wallet.address ? (
        <Empty title="Connect a wallet to see your trades" />
      ) : (
        <>
          <TradeTable role="seller" address={wallet.address} title="My listings" />
          <TradeTable role="buyer" address={wallet.address} title="My purchases" />
        </>
      )}
    </>
  );
}

function TradeTable({ role, address, title }: { role: "seller" | "buyer"; address: string; title: string }) {
  const wallet = useWallet();
  const trades = useAsync((signal) => listTrades(role, address, signal), [role, address]);
  const market = useAsync(() => getMarketSettings(), []);
  const [busy, setBusy] = useState<string | null>(null);
  const [message, setMessage] = useState<{ tone: "success" | "error"; text: string } | null>(null);
  const headingId = `${role}-trades`;

  const act = async (trade: Trade, kind: TradeAction, label: string) => {
    setBusy(`${trade.listingId}:${kind}`);
    setMessage(null);
    try {
      await tradeAction(wallet, trade, kind);
      setMessage({ tone: "success", text: `${label}: done for trade #${trade.listingId}.` });
      trades.reload();
    } catch (err) {
      setMessage({ tone: "error", text: describeError(err) });
    } finally {
      setBusy(null);
    }
  };

  return (
    <section aria-labelledby={headingId} className="trade-section">
      <h2 id={headingId} className="section-heading">
        {title}
      </h2>
      <div aria-live="polite">
        {message && <p className={`alert alert-${message.tone}`}>{message.text}</p>}
      </div>
      {trades.loading && !trades.data ? (
        <Loading label={`Loading ${title.toLowerCase()}`} />
      ) : isUnavailable(trades.error) ? (
        <Empty title="Trading is not available on this server yet" />
      ) : trades.error ? (
        <ErrorNote error={trades.error} retry={trades.reload} />
      ) : trades.data!.length === 0 ? (
        <Empty title={role === "seller" ? "You have no listings" : "You have bought nothing yet"} />
      ) : (
        <table className="table responsive-table">
          <caption className="visually-hidden">{title}</caption>
          <thead>
            <tr>
              <th scope="col">Trade</th>
              <th scope="col">Item</th>
              <th scope="col">Price</th>
              <th scope="col">{role === "seller" ? "Buyer" : "Seller"}</th>
              <th scope="col">Escrow</th>
              <th scope="col">Next</th>
            </tr>
          </thead>
          <tbody>
            {trades.data!.map((trade) => {
              const step = nextStep(trade, role);
              const counterparty = role === "seller" ? trade.buyer : trade.seller;
              return (
                <tr key={trade.listingId}>
                  <td data-label="Trade">
                    <Link href={`/market/${trade.listingId}`}>#{trade.listingId}</Link>
                  </td>
                  <td data-label="Item">
                    {trade.amount} × item {trade.itemId}
                  </td>
                  <td data-label="Price">
                    {formatAmount(trade.price, trade.currency, market.data)}{" "}
                    <span className="muted">(commission {formatBps(trade.commissionBps)})</span>
                  </td>
                  <td data-label={role === "seller" ? "Buyer" : "Seller"}>
                    {counterparty ? <code title={counterparty}>{shortHex(counterparty)}</code> : "—"}
                  </td>
                  <td data-label="Escrow">
                    <StateBadge state={trade.state} />
                    {trade.state === "paid" && trade.confirmBy && (
                      <span className="muted">
                        {" "}
                        window ends <Time iso={trade.confirmBy} />
                      </span>
                    )}
                  </td>
                  <td data-label="Next" className="actions">
                    <span className="next-text">{step.text}</span>
                    {[step.action, step.secondary].map(
                      (action) =>
                        action && (
                          <button
                            key={action.kind}
                            type="button"
                            className={`button button-small${action === step.action ? " button-primary" : ""}`}
                            disabled={busy !== null}
                            onClick={() => act(trade, action.kind, action.label)}
                          >
                            {busy === `${trade.listingId}:${action.kind}` ? "Sending…" : action.label}
                          </button>
                        ),
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
