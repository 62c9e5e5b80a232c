import { useId, useState, type FormEvent } from "react";
import type { AllowedOutcome, Dispute, DisputeQueueItem } from "../../../lib/api/disputes.ts";
import type { MarketSettings } from "../../../lib/api/market.ts";
import { splitPrice } from "../../../lib/commission.ts";
import { describeError } from "../api.ts";
import { Countdown, Empty, ErrorNote, Loading, Time, useAsync, usePageTitle } from "../components.tsx";
import { shortHex } from "../format.ts";
import {
  decide,
  formatAmount,
  getDispute,
  getDisputeQueue,
  getListing,
  getMarketSettings,
  signDecision,
} from "../market.ts";
import { Link } from "../router.tsx";
import { useWallet } from "../wallet.tsx";
import { Decisions, EvidenceColumn, reasonText } from "./dispute-parts.tsx";
import { SignInButton } from "./listing.tsx";
import { Breakdown, ItemName, StateBadge } from "./market-parts.tsx";

type Status = "open" | "lapsed" | "resolved";
const TABS: { value: Status; label: string }[] = [
  { value: "open", label: "Open" },
  { value: "lapsed", label: "Past deadline" },
  { value: "resolved", label: "Resolved" },
];

/** The arbiter's console (admin session): the dispute queue, both parties' evidence side by side, and decisions. */
export function ArbiterPage({ selected }: { selected: string | null }) {
  usePageTitle("Arbitration");
  const wallet = useWallet();
  if (!wallet.address)
    return (
      <>
        <h1>Arbitration</h1>
        <Empty title="Connect the arbiter's wallet" />
      </>
    );
  if (!wallet.session)
    return (
      <>
        <h1>Arbitration</h1>
        <Empty title="Sign in as an admin to see the disputes">
          <SignInButton wallet={wallet} label="Sign in" />
        </Empty>
      </>
    );
  if (!wallet.session.isAdmin)
    return (
      <>
        <h1>Arbitration</h1>
        <p className="alert alert-warn">This console is for the platform&apos;s admins and arbiters.</p>
      </>
    );
  return <Console selected={selected} />;
}

function Console({ selected }: { selected: string | null }) {
  const [status, setStatus] = useState<Status>("open");
  const [current, setCurrent] = useState<string | null>(selected);
  const [version, setVersion] = useState(0);
  const queue = useAsync((signal) => getDisputeQueue(status, null, signal), [status, version]);
  const market = useAsync(() => getMarketSettings(), []);
  return (
    <>
      <h1>Arbitration</h1>
      <p className="lead">
        Disputed trades, soonest deadline first. Read both sides, then decide with a reason: the decision is
        recorded, and its transaction is signed by the listing&apos;s arbiter before the deadline.
      </p>
      <div className="tabs" role="tablist" aria-label="Disputes">
        {TABS.map((tab) => (
          <button
            key={tab.value}
            type="button"
            role="tab"
            aria-selected={status === tab.value}
            className={`tab${status === tab.value ? " tab-current" : ""}`}
            onClick={() => setStatus(tab.value)}
          >
            {tab.label}
          </button>
        ))}
      </div>
      <div className="arbiter-layout">
        <section aria-label="Dispute queue" className="queue">
          {queue.loading && !queue.data ? (
            <Loading label="Loading the queue" />
          ) : queue.error ? (
            <ErrorNote error={queue.error} retry={queue.reload} />
          ) : queue.data!.items.length === 0 ? (
            <Empty title="No dispute here" />
          ) : (
            <ul className="plain-list queue-list">
              {queue.data!.items.map((item) => (
                <li key={item.listingId}>
                  <QueueEntry
                    item={item}
                    market={market.data}
                    current={current === item.listingId}
                    onOpen={setCurrent}
                  />
                </li>
              ))}
            </ul>
          )}
        </section>
        {current ? (
          <DisputeDetail
            key={current}
            listingId={current}
            market={market.data}
            onDecided={() => setVersion((v) => v + 1)}
          />
        ) : (
          <Empty title="Choose a dispute" />
        )}
      </div>
    </>
  );
}

function QueueEntry({
  item,
  market,
  current,
  onOpen,
}: {
  item: DisputeQueueItem;
  market: MarketSettings | null;
  current: boolean;
  onOpen(id: string): void;
}) {
  return (
    <button
      type="button"
      className={`queue-entry${current ? " queue-entry-current" : ""}`}
      aria-current={current ? "true" : undefined}
      onClick={() => onOpen(item.listingId)}
    >
      <span className="queue-title">
        Trade #{item.listingId} · {formatAmount(item.trade.price, item.trade.currency, market)}
      </span>
      <span className="muted">{reasonText(item.reason)}</span>
      <span className="muted">
        Evidence: buyer {item.evidenceCount.buyer}, seller {item.evidenceCount.seller}
        {item.decisions > 0 && ` · ${item.decisions} decided`}
      </span>
      {item.trade.resolveBy && item.trade.state === "disputed" && (
        <span>
          Deadline <Countdown iso={item.trade.resolveBy} />
        </span>
      )}
    </button>
  );
}

function DisputeDetail({
  listingId,
  market,
  onDecided,
}: {
  listingId: string;
  market: MarketSettings | null;
  onDecided(): void;
}) {
  const [version, setVersion] = useState(0);
  const [notice, setNotice] = useState<Notice | null>(null);
  const dispute = useAsync((signal) => getDispute(listingId, signal), [listingId, version]);
  // The listing carries the item's metadata, so the arbiter reads the item's name, not its id.
  const listing = useAsync((signal) => getListing(listingId, signal), [listingId]);
  const decided = (next: Notice) => {
    setNotice(next);
    setVersion((v) => v + 1);
    onDecided();
  };
  if (dispute.loading && !dispute.data) return <Loading label="Loading the dispute" />;
  if (dispute.error || !dispute.data) return <ErrorNote error={dispute.error} retry={dispute.reload} />;
  const d = dispute.data;
  const t = d.trade;
  const split = splitPrice(BigInt(t.price), t.commissionBps);
  const breakdown = {
    price: t.price,
    commissionBps: t.commissionBps,
    commission: split.commission.toString(),
    sellerReceives: split.sellerReceives.toString(),
  };
  return (
    <article className="card dispute-detail" aria-label={`Dispute of trade #${listingId}`}>
      <div className="page-title">
        <h2>
          <Link href={`/market/${listingId}`}>Trade #{listingId}</Link>
        </h2>
        <StateBadge state={t.state} />
      </div>
      <p>
        <strong>{reasonText(d.reason)}</strong>
        {d.openedAt && (
          <>
            {" "}
            · opened <Time iso={d.openedAt} />
          </>
        )}
      </p>
      <dl className="facts">
        <div className="definition">
          <dt>Seller</dt>
          <dd>
            <code title={t.seller}>{shortHex(t.seller, 6)}</code>
          </dd>
        </div>
        <div className="definition">
          <dt>Buyer</dt>
          <dd>{t.buyer && <code title={t.buyer}>{shortHex(t.buyer, 6)}</code>}</dd>
        </div>
        <div className="definition">
          <dt>Items</dt>
          <dd>
            {t.amount} ×{" "}
            {listing.data ? (
              <ItemName metadata={listing.data.item} itemId={t.itemId} />
            ) : (
              <>Item #{t.itemId}</>
            )}
          </dd>
        </div>
        {d.resolveBy && (
          <div className="definition">
            <dt>Deadline</dt>
            <dd>{d.status === "open" ? <Countdown iso={d.resolveBy} /> : <Time iso={d.resolveBy} />}</dd>
          </div>
        )}
      </dl>
      <Breakdown breakdown={breakdown} currency={t.currency} market={market} />
      <div className="evidence-columns">
        <EvidenceColumn dispute={d} party="buyer" />
        <EvidenceColumn dispute={d} party="seller" />
      </div>
      <details className="hashes">
        <summary>Evidence hashes ({d.evidenceHashes.length})</summary>
        <ol className="plain-list">
          {d.evidenceHashes.map((h, i) => (
            <li key={`${h}-${i}`}>
              <code>{h}</code>
            </li>
          ))}
        </ol>
      </details>
      <Decisions decisions={d.decisions} />
      <div aria-live="polite">{notice && <p className={`alert alert-${notice.tone}`}>{notice.text}</p>}</div>
      {d.allowedOutcomes.length > 0 && <Decide dispute={d} onDecided={decided} />}
    </article>
  );
}

/** What became of a decision. */
interface Notice {
  tone: "success" | "warn";
  text: string;
}

/** The outcomes the escrow allows now, a reason, and the decision signed from the connected wallet. */
function Decide({ dispute, onDecided }: { dispute: Dispute; onDecided(notice: Notice): void }) {
  const wallet = useWallet();
  const id = useId();
  const choices = dispute.allowedOutcomes.filter((o) => o.outcome !== "unwind");
  const [outcome, setOutcome] = useState<AllowedOutcome["outcome"] | "">("");
  const [reason, setReason] = useState("");
  const [arbiter, setArbiter] = useState("");
  const [progress, setProgress] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  if (choices.length === 0)
    return <p className="alert alert-warn">The deadline passed: anyone can unwind this trade now.</p>;
  const chosen = choices.find((c) => c.outcome === outcome);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!chosen) return setError("Choose an outcome.");
    if (reason.trim().length < 10)
      return setError("Give the reason for the decision (10 characters or more).");
    setError(null);
    try {
      setProgress("Recording the decision");
      const decided =
        chosen.outcome === "reassign"
          ? await decide(dispute.listingId, { outcome: "reassign", arbiter: arbiter.trim(), reason })
          : await decide(dispute.listingId, {
              outcome: chosen.outcome as "refund_buyer" | "complete_sale",
              reason,
            });
      const signer = decided.decision.signer;
      if (wallet.address?.toLowerCase() !== signer.toLowerCase()) {
        onDecided({
          tone: "warn",
          text: `Decision recorded. Its transaction must be signed by ${signer}: connect that wallet and decide again, or send it from there.`,
        });
      } else {
        await signDecision(wallet, decided.transactions, setProgress);
        onDecided({ tone: "success", text: "Decision recorded and signed." });
      }
    } catch (err) {
      setError(describeError(err));
    } finally {
      setProgress(null);
    }
  };

  return (
    <form className="decide" aria-label="Decide" onSubmit={submit}>
      <fieldset>
        <legend>Decision</legend>
        {choices.map((c) => (
          <label key={c.outcome} className="checkbox">
            <input
              type="radio"
              name={`${id}-outcome`}
              value={c.outcome}
              checked={outcome === c.outcome}
              disabled={progress !== null}
              onChange={() => setOutcome(c.outcome)}
            />
            {c.description}
            {c.signer && <span className="muted"> (signed by {shortHex(c.signer)})</span>}
          </label>
        ))}
      </fieldset>
      {outcome === "reassign" && (
        <div className="field">
          <label htmlFor={`${id}-arbiter`}>New arbiter</label>
          <input
            id={`${id}-arbiter`}
            className="mono-input"
            value={arbiter}
            onChange={(e) => setArbiter(e.target.value)}
            placeholder="0x…"
          />
        </div>
      )}
      <div className="field">
        <label htmlFor={`${id}-reason`}>Reason</label>
        <textarea
          id={`${id}-reason`}
          rows={3}
          maxLength={2000}
          value={reason}
          disabled={progress !== null}
          onChange={(e) => setReason(e.target.value)}
        />
        <p className="hint">Both parties see it.</p>
      </div>
      <div aria-live="polite">
        {progress && (
          <p className="status-line" role="status">
            <span className="spinner" aria-hidden="true" /> {progress}…
          </p>
        )}
        {error && (
          <p className="alert alert-error" role="alert">
            {error}
          </p>
        )}
      </div>
      <button type="submit" className="button button-primary" disabled={progress !== null}>
        Record decision and sign
      </button>
    </form>
  );
}
