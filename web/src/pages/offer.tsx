import { isAddress } from "ethers";
import { useId, useState, type FormEvent } from "react";
import type { Offer } from "../../../lib/api/offers.ts";
import { api, ApiError, describeError } from "../api.ts";
import {
  Badge,
  CopyButton,
  Empty,
  ErrorNote,
  FinalityBadge,
  Loading,
  useAsync,
  usePageTitle,
} from "../components.tsx";
import { listReferrers, referralLink, setReferrer } from "../referrals.ts";
import { Link } from "../router.tsx";
import { useWallet } from "../wallet.tsx";
import { DeliveryTermsSection } from "./delivery-terms.tsx";
import { CodeStockSection, CouponsSection, SalesSection } from "./offer-promotions.tsx";
import { RefundRequestsSection } from "./refunds.tsx";
import { NotFoundPage } from "./not-found.tsx";
import { OfferCard } from "./offers.tsx";

/**
 * One offer, as a referral link opens it: `ref` (the link's `?ref=`) is named as the referrer of a
 * purchase by card or wallet. The offer's creator manages its approved referrers here.
 */
export function OfferPage({ id, referrer }: { id: string; referrer: string | null }) {
  const wallet = useWallet();
  const offer = useAsync((signal) => api<Offer>(`/v1/offers/${id}`, { signal }), [id]);
  usePageTitle(`Offer #${id}`);
  const ref = referrer !== null && isAddress(referrer) ? referrer : null;

  if (offer.loading && !offer.data) return <Loading label="Loading the offer" />;
  if (offer.error instanceof ApiError && offer.error.status === 404)
    return <NotFoundPage what={`Offer #${id}`} />;
  if (offer.error || !offer.data) return <ErrorNote error={offer.error} retry={offer.reload} />;
  const o = offer.data;
  const mine = wallet.address?.toLowerCase() === o.creator.toLowerCase();

  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link href={`/works/${o.workId}`}>Work #{o.workId}</Link> <span aria-hidden="true">/</span>{" "}
        <span>Offer #{o.offerId}</span>
      </nav>
      <h1>License offer #{o.offerId}</h1>
      {referrer !== null && ref === null && (
        <p className="alert alert-warn">
          This link&apos;s referrer is not an address; purchases here name no referrer.
        </p>
      )}
      <div className="offer-page">
        <OfferCard offer={o} onBought={offer.reload} referrer={ref} />
        {mine && <Referrers offer={o} />}
        {mine && o.fiatPrice && <CodeStockSection offer={o} />}
        {mine && o.fiatPrice && <SalesSection offer={o} onChange={offer.reload} />}
        {mine && o.fiatPrice && <CouponsSection offer={o} />}
        {mine && o.fiatPrice && <RefundRequestsSection offer={o} />}
        <DeliveryTermsSection offer={o} mine={mine} />
      </div>
    </>
  );
}

/** The creator's referrers of an offer: approve or withdraw one, and hand out their referral links. */
function Referrers({ offer }: { offer: Offer }) {
  const wallet = useWallet();
  const id = useId();
  const [address, setAddress] = useState("");
  const [progress, setProgress] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  // Approvals are the creator's to read: signed in first.
  const approvals = useAsync(
    (signal) => (wallet.session ? listReferrers(offer.offerId, signal) : Promise.resolve(null)),
    [offer.offerId, wallet.session],
  );

  const send = async (target: string, approved: boolean) => {
    setError(null);
    setDone(null);
    try {
      await setReferrer(wallet, offer.offerId, target, approved, setProgress);
      setDone(approved ? `Approved ${target}.` : `Withdrew the approval of ${target}.`);
      setAddress("");
      approvals.reload();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setProgress(null);
    }
  };

  const submit = (approved: boolean) => (event?: FormEvent) => {
    event?.preventDefault();
    const target = address.trim();
    if (!isAddress(target)) {
      setError("Enter the referrer's wallet address (0x followed by 40 hex characters).");
      return;
    }
    void send(target, approved);
  };

  return (
    <section className="card" aria-labelledby={`${id}-heading`}>
      <h2 id={`${id}-heading`}>Referrers</h2>
      <p className="muted">
        {offer.referrerBps > 0
          ? `An approved referrer earns ${offer.referrerBps / 100}% of each sale made through their link, by card or wallet.`
          : "This offer pays referrers no commission; approving one only records the link."}{" "}
        Approving costs you no gas.
      </p>
      <form className="inline-form" onSubmit={submit(true)}>
        <label htmlFor={`${id}-address`} className="visually-hidden">
          Referrer address
        </label>
        <input
          id={`${id}-address`}
          className="mono-input"
          placeholder="Referrer address 0x…"
          value={address}
          spellCheck={false}
          autoComplete="off"
          onChange={(e) => setAddress(e.target.value)}
        />
        <button type="submit" className="button button-primary" disabled={progress !== null}>
          Approve referrer
        </button>
        <button type="button" className="button" disabled={progress !== null} onClick={() => submit(false)()}>
          Withdraw
        </button>
      </form>
      <div aria-live="polite" className="live">
        {progress && (
          <p className="status-line">
            <span className="spinner" aria-hidden="true" /> {progress}…
          </p>
        )}
        {done && <p className="alert alert-success">{done}</p>}
      </div>
      {error && (
        <p className="alert alert-error" role="alert">
          {error}
        </p>
      )}
      {!wallet.session ? (
        <p className="hint">Sign in (approving does it for you) to see the approved referrers.</p>
      ) : approvals.loading && !approvals.data ? (
        <Loading label="Loading referrers" />
      ) : approvals.error ? (
        <ErrorNote error={approvals.error} retry={approvals.reload} />
      ) : approvals.data && approvals.data.referrers.length === 0 ? (
        <Empty title="No referrers yet" />
      ) : (
        approvals.data && (
          <table className="table responsive-table">
            <caption className="visually-hidden">Referrers of offer #{offer.offerId}</caption>
            <thead>
              <tr>
                <th scope="col">Referrer</th>
                <th scope="col">Status</th>
                <th scope="col">Referral link</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {approvals.data.referrers.map((r) => {
                const link = referralLink(offer.offerId, r.referrer);
                return (
                  <tr key={r.referrer}>
                    <td data-label="Referrer">
                      <code>{r.referrer}</code>
                    </td>
                    <td data-label="Status">
                      <Badge tone={r.approved ? "ok" : "muted"}>
                        {r.approved ? "Approved" : "Withdrawn"}
                      </Badge>{" "}
                      <FinalityBadge finality={r.finality} />
                    </td>
                    <td data-label="Referral link">
                      {r.approved ? (
                        <span className="mono-value">
                          <code>{link}</code>
                          <CopyButton value={link} label={`referral link of ${r.referrer}`} />
                        </span>
                      ) : (
                        <span className="muted">—</span>
                      )}
                    </td>
                    <td data-label="Actions" className="actions">
                      <button
                        type="button"
                        className="button button-small"
                        disabled={progress !== null}
                        onClick={() => void send(r.referrer, !r.approved)}
                        aria-label={`${r.approved ? "Withdraw" : "Approve"} ${r.referrer}`}
                      >
                        {r.approved ? "Withdraw" : "Approve again"}
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )
      )}
    </section>
  );
}
