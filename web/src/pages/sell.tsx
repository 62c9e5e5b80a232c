import { useEffect, useId, useState, type FormEvent } from "react";
import type { ItemHolding } from "../../../lib/api/items.ts";
import type { MarketSettings } from "../../../lib/api/market.ts";
import type { TransactionRequest } from "../../../lib/api/transactions.ts";
import { formatBps, splitPrice } from "../../../lib/commission.ts";
import { describeError } from "../api.ts";
import { Empty, ErrorNote, Loading, Steps, useAsync, usePageTitle } from "../components.tsx";
import {
  formatAmount,
  getHoldings,
  parseAmount,
  prepareSale,
  readMarketSettings,
  sell,
  type SellInput,
} from "../market.ts";
import { Link, navigate } from "../router.tsx";
import { useWallet } from "../wallet.tsx";
import { ItemImage, itemLabel } from "./market-parts.tsx";

const DURATIONS = [1, 3, 7, 14, 30];

/** Listing an item for sale: a price preview with the commission, and the fewest signatures (approval only when missing). */
export function SellPage({ itemId }: { itemId: string | null }) {
  usePageTitle("Sell an item");
  const wallet = useWallet();
  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link href="/inventory">Inventory</Link> <span aria-hidden="true">/</span> <span>Sell</span>
      </nav>
      <h1>Sell an item</h1>
      <p className="lead">
        Your items move into escrow while listed; you can cancel until someone buys. Once the buyer confirms
        (or the confirmation window passes), you withdraw the price less the commission.
      </p>
      {wallet.address ? (
        <SellForm owner={wallet.address} itemId={itemId} />
      ) : (
        <Empty title="Connect a wallet to sell your items" />
      )}
    </>
  );
}

function SellForm({ owner, itemId }: { owner: string; itemId: string | null }) {
  const holdings = useAsync((signal) => getHoldings(owner, signal), [owner]);
  const market = useAsync((signal) => readMarketSettings(signal), []);
  if ((holdings.loading && !holdings.data) || (market.loading && !market.data))
    return <Loading label="Loading your items" />;
  if (holdings.error) return <ErrorNote error={holdings.error} retry={holdings.reload} />;
  if (market.error) return <ErrorNote error={market.error} retry={market.reload} />;
  if (holdings.data!.items.length === 0)
    return (
      <Empty title="Your wallet holds no game items to sell">
        <p>
          Buy some in the <Link href="/market">market</Link>.
        </p>
      </Empty>
    );
  return <Form items={holdings.data!.items} market={market.data!} initialItem={itemId} />;
}

function Form({
  items,
  market,
  initialItem,
}: {
  items: ItemHolding[];
  market: MarketSettings;
  initialItem: string | null;
}) {
  const wallet = useWallet();
  const id = useId();
  const [itemId, setItemId] = useState(
    items.some((i) => i.itemId === initialItem) ? initialItem! : items[0]!.itemId,
  );
  const [amount, setAmount] = useState("1");
  const [currency, setCurrency] = useState(market.currencies[0]!.address);
  const [price, setPrice] = useState("");
  const [days, setDays] = useState(7);
  const [plan, setPlan] = useState<{ input: SellInput; transactions: TransactionRequest[] } | null>(null);
  const [planError, setPlanError] = useState<string | null>(null);
  const [sending, setSending] = useState<{ step: number; text: string } | null>(null);
  const [error, setError] = useState<string | null>(null);

  const item = items.find((i) => i.itemId === itemId)!;
  const unit = market.currencies.find((c) => c.address === currency)!;
  const units = parseAmount(price, unit.decimals);
  const count = /^\d+$/.test(amount) ? BigInt(amount) : 0n;
  const amountProblem =
    count < 1n ? "Sell at least one." : count > BigInt(item.balance) ? `You hold ${item.balance}.` : null;
  const split = units === null ? null : splitPrice(units, market.commissionBps);
  const deadline = String(Math.floor(Date.parse(market.chainTime) / 1000) + days * 86_400);

  // The transactions to sign, asked of the API as the form changes: the approval appears only when missing.
  useEffect(() => {
    setPlan(null);
    setPlanError(null);
    if (units === null || amountProblem) return;
    const input: SellInput = { itemId, amount, price: units.toString(), currency, deadline };
    let live = true;
    const timer = setTimeout(() => {
      prepareSale(wallet, input).then(
        (transactions) => live && setPlan({ input, transactions }),
        (err: unknown) => live && setPlanError(describeError(err)),
      );
    }, 300);
    return () => {
      live = false;
      clearTimeout(timer);
    };
    // The wallet object changes identity on every render of the provider; its address is what matters.
  }, [itemId, amount, currency, units?.toString(), deadline, amountProblem, wallet.address]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!plan) return;
    setError(null);
    try {
      let step = 0;
      const listingId = await sell(wallet, plan.transactions, (text) => setSending({ step: step++, text }));
      navigate(`/market/${listingId}`);
    } catch (err) {
      setError(describeError(err));
      setSending(null);
    }
  };

  const fmt = (v: bigint) => formatAmount(v.toString(), currency, market);
  return (
    <form className="two-columns" onSubmit={submit} aria-label="Sell an item">
      <section className="card">
        <div className="sell-item">
          <ItemImage metadata={item.metadata} itemId={item.itemId} />
          <div className="field">
            <label htmlFor={`${id}-item`}>Item</label>
            <select
              id={`${id}-item`}
              value={itemId}
              onChange={(e) => setItemId(e.target.value)}
              disabled={sending !== null}
            >
              {items.map((i) => (
                <option key={i.itemId} value={i.itemId}>
                  {itemLabel(i.metadata, i.itemId)} (you hold {i.balance})
                </option>
              ))}
            </select>
          </div>
        </div>
        <div className="form-grid">
          <div className="field">
            <label htmlFor={`${id}-amount`}>Quantity</label>
            <input
              id={`${id}-amount`}
              inputMode="numeric"
              value={amount}
              onChange={(e) => setAmount(e.target.value)}
              disabled={sending !== null}
              aria-describedby={amountProblem ? `${id}-amount-error` : undefined}
            />
            {amountProblem && (
              <p id={`${id}-amount-error`} className="field-error">
                {amountProblem}
              </p>
            )}
          </div>
          <div className="field">
            <label htmlFor={`${id}-currency`}>Currency</label>
            <select
              id={`${id}-currency`}
              value={currency}
              onChange={(e) => setCurrency(e.target.value)}
              disabled={sending !== null}
            >
              {market.currencies.map((c) => (
                <option key={c.address} value={c.address}>
                  {c.symbol}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor={`${id}-price`}>Price ({unit.symbol})</label>
            <input
              id={`${id}-price`}
              inputMode="decimal"
              placeholder="0.01"
              value={price}
              onChange={(e) => setPrice(e.target.value)}
              disabled={sending !== null}
            />
            {price.trim() !== "" && units === null && (
              <p className="field-error">Enter a positive amount of {unit.symbol}, e.g. 0.25.</p>
            )}
          </div>
          <div className="field">
            <label htmlFor={`${id}-days`}>Listed for</label>
            <select
              id={`${id}-days`}
              value={days}
              onChange={(e) => setDays(Number(e.target.value))}
              disabled={sending !== null}
            >
              {DURATIONS.map((d) => (
                <option key={d} value={d}>
                  {d} {d === 1 ? "day" : "days"}
                </option>
              ))}
            </select>
          </div>
        </div>
      </section>
      <section className="card" aria-labelledby={`${id}-preview`}>
        <h2 id={`${id}-preview`}>Preview</h2>
        <dl className="breakdown" aria-label="Price preview">
          <div>
            <dt>Buyer pays</dt>
            <dd>{split ? fmt(split.price) : "—"}</dd>
          </div>
          <div>
            <dt>Commission ({formatBps(market.commissionBps)})</dt>
            <dd>{split ? `− ${fmt(split.commission)}` : "—"}</dd>
          </div>
          <div className="breakdown-total">
            <dt>You receive</dt>
            <dd>{split ? fmt(split.sellerReceives) : "—"}</dd>
          </div>
        </dl>
        {planError && <p className="alert alert-error">{planError}</p>}
        {plan && (
          <>
            <p className="hint">
              {plan.transactions.length === 1
                ? "One signature: the escrow may already move your items."
                : `${plan.transactions.length} signatures: first allow the escrow to move your items (once for all your listings), then list.`}
            </p>
            <Steps
              steps={plan.transactions.map((t) =>
                t.to.toLowerCase() === market.escrow.toLowerCase()
                  ? `List ${plan.input.amount} × ${itemLabel(item.metadata, item.itemId)} for ${fmt(BigInt(plan.input.price))}`
                  : "Allow the escrow to move your items (once, for every listing)",
              )}
              current={sending ? sending.step : -1}
              failed={error !== null}
            />
          </>
        )}
        {sending && (
          <p className="status-line" role="status">
            <span className="spinner" aria-hidden="true" /> {sending.text}…
          </p>
        )}
        {error && (
          <p className="alert alert-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="button button-primary" disabled={!plan || sending !== null}>
          {plan && plan.transactions.length > 1 ? "Approve and list" : "List for sale"}
        </button>
      </section>
    </form>
  );
}
