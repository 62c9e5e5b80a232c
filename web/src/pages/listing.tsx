import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from "react";
import type { Dispute } from "../../../lib/api/disputes.ts";
import type { ListingPage as Listing, MarketSettings } from "../../../lib/api/market.ts";
import { ApiError, describeError } from "../api.ts";
import { tradeAction, type TradeAction } from "../commerce.ts";
import {
  Countdown,
  ErrorNote,
  FinalityBadge,
  Loading,
  Time,
  useAsync,
  usePageTitle,
} from "../components.tsx";
import { shortHex } from "../format.ts";
import {
  addEvidence,
  buy,
  formatAmount,
  getDispute,
  getListing,
  getMarketSettings,
  openDispute,
  tradeEvents,
} from "../market.ts";
import { Link } from "../router.tsx";
import { useWallet, type Wallet } from "../wallet.tsx";
import {
  Decisions,
  EvidenceColumn,
  EvidenceFields,
  reasonText,
  type EvidenceDraft,
} from "./dispute-parts.tsx";
import {
  Breakdown,
  ItemImage,
  ItemName,
  itemLabel,
  Provenance,
  Reputation,
  StateBadge,
  tradeStepText,
} from "./market-parts.tsx";
import { NotFoundPage } from "./not-found.tsx";

type Role = "buyer" | "seller" | null;

const EMPTY_DRAFT: EvidenceDraft = { reason: "", statement: "", files: [] };

/** A listing: the item, what a sale pays whom, the seller's record, its live state and the item's provenance. */
export function ListingPage({ id }: { id: string }) {
  const wallet = useWallet();
  const listing = useAsync((signal) => getListing(id, signal), [id]);
  const market = useAsync(() => getMarketSettings(), []);
  const [live, setLive] = useState(false);
  const [disputeVersion, setDisputeVersion] = useState(0);
  usePageTitle(
    listing.data ? `${itemLabel(listing.data.item, listing.data.itemId)} · trade #${id}` : `Trade #${id}`,
  );

  // The stream lives as long as the page shows this listing; the latest reload is read when an event comes.
  const reload = useRef(listing.reload);
  reload.current = listing.reload;
  useEffect(() => {
    const events = tradeEvents(id);
    events.onopen = () => setLive(true);
    events.onerror = () => setLive(false);
    events.addEventListener("trade", () => reload.current());
    events.addEventListener("dispute", () => setDisputeVersion((v) => v + 1));
    return () => events.close();
  }, [id]);

  if (listing.loading && !listing.data) return <Loading label="Loading the listing" />;
  if (listing.error instanceof ApiError && listing.error.status === 404)
    return <NotFoundPage what={`Trade #${id}`} />;
  if (listing.error || !listing.data) return <ErrorNote error={listing.error} retry={listing.reload} />;
  const l = listing.data;
  const me = wallet.address?.toLowerCase();
  const role: Role =
    me === l.seller.toLowerCase() ? "seller" : me && me === l.buyer?.toLowerCase() ? "buyer" : null;

  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link href="/market">Market</Link> <span aria-hidden="true">/</span> <span>Trade #{l.listingId}</span>
      </nav>
      <div className="page-title">
        <h1>
          <ItemName metadata={l.item} itemId={l.itemId} />
          {l.amount !== "1" && <> × {l.amount}</>}
        </h1>
        <StateBadge state={l.state} />
        <span className={`live-badge${live ? "" : " live-badge-off"}`} role="status">
          {live ? "Live" : "Connecting…"}
        </span>
      </div>
      <div className="two-columns">
        <article className="card listing" aria-label={`Listing #${l.listingId}`}>
          <div className="listing-item">
            <ItemImage metadata={l.item} itemId={l.itemId} />
            <div>
              {l.item.description && <p className="item-description">{l.item.description}</p>}
              <p className="muted">
                Item #{l.itemId} · {l.amount} {l.amount === "1" ? "unit" : "units"}
              </p>
            </div>
          </div>
          <Breakdown breakdown={l.breakdown} currency={l.currency} market={market.data} />
          <dl className="facts">
            <div className="definition">
              <dt>Seller</dt>
              <dd>
                <code title={l.seller}>{shortHex(l.seller, 6)}</code>
                {role === "seller" && <span className="badge badge-muted">you</span>}
              </dd>
            </div>
            <div className="definition">
              <dt>Seller&apos;s record</dt>
              <dd>
                <Reputation reputation={l.reputation} />
              </dd>
            </div>
            {l.state === "listed" && (
              <div className="definition">
                <dt>{l.buyable ? "Ends in" : "Ended"}</dt>
                <dd>
                  <Countdown iso={l.deadline} />
                </dd>
              </div>
            )}
            {l.buyer && (
              <div className="definition">
                <dt>Buyer</dt>
                <dd>
                  <code title={l.buyer}>{shortHex(l.buyer, 6)}</code>
                  {role === "buyer" && <span className="badge badge-muted">you</span>}
                </dd>
              </div>
            )}
            {l.state === "paid" && l.confirmBy && (
              <div className="definition">
                <dt>Confirm or dispute by</dt>
                <dd>
                  <Countdown iso={l.confirmBy} />
                </dd>
              </div>
            )}
            {l.state === "disputed" && l.resolveBy && (
              <div className="definition">
                <dt>Arbiter decides by</dt>
                <dd>
                  <Countdown iso={l.resolveBy} />
                </dd>
              </div>
            )}
          </dl>
          <Actions listing={l} role={role} market={market.data} onChange={listing.reload} />
        </article>
        <section className="card" aria-labelledby="trade-history">
          <h2 id="trade-history">This trade</h2>
          <ol className="timeline" aria-label="Trade history">
            {[...l.history].reverse().map((step) => (
              <li key={`${step.blockNumber}-${step.event}`}>
                <span className="timeline-text">{tradeStepText(step.event)}</span>
                <span className="timeline-meta">
                  {step.at && <Time iso={step.at} />} · block {step.blockNumber}{" "}
                  <FinalityBadge finality={step.finality} />
                </span>
              </li>
            ))}
          </ol>
          <h2>Provenance of the item</h2>
          <Provenance steps={l.provenance} escrow={market.data?.escrow ?? ""} />
          {l.provenanceCursor && (
            <p className="muted">
              Earlier steps are in the <Link href="/inventory">item&apos;s history</Link>.
            </p>
          )}
        </section>
      </div>
      {(role !== null || wallet.session?.isAdmin) && (l.resolveBy !== null || l.state === "paid") && (
        <DisputePanel listing={l} role={role} version={disputeVersion} />
      )}
    </>
  );
}

/** What the connected wallet can do on this listing now. */
function Actions({
  listing: l,
  role,
  market,
  onChange,
}: {
  listing: Listing;
  role: Role;
  market: MarketSettings | null;
  onChange(): void;
}) {
  const wallet = useWallet();
  const [progress, setProgress] = useState<string | null>(null);
  const [message, setMessage] = useState<{ tone: "success" | "error"; text: string } | null>(null);
  const [disputing, setDisputing] = useState(false);
  const now = Date.now();

  const run = async (label: string, work: () => Promise<unknown>) => {
    setMessage(null);
    setProgress(label);
    try {
      await work();
      setMessage({ tone: "success", text: `${label}: done.` });
      onChange();
    } catch (err) {
      setMessage({ tone: "error", text: describeError(err) });
    } finally {
      setProgress(null);
    }
  };
  const act = (kind: TradeAction, label: string) => run(label, () => tradeAction(wallet, l, kind));
  const button = (label: string, onClick: () => void, primary = false) => (
    <button
      type="button"
      className={`button${primary ? " button-primary" : ""}`}
      disabled={progress !== null}
      onClick={onClick}
    >
      {label}
    </button>
  );

  let body: ReactNode = null;
  const windowOpen = l.confirmBy !== null && new Date(l.confirmBy).getTime() > now;
  if (!wallet.address) {
    body = <p className="muted">Connect a wallet to buy or act on this trade.</p>;
  } else if (l.state === "listed") {
    if (role === "seller")
      body = l.buyable
        ? button("Cancel listing", () => act("cancel", "Cancelling the listing"))
        : button("Reclaim items", () => act("reclaim", "Taking the unsold items back"), true);
    else if (l.buyable)
      body = (
        <>
          {button(
            `Buy for ${formatAmount(l.price, l.currency, market)}`,
            () => void run("Buying", () => buy(wallet, l.listingId, setProgress)),
            true,
          )}
          <p className="hint">
            The payment stays in escrow until you confirm you received the items.
            {l.currency !== "0x0000000000000000000000000000000000000000" &&
              " Paying in a token takes an approval first when the escrow has none."}
          </p>
        </>
      );
    else body = <p className="muted">This listing passed its deadline unsold.</p>;
  } else if (l.state === "paid") {
    if (!windowOpen) body = button("Settle the sale", () => act("settle", "Settling the sale"), true);
    else if (role === "buyer")
      body = disputing ? (
        <OpenDispute listing={l} onDone={onChange} onCancel={() => setDisputing(false)} />
      ) : (
        <>
          {button("Confirm receipt", () => act("confirm", "Confirming receipt"), true)}{" "}
          {button("Dispute", () => setDisputing(true))}
        </>
      );
    else if (role === "seller") body = <p className="muted">Waiting for the buyer to confirm receipt.</p>;
  } else if (l.state === "disputed") {
    const lapsed = l.resolveBy !== null && new Date(l.resolveBy).getTime() < now;
    body = lapsed
      ? button("Unwind the trade", () => act("unwind", "Unwinding the trade"), true)
      : role !== null && <p className="muted">An arbiter is looking at the evidence.</p>;
  } else if (l.state === "completed" || l.state === "refunded") {
    const buyerGetsItems = l.state === "completed";
    if (role !== null) {
      const itemsToMe = (role === "buyer") === buyerGetsItems;
      const claimed = itemsToMe ? l.itemsClaimed : l.fundsClaimed;
      const owed =
        role === "seller" && l.state === "completed"
          ? `your proceeds, ${formatAmount(l.breakdown.sellerReceives, l.currency, market)}`
          : itemsToMe
            ? "the items"
            : `your payment back, ${formatAmount(l.price, l.currency, market)}`;
      body = claimed ? (
        <p className="muted">You took {itemsToMe ? "the items" : "the money"} out of escrow.</p>
      ) : (
        <>
          <p>Waiting in escrow for you: {owed}.</p>
          {button(
            itemsToMe ? "Claim items" : role === "seller" ? "Withdraw proceeds" : "Withdraw refund",
            () =>
              act(
                itemsToMe ? "claim-items" : "claim-funds",
                itemsToMe ? "Claiming the items" : "Withdrawing",
              ),
            true,
          )}
        </>
      );
    }
  }

  return (
    <div className="listing-actions">
      {body}
      <div aria-live="polite">
        {progress && (
          <p className="status-line" role="status">
            <span className="spinner" aria-hidden="true" /> {progress}…
          </p>
        )}
        {message && <p className={`alert alert-${message.tone}`}>{message.text}</p>}
      </div>
    </div>
  );
}

/** The buyer's dispute: a reason and evidence recorded, then the escrow's dispute signed. */
function OpenDispute({ listing, onDone, onCancel }: { listing: Listing; onDone(): void; onCancel(): void }) {
  const wallet = useWallet();
  const [draft, setDraft] = useState<EvidenceDraft>(EMPTY_DRAFT);
  const [progress, setProgress] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!draft.reason) return setError("Choose a reason.");
    if (!draft.statement.trim()) return setError("Say what went wrong: the arbiter reads it.");
    setError(null);
    try {
      await openDispute(
        wallet,
        listing.listingId,
        { reason: draft.reason, statement: draft.statement, files: draft.files },
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
    <form className="dispute-form" aria-label="Open a dispute" onSubmit={submit}>
      <EvidenceFields draft={draft} onChange={setDraft} withReason disabled={progress !== null} />
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      {progress && (
        <p className="status-line" role="status">
          <span className="spinner" aria-hidden="true" /> {progress}…
        </p>
      )}
      <div className="offer-actions">
        <button type="submit" className="button button-primary" disabled={progress !== null}>
          Open dispute
        </button>
        <button type="button" className="button button-ghost" disabled={progress !== null} onClick={onCancel}>
          Back
        </button>
      </div>
    </form>
  );
}

/** The dispute as the parties (and admins) see it, with the form a party adds evidence with. */
function DisputePanel({ listing, role, version }: { listing: Listing; role: Role; version: number }) {
  const wallet = useWallet();
  const id = useId();
  const dispute = useAsync(
    (signal) => (wallet.session ? getDispute(listing.listingId, signal) : Promise.resolve(null)),
    [listing.listingId, wallet.session, version, listing.state],
  );
  if (!wallet.session) {
    if (listing.state === "paid") return null;
    return (
      <section className="card" aria-labelledby={`${id}-h`}>
        <h2 id={`${id}-h`}>Dispute</h2>
        <SignInButton wallet={wallet} label="Sign in to see the dispute" />
      </section>
    );
  }
  if (dispute.error instanceof ApiError && dispute.error.status === 404) return null;
  if (dispute.error) return <ErrorNote error={dispute.error} retry={dispute.reload} />;
  // Nothing read yet, or read before the wallet signed in.
  if (!dispute.data) return <Loading label="Loading the dispute" />;
  const d = dispute.data;
  return (
    <section className="card dispute" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Dispute</h2>
      <p>
        <strong>{reasonText(d.reason)}</strong>
        {d.status === "open" && d.resolveBy && (
          <>
            {" "}
            · the arbiter decides by <Time iso={d.resolveBy} />
          </>
        )}
        {d.status === "lapsed" && " · nobody resolved it in time: anyone can unwind the trade"}
        {d.status === "resolved" && " · resolved"}
      </p>
      <div className="evidence-columns">
        <EvidenceColumn dispute={d} party="buyer" />
        <EvidenceColumn dispute={d} party="seller" />
      </div>
      <Decisions decisions={d.decisions} />
      {role !== null && (d.status === "open" || (d.status === "opening" && role === "buyer")) && (
        <AddEvidence dispute={d} onAdded={dispute.reload} />
      )}
    </section>
  );
}

function AddEvidence({ dispute, onAdded }: { dispute: Dispute; onAdded(): void }) {
  const wallet = useWallet();
  const [draft, setDraft] = useState<EvidenceDraft>(EMPTY_DRAFT);
  const [progress, setProgress] = useState<string | null>(null);
  const [message, setMessage] = useState<{ tone: "success" | "error"; text: string } | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!draft.statement.trim() && draft.files.length === 0)
      return setMessage({ tone: "error", text: "Write a statement or choose files." });
    setMessage(null);
    try {
      const added = await addEvidence(
        wallet,
        dispute.listingId,
        { statement: draft.statement, files: draft.files },
        setProgress,
      );
      setDraft(EMPTY_DRAFT);
      setMessage({
        tone: "success",
        text: `Added ${added.length} ${added.length === 1 ? "piece" : "pieces"} of evidence.`,
      });
      onAdded();
    } catch (err) {
      setMessage({ tone: "error", text: describeError(err) });
    } finally {
      setProgress(null);
    }
  };
  return (
    <form className="dispute-form" aria-label="Add evidence" onSubmit={submit}>
      <h3>Add evidence</h3>
      <EvidenceFields draft={draft} onChange={setDraft} withReason={false} disabled={progress !== null} />
      <div aria-live="polite">
        {progress && (
          <p className="status-line" role="status">
            <span className="spinner" aria-hidden="true" /> {progress}…
          </p>
        )}
        {message && <p className={`alert alert-${message.tone}`}>{message.text}</p>}
      </div>
      <button type="submit" className="button button-primary" disabled={progress !== null}>
        Add evidence
      </button>
    </form>
  );
}

export function SignInButton({ wallet, label }: { wallet: Wallet; label: string }) {
  const [error, setError] = useState<string | null>(null);
  return (
    <>
      <button
        type="button"
        className="button button-primary"
        disabled={wallet.busy}
        onClick={() => wallet.signIn().catch((err: unknown) => setError(describeError(err)))}
      >
        {label}
      </button>
      {error && <p className="field-error">{error}</p>}
    </>
  );
}
