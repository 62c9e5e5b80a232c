import { parseEther } from "ethers";
import { useId, useState, type FormEvent } from "react";
import type { Offer } from "../../../lib/api/offers.ts";
import type { Work } from "../../../lib/api/works.ts";
import { describeError, isUnavailable } from "../api.ts";
import { buyWithWallet, listOffers, NATIVE_CURRENCY, publishOffer, startCheckout } from "../commerce.ts";
import { Badge, Countdown, Empty, ErrorNote, Loading, Untrusted, useAsync } from "../components.tsx";
import { formatDuration, formatEth, formatMoney, shortHex } from "../format.ts";
import { Link, navigate } from "../router.tsx";
import { ensureSession, useWallet } from "../wallet.tsx";
import { percentToBps, splitProblem, SplitEditor, type SplitRow } from "./split-editor.tsx";

/** A work's offers with their buy actions, the licenses sold, and (for its creator) the publish form. */
export function Offers({ work, mine }: { work: Work; mine: boolean }) {
  const offers = useAsync((signal) => listOffers(work.workId, signal), [work.workId]);
  const [publishing, setPublishing] = useState(false);
  const sold = (offers.data ?? []).reduce((sum, offer) => sum + offer.sold, 0);
  const unavailable = isUnavailable(offers.error);

  return (
    <section aria-labelledby="offers-heading">
      <div className="section-heading">
        <div className="heading-with-stat">
          <h2 id="offers-heading">Licenses</h2>
          {offers.data && (
            <p className="stat" aria-live="polite">
              <strong>{sold}</strong> license{sold === 1 ? "" : "s"} sold
            </p>
          )}
        </div>
        {mine && !publishing && !unavailable && (
          <button type="button" className="button button-primary" onClick={() => setPublishing(true)}>
            Publish an offer
          </button>
        )}
      </div>
      {mine && publishing && (
        <PublishOffer
          work={work}
          onDone={() => {
            setPublishing(false);
            offers.reload();
          }}
          onCancel={() => setPublishing(false)}
        />
      )}
      {offers.loading && !offers.data ? (
        <Loading label="Loading offers" />
      ) : unavailable ? (
        <Empty title="Licensing is not available on this server yet" />
      ) : offers.error ? (
        <ErrorNote error={offers.error} retry={offers.reload} />
      ) : offers.data!.length === 0 ? (
        <Empty title="No license offers yet">
          <p>
            {mine
              ? "Publish an offer to sell licenses to this work."
              : "The creator has not offered licenses yet."}
          </p>
        </Empty>
      ) : (
        <ul className="offer-list">
          {offers.data!.map((offer) => (
            <li key={offer.offerId}>
              <OfferCard offer={offer} onBought={offers.reload} />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/**
 * An offer with its terms and buy actions. `referrer` comes from a referral link: both purchases name
 * it, and a buyer cannot name themselves (refused on chain and by the API alike).
 */
export function OfferCard({
  offer,
  onBought,
  referrer = null,
}: {
  offer: Offer;
  onBought(): void;
  referrer?: string | null;
}) {
  const wallet = useWallet();
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const soldOut = offer.remaining === 0;
  const native = offer.currency === NATIVE_CURRENCY;
  const onChainPrice = native
    ? formatEth(offer.price)
    : `${offer.price} units of token ${shortHex(offer.currency)}`;
  const duration = Number(offer.duration);
  const available = offer.active && !soldOut && !offer.workSuperseded;
  const selfReferral = referrer !== null && referrer.toLowerCase() === wallet.address?.toLowerCase();

  const [cardForm, setCardForm] = useState(false);
  const [email, setEmail] = useState("");
  const [pasted, setPasted] = useState("");
  const formId = useId();

  // Without a connected wallet the buyer gives an email (the license is held and claimed through a
  // mailed link) or pastes an address of a wallet they own; the API checks either.
  const byCard = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setBusy("Opening checkout");
    try {
      const order = await startCheckout(
        { wallet: wallet.address ?? (pasted.trim() || null), email: email.trim() || null },
        offer,
        referrer,
      );
      navigate(`/orders/${order.orderId}?secret=${encodeURIComponent(order.orderSecret)}`);
    } catch (err) {
      setError(err);
      setBusy(null);
    }
  };

  const byWallet = async () => {
    setError(null);
    setBusy("Confirm in your wallet");
    try {
      const hash = await buyWithWallet(wallet, offer, referrer);
      setDone(`Bought: transaction ${hash.slice(0, 10)}… is mined. It appears in My licenses once indexed.`);
      onBought();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  };

  return (
    <article className="offer" aria-label={`Offer #${offer.offerId}`}>
      <div className="card-top">
        <Link href={`/offers/${offer.offerId}`} className="work-id">
          Offer #{offer.offerId}
        </Link>
        {offer.workSuperseded ? (
          <Badge tone="bad">Unavailable: an earlier registration of this file holds the work</Badge>
        ) : !offer.active ? (
          <Badge tone="muted">Paused</Badge>
        ) : soldOut ? (
          <Badge tone="bad">Sold out</Badge>
        ) : (
          <Badge tone="ok">Available</Badge>
        )}
      </div>
      <p className="offer-price">
        {offer.fiatPrice && offer.sale ? (
          <>
            <s className="list-price" aria-label="List price">
              {formatMoney(offer.fiatPrice.amount, offer.fiatPrice.currency)}
            </s>{" "}
            <span className="sale-price" data-testid="sale-price">
              {formatMoney(offer.sale.amount, offer.fiatPrice.currency)}
            </span>
          </>
        ) : offer.fiatPrice ? (
          formatMoney(offer.fiatPrice.amount, offer.fiatPrice.currency)
        ) : (
          onChainPrice
        )}
        {offer.fiatPrice && <span className="muted"> · {onChainPrice}</span>}
      </p>
      {offer.fiatPrice && offer.sale && (
        <p className="sale-note">
          <Badge tone="warn">Sale</Badge> by card, ends in <Countdown iso={offer.sale.endsAt} /> ·{" "}
          {offer.sale.maxPerWallet} per wallet
        </p>
      )}
      <ul className="offer-terms" aria-label="Terms">
        <li>
          <Badge tone="info">{duration === 0 ? "Perpetual" : formatDuration(duration)}</Badge>
        </li>
        <li>
          <Badge tone="muted">{offer.commercialUse ? "Commercial use" : "Personal use"}</Badge>
        </li>
        <li>
          <Badge tone="muted">{offer.transferable ? "Transferable" : "Non-transferable"}</Badge>
        </li>
        <li>
          <Badge tone="muted">
            <Untrusted text={offer.territory || "WORLD"} />
          </Badge>
        </li>
        {offer.revocable && (
          <li>
            <Badge tone="warn">Revocable for breach</Badge>
          </li>
        )}
      </ul>
      <p className="muted">
        {offer.sold} sold{offer.maxSupply > 0 ? ` of ${offer.maxSupply}` : ""}
        {offer.referrerBps > 0 && ` · ${offer.referrerBps / 100}% to approved referrers`}
      </p>
      {referrer && !selfReferral && (
        <p className="hint">
          Referred by <code>{referrer}</code>: if the creator approved them, they earn the commission.
        </p>
      )}
      {selfReferral && (
        <p className="alert alert-warn" role="alert">
          This referral link names your own wallet: a buyer cannot refer their own purchase.
        </p>
      )}
      <div aria-live="polite" className="live">
        {busy && <p className="status-line">{busy}…</p>}
        {done && <p className="alert alert-success">{done}</p>}
      </div>
      {error !== null && <ErrorNote error={error} />}
      {available && (
        <div className="offer-actions">
          {offer.fiatPrice && (
            <button
              type="button"
              className="button button-primary"
              onClick={() => setCardForm(true)}
              aria-expanded={cardForm}
              aria-controls={`${formId}-card`}
              disabled={busy !== null || selfReferral}
            >
              Buy with card
            </button>
          )}
          {native && (
            <button
              type="button"
              className="button"
              onClick={byWallet}
              disabled={!wallet.address || busy !== null || selfReferral}
            >
              Buy with wallet
            </button>
          )}
        </div>
      )}
      {available && cardForm && offer.fiatPrice && (
        <form
          id={`${formId}-card`}
          className="form-grid card-checkout"
          onSubmit={byCard}
          aria-label="Card checkout"
        >
          {wallet.address ? (
            <p className="hint field-wide">
              The license goes to your connected wallet <code>{wallet.address}</code>.
            </p>
          ) : (
            <p className="hint field-wide">
              No wallet extension? Give your email address: the license is kept for you and a link to claim it
              with any wallet is mailed to you. Or paste the address of a wallet you own.
            </p>
          )}
          <div className="field">
            <label htmlFor={`${formId}-email`}>
              Email{" "}
              {(wallet.address || pasted.trim()) && (
                <span className="optional">(optional, for your mail)</span>
              )}
            </label>
            <input
              id={`${formId}-email`}
              type="email"
              autoComplete="email"
              value={email}
              onChange={(e) => setEmail(e.target.value)}
              required={!wallet.address && !pasted.trim()}
            />
          </div>
          {!wallet.address && (
            <div className="field">
              <label htmlFor={`${formId}-wallet`}>
                Wallet address <span className="optional">(optional)</span>
              </label>
              <input
                id={`${formId}-wallet`}
                placeholder="0x…"
                spellCheck={false}
                autoComplete="off"
                value={pasted}
                onChange={(e) => setPasted(e.target.value)}
                pattern="\s*0x[0-9a-fA-F]{40}\s*"
                title="0x followed by 40 hexadecimal characters"
              />
            </div>
          )}
          <div className="field-wide offer-actions">
            <button type="submit" className="button button-primary" disabled={busy !== null}>
              Continue to payment
            </button>
          </div>
        </form>
      )}
      {available && !wallet.address && offer.currency === NATIVE_CURRENCY && (
        <p className="hint">Connect a wallet to buy with crypto; a card needs no wallet.</p>
      )}
    </article>
  );
}

/** The contract keeps the commission within what the highest platform fee (20%) leaves. */
const MAX_REFERRER_BPS = 8000;

const DURATIONS = [
  { label: "30 days", seconds: 30 * 86400 },
  { label: "90 days", seconds: 90 * 86400 },
  { label: "1 year", seconds: 365 * 86400 },
  { label: "Perpetual", seconds: 0 },
];

function PublishOffer({ work, onDone, onCancel }: { work: Work; onDone(): void; onCancel(): void }) {
  const wallet = useWallet();
  const id = useId();
  const [price, setPrice] = useState("0.01");
  const [fiat, setFiat] = useState("9.00");
  const [currency, setCurrency] = useState("usd");
  const [duration, setDuration] = useState(DURATIONS[2]!.seconds);
  const [maxSupply, setMaxSupply] = useState("0");
  const [commercialUse, setCommercialUse] = useState(false);
  const [transferable, setTransferable] = useState(false);
  const [revocable, setRevocable] = useState(false);
  const [territory, setTerritory] = useState("WORLD");
  const [referrerPercent, setReferrerPercent] = useState("0");
  const [rows, setRows] = useState<SplitRow[]>([{ address: wallet.address ?? "", percent: "100" }]);
  const [progress, setProgress] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    const problem = splitProblem(rows);
    if (problem) {
      setError(problem);
      return;
    }
    let priceWei: bigint;
    try {
      priceWei = parseEther(price.trim() || "0");
    } catch {
      setError("Enter the price in ETH, e.g. 0.01");
      return;
    }
    const referrerBps = percentToBps(referrerPercent || "0");
    if (!Number.isFinite(referrerBps) || referrerBps > MAX_REFERRER_BPS) {
      setError(`Enter the referrer commission as a percentage from 0 to ${MAX_REFERRER_BPS / 100}`);
      return;
    }
    const fiatCents = fiat.trim() ? Math.round(Number(fiat) * 100) : 0;
    if (fiat.trim() && !(fiatCents > 0)) {
      setError("Enter the card price as a positive amount, or leave it empty");
      return;
    }
    try {
      // The API takes a card price only from the creator's session: the offer's signature does not cover it.
      if (fiatCents > 0) await ensureSession(wallet);
      await publishOffer(
        wallet,
        work.workId,
        {
          priceWei: priceWei.toString(),
          durationSeconds: duration,
          maxSupply: Number(maxSupply) || 0,
          transferable,
          commercialUse,
          territory: territory.trim() || "WORLD",
          revocable,
          referrerBps,
          fiatPrice: fiatCents > 0 ? { amount: fiatCents, currency } : null,
        },
        {
          recipients: rows.map((r) => r.address.trim()),
          sharesBps: rows.map((r) => percentToBps(r.percent)),
        },
        setProgress,
      );
      onDone();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setProgress(null);
    }
  };

  return (
    <form className="card publish-form" onSubmit={submit} aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>New license offer</h3>
      <div className="form-grid">
        <div className="field">
          <label htmlFor={`${id}-price`}>Price in ETH</label>
          <input
            id={`${id}-price`}
            inputMode="decimal"
            value={price}
            onChange={(e) => setPrice(e.target.value)}
            required
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-fiat`}>
            Card price <span className="optional">(optional)</span>
          </label>
          <div className="inline-form">
            <input
              id={`${id}-fiat`}
              inputMode="decimal"
              value={fiat}
              onChange={(e) => setFiat(e.target.value)}
            />
            <label htmlFor={`${id}-currency`} className="visually-hidden">
              Card currency
            </label>
            <select id={`${id}-currency`} value={currency} onChange={(e) => setCurrency(e.target.value)}>
              <option value="usd">USD</option>
              <option value="eur">EUR</option>
              <option value="gbp">GBP</option>
            </select>
          </div>
        </div>
        <div className="field">
          <label htmlFor={`${id}-duration`}>Duration</label>
          <select
            id={`${id}-duration`}
            value={duration}
            onChange={(e) => setDuration(Number(e.target.value))}
          >
            {DURATIONS.map((d) => (
              <option key={d.seconds} value={d.seconds}>
                {d.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-supply`}>
            Maximum licenses <span className="optional">(0 = unlimited)</span>
          </label>
          <input
            id={`${id}-supply`}
            inputMode="numeric"
            value={maxSupply}
            onChange={(e) => setMaxSupply(e.target.value.replace(/\D/g, ""))}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-referrer`}>
            Referrer commission (%) <span className="optional">(paid to referrers you approve)</span>
          </label>
          <input
            id={`${id}-referrer`}
            inputMode="decimal"
            value={referrerPercent}
            onChange={(e) => setReferrerPercent(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-territory`}>Territory</label>
          <input
            id={`${id}-territory`}
            value={territory}
            maxLength={64}
            onChange={(e) => setTerritory(e.target.value)}
          />
        </div>
        <div className="field">
          <span className="label-like">Terms</span>
          <label className="checkbox">
            <input
              type="checkbox"
              checked={commercialUse}
              onChange={(e) => setCommercialUse(e.target.checked)}
            />
            Commercial use allowed
          </label>
          <label className="checkbox">
            <input
              type="checkbox"
              checked={transferable}
              onChange={(e) => setTransferable(e.target.checked)}
            />
            Licenses can be transferred
          </label>
          <label className="checkbox">
            <input type="checkbox" checked={revocable} onChange={(e) => setRevocable(e.target.checked)} />I
            may revoke licenses for breach of these terms
          </label>
        </div>
      </div>
      <SplitEditor rows={rows} onChange={setRows} />
      <div aria-live="polite" className="live">
        {progress && (
          <p className="status-line">
            <span className="spinner" aria-hidden="true" /> {progress}…
          </p>
        )}
      </div>
      {error && (
        <p className="alert alert-error" role="alert">
          {error}
        </p>
      )}
      <div className="offer-actions">
        <button
          type="submit"
          className="button button-primary"
          disabled={progress !== null || splitProblem(rows) !== null}
        >
          Sign and publish
        </button>
        <button type="button" className="button button-ghost" onClick={onCancel} disabled={progress !== null}>
          Cancel
        </button>
      </div>
    </form>
  );
}
