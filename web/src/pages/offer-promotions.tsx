import { useId, useState, type FormEvent } from "react";
import type { Offer } from "../../../lib/api/offers.ts";
import { describeError } from "../api.ts";
import {
  createCoupon,
  createSale,
  endSale,
  getCodeStock,
  listCoupons,
  listSales,
  uploadCodes,
} from "../codes.ts";
import { Badge, Empty, ErrorNote, Loading, useAsync } from "../components.tsx";
import { formatMoney } from "../format.ts";
import { ensureSession, useWallet } from "../wallet.tsx";

/** The creator's redemption codes of an offer: the stock and its batches, and a form to add codes. */
export function CodeStockSection({ offer }: { offer: Offer }) {
  const wallet = useWallet();
  const id = useId();
  const [mode, setMode] = useState<"list" | "generate">("list");
  const [list, setList] = useState("");
  const [count, setCount] = useState("100");
  const [format, setFormat] = useState("####-####-####");
  const [lowStockAt, setLowStockAt] = useState("10");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const stock = useAsync(
    () => (wallet.session ? getCodeStock(offer.offerId) : Promise.resolve(null)),
    [offer.offerId, wallet.session],
  );

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setDone(null);
    setBusy(true);
    try {
      await ensureSession(wallet);
      const codes = list
        .split("\n")
        .map((line) => line.trim())
        .filter(Boolean);
      const result = await uploadCodes(offer.offerId, {
        ...(mode === "list" ? { codes } : { generate: { count: Number(count), format } }),
        lowStockAt: Number(lowStockAt),
      });
      setDone(`Added ${result.batch.count} codes; they are committed on chain shortly.`);
      setList("");
      stock.reload();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  const s = stock.data;
  return (
    <section className="card" aria-labelledby={`${id}-heading`}>
      <h2 id={`${id}-heading`}>Redemption codes</h2>
      <p className="muted">
        Each card buyer gets one code once paid; the offer is sold out when the codes run out. Codes are
        stored encrypted and each upload is committed on chain.
      </p>
      {!wallet.session ? (
        <p className="hint">Sign in (adding codes does it for you) to see the stock.</p>
      ) : stock.loading && !s ? (
        <Loading label="Loading the code stock" />
      ) : stock.error ? (
        <ErrorNote error={stock.error} retry={stock.reload} />
      ) : s && s.total === 0 ? (
        <Empty title="No codes yet" />
      ) : (
        s && (
          <>
            <p data-testid="code-stock">
              {s.available} available · {s.held} held by checkouts · {s.sold} sold · {s.void} void · {s.total}{" "}
              in all
              {s.available <= s.lowStockAt && (
                <>
                  {" "}
                  <Badge tone="warn">Low stock</Badge>
                </>
              )}
            </p>
            <table className="table responsive-table">
              <caption className="visually-hidden">Code batches of offer #{offer.offerId}</caption>
              <thead>
                <tr>
                  <th scope="col">Added</th>
                  <th scope="col">Codes</th>
                  <th scope="col">On chain</th>
                </tr>
              </thead>
              <tbody>
                {s.batches.map((b) => (
                  <tr key={b.batchId}>
                    <td data-label="Added">{new Date(b.createdAt).toLocaleString()}</td>
                    <td data-label="Codes">
                      {b.count} ({b.source})
                    </td>
                    <td data-label="On chain">
                      <Badge tone={b.commitment.status === "committed" ? "ok" : "muted"}>
                        {b.commitment.status}
                      </Badge>{" "}
                      {b.commitment.merkleRoot && (
                        <code title="Merkle root">{b.commitment.merkleRoot.slice(0, 18)}…</code>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )
      )}
      <form onSubmit={submit} className="stack-form">
        <fieldset>
          <legend>Add codes</legend>
          <label>
            <input type="radio" checked={mode === "list"} onChange={() => setMode("list")} /> A list, one per
            line
          </label>{" "}
          <label>
            <input type="radio" checked={mode === "generate"} onChange={() => setMode("generate")} /> Generate
          </label>
        </fieldset>
        {mode === "list" ? (
          <label>
            Codes
            <textarea
              rows={5}
              value={list}
              spellCheck={false}
              onChange={(e) => setList(e.target.value)}
              placeholder={"KEY-0001-ABCD\nKEY-0002-EFGH"}
            />
          </label>
        ) : (
          <>
            <label>
              How many
              <input
                type="number"
                min={1}
                max={10000}
                value={count}
                onChange={(e) => setCount(e.target.value)}
              />
            </label>
            <label>
              Format (each # is a random character)
              <input value={format} onChange={(e) => setFormat(e.target.value)} spellCheck={false} />
            </label>
          </>
        )}
        <label>
          Warn me when this many are left
          <input type="number" min={0} value={lowStockAt} onChange={(e) => setLowStockAt(e.target.value)} />
        </label>
        <button type="submit" className="button button-primary" disabled={busy}>
          {busy ? "Adding…" : "Add codes"}
        </button>
      </form>
      <div aria-live="polite">{done && <p className="alert alert-success">{done}</p>}</div>
      {error && (
        <p className="alert alert-error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

/** The creator's coupons for an offer: a form to give one, and the ones given with their uses. */
export function CouponsSection({ offer }: { offer: Offer }) {
  const wallet = useWallet();
  const id = useId();
  const [code, setCode] = useState("");
  const [kind, setKind] = useState<"percent" | "fixed">("percent");
  const [value, setValue] = useState("10");
  const [maxUses, setMaxUses] = useState("");
  const [maxUsesPerBuyer, setMaxUsesPerBuyer] = useState("1");
  const [endsAt, setEndsAt] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const coupons = useAsync(
    () => (wallet.session ? listCoupons() : Promise.resolve(null)),
    [offer.offerId, wallet.session],
  );
  const currency = offer.fiatPrice?.currency ?? "usd";

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      await ensureSession(wallet);
      await createCoupon({
        code,
        kind,
        // A fixed amount is typed in the currency's major unit.
        value: kind === "percent" ? Number(value) : Math.round(Number(value) * 100),
        ...(kind === "fixed" ? { currency } : {}),
        ...(maxUses ? { maxUses: Number(maxUses) } : {}),
        ...(maxUsesPerBuyer ? { maxUsesPerBuyer: Number(maxUsesPerBuyer) } : {}),
        ...(endsAt ? { endsAt: new Date(endsAt).toISOString() } : {}),
        offerIds: [offer.offerId],
      });
      setCode("");
      coupons.reload();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  const mine = coupons.data?.items.filter((c) => c.offerIds.includes(offer.offerId)) ?? [];
  return (
    <section className="card" aria-labelledby={`${id}-heading`}>
      <h2 id={`${id}-heading`}>Coupons</h2>
      <form onSubmit={submit} className="stack-form">
        <label>
          Code
          <input value={code} onChange={(e) => setCode(e.target.value)} placeholder="LAUNCH10" required />
        </label>
        <label>
          Discount
          <select value={kind} onChange={(e) => setKind(e.target.value as "percent" | "fixed")}>
            <option value="percent">Percent off</option>
            <option value="fixed">Amount off ({currency.toUpperCase()})</option>
          </select>
        </label>
        <label>
          {kind === "percent" ? "Percent" : "Amount"}
          <input type="number" min={0} step="any" value={value} onChange={(e) => setValue(e.target.value)} />
        </label>
        <label>
          Uses in all (empty: no limit)
          <input type="number" min={1} value={maxUses} onChange={(e) => setMaxUses(e.target.value)} />
        </label>
        <label>
          Uses per buyer
          <input
            type="number"
            min={1}
            value={maxUsesPerBuyer}
            onChange={(e) => setMaxUsesPerBuyer(e.target.value)}
          />
        </label>
        <label>
          Valid until (empty: no end)
          <input type="datetime-local" value={endsAt} onChange={(e) => setEndsAt(e.target.value)} />
        </label>
        <button type="submit" className="button button-primary" disabled={busy}>
          {busy ? "Saving…" : "Give coupon"}
        </button>
      </form>
      {error && (
        <p className="alert alert-error" role="alert">
          {error}
        </p>
      )}
      {coupons.error ? (
        <ErrorNote error={coupons.error} retry={coupons.reload} />
      ) : mine.length === 0 ? (
        wallet.session && <Empty title="No coupons for this offer" />
      ) : (
        <ul className="plain-list" data-testid="coupons">
          {mine.map((c) => (
            <li key={c.id}>
              <code>{c.code}</code>{" "}
              {c.kind === "percent" ? `${c.value}% off` : `${formatMoney(c.value, c.currency!)} off`} · used{" "}
              {c.used}
              {c.maxUses !== null && ` of ${c.maxUses}`}
              {c.endsAt && ` · until ${new Date(c.endsAt).toLocaleString()}`}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** A `datetime-local` value, in this device's time zone, `minutes` from now. */
function localInput(minutes: number): string {
  const d = new Date(Date.now() + minutes * 60_000);
  d.setSeconds(0, 0);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

/** The creator's sale windows of an offer: a form to set one, and the sales on now or to come. */
export function SalesSection({ offer, onChange }: { offer: Offer; onChange(): void }) {
  const wallet = useWallet();
  const id = useId();
  const list = offer.fiatPrice!;
  const [price, setPrice] = useState(((list.amount * 0.8) / 100).toFixed(2));
  const [startsAt, setStartsAt] = useState("");
  const [endsAt, setEndsAt] = useState(() => localInput(24 * 60));
  const [maxPerWallet, setMaxPerWallet] = useState("1");
  const [maxTotal, setMaxTotal] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const sales = useAsync(() => listSales(offer.offerId), [offer.offerId]);

  const act = async (work: () => Promise<unknown>) => {
    setError(null);
    setBusy(true);
    try {
      await ensureSession(wallet);
      await work();
      sales.reload();
      onChange();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void act(() =>
      createSale(offer.offerId, {
        // Typed in the currency's major unit.
        amount: Math.round(Number(price) * 100),
        ...(startsAt ? { startsAt: new Date(startsAt).toISOString() } : {}),
        endsAt: new Date(endsAt).toISOString(),
        maxPerWallet: Number(maxPerWallet),
        ...(maxTotal ? { maxTotal: Number(maxTotal) } : {}),
      }),
    );
  };

  return (
    <section className="card" aria-labelledby={`${id}-heading`}>
      <h2 id={`${id}-heading`}>Sale windows</h2>
      <p className="hint">
        For a while the card price is the sale&apos;s, {formatMoney(list.amount, list.currency)} otherwise;
        coupons come off the sale price.
      </p>
      <form onSubmit={submit} className="stack-form">
        <label>
          Sale price ({list.currency.toUpperCase()})
          <input
            type="number"
            min={0}
            step="0.01"
            value={price}
            onChange={(e) => setPrice(e.target.value)}
            required
          />
        </label>
        <label>
          Starts (empty: now)
          <input type="datetime-local" value={startsAt} onChange={(e) => setStartsAt(e.target.value)} />
        </label>
        <label>
          Ends
          <input type="datetime-local" value={endsAt} onChange={(e) => setEndsAt(e.target.value)} required />
        </label>
        <label>
          Orders per wallet
          <input
            type="number"
            min={1}
            value={maxPerWallet}
            onChange={(e) => setMaxPerWallet(e.target.value)}
          />
        </label>
        <label>
          Orders in all (empty: no limit)
          <input type="number" min={1} value={maxTotal} onChange={(e) => setMaxTotal(e.target.value)} />
        </label>
        <button type="submit" className="button button-primary" disabled={busy}>
          {busy ? "Saving…" : "Start sale"}
        </button>
      </form>
      {error && (
        <p className="alert alert-error" role="alert">
          {error}
        </p>
      )}
      {sales.error ? (
        <ErrorNote error={sales.error} retry={sales.reload} />
      ) : !sales.data ? (
        <Loading label="Loading sales" />
      ) : sales.data.items.length === 0 ? (
        <Empty title="No sale on now or to come" />
      ) : (
        <ul className="plain-list" data-testid="sales">
          {sales.data.items.map((s) => (
            <li key={s.id}>
              <Badge tone={s.status === "active" ? "ok" : "info"}>
                {s.status === "active" ? "On now" : "Upcoming"}
              </Badge>{" "}
              {formatMoney(s.amount, s.currency)} · {new Date(s.startsAt).toLocaleString()} –{" "}
              {new Date(s.endsAt).toLocaleString()} · {s.maxPerWallet} per wallet · sold {s.sold}
              {s.maxTotal !== null && ` of ${s.maxTotal}`}{" "}
              <button
                type="button"
                className="button button-small"
                disabled={busy}
                onClick={() => void act(() => endSale(offer.offerId, s.id))}
              >
                {s.status === "active" ? "End now" : "Cancel"}
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
