import { useId, useState, type FormEvent } from "react";
import type { Offer } from "../../../lib/api/offers.ts";
import type { OrderStatus } from "../../../lib/api/orders.ts";
import type { RefundRequest, RefundStatus } from "../../../lib/api/refunds.ts";
import { describeError } from "../api.ts";
import { Badge, Empty, ErrorNote, Loading, Time, Untrusted, useAsync } from "../components.tsx";
import { formatMoney } from "../format.ts";
import {
  decideRefund,
  getOrderRefund,
  getRefundWindow,
  listRefundRequests,
  requestRefund,
  setRefundWindow,
  withdrawRefund,
} from "../refunds.ts";
import { ensureSession, useWallet } from "../wallet.tsx";
import { SignInButton } from "./listing.tsx";

const STATUS_TEXT: Record<RefundStatus, string> = {
  requested: "Requested: waiting for the creator's decision",
  approved: "Approved: the refund is on its way to your card",
  refunded: "Refunded to your card; the license is revoked",
  declined: "Declined",
  cancelled: "Withdrawn",
};

const STATUS_TONE: Record<RefundStatus, "ok" | "warn" | "bad" | "info" | "muted"> = {
  requested: "info",
  approved: "warn",
  refunded: "ok",
  declined: "bad",
  cancelled: "muted",
};

const DAY = 86_400;

function describeWindow(seconds: number): string {
  if (seconds === 0) return "no refunds on request";
  if (seconds % DAY === 0) return `${seconds / DAY} day${seconds === DAY ? "" : "s"}`;
  if (seconds % 3600 === 0) return `${seconds / 3600} hour${seconds === 3600 ? "" : "s"}`;
  return `${seconds} seconds`;
}

/**
 * The buyer's refund request of a card order: the form while one may be made, then its status,
 * read again whenever the order's event stream moves (`revision`).
 */
export function OrderRefundCard({
  orderId,
  secret,
  status,
  revision,
}: {
  orderId: string;
  secret: string;
  status: OrderStatus;
  revision: number;
}) {
  const id = useId();
  const standing = useAsync(() => getOrderRefund(orderId, secret), [orderId, secret, status, revision]);
  const [reason, setReason] = useState("");
  const [email, setEmail] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const act = async (work: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
      setReason("");
      standing.reload();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void act(() => requestRefund(orderId, secret, reason, email));
  };

  const s = standing.data;
  if (standing.error && !s) return <ErrorNote error={standing.error} retry={standing.reload} />;
  if (!s || (!s.request && !s.refundable)) return null;
  const r = s.request;
  return (
    <section className="card" aria-labelledby={`${id}-heading`} data-testid="refund-card">
      <h2 id={`${id}-heading`}>Refund</h2>
      {r && r.status !== "cancelled" ? (
        <div aria-live="polite">
          <p>
            <Badge tone={STATUS_TONE[r.status]}>
              <span data-testid="refund-status">{r.status}</span>
            </Badge>{" "}
            {STATUS_TEXT[r.status]} · {formatMoney(r.amount, r.currency)}
          </p>
          <p className="muted">
            You asked <Time iso={r.requestedAt} />: <Untrusted text={r.reason} />
          </p>
          {r.decision && (
            <p data-testid="refund-decision">
              The creator {r.decision.approved ? "approved" : "declined"} it <Time iso={r.decision.at} />:{" "}
              <Untrusted text={r.decision.reason} />
            </p>
          )}
          {r.status === "requested" && (
            <button
              type="button"
              className="button button-small"
              disabled={busy}
              onClick={() => void act(() => withdrawRefund(orderId, secret))}
            >
              Withdraw the request
            </button>
          )}
        </div>
      ) : (
        <form onSubmit={submit} className="stack-form">
          <p className="muted">
            You may ask the creator for a refund
            {s.window.closesAt ? (
              <>
                {" "}
                until <Time iso={s.window.closesAt} />
              </>
            ) : (
              ` within ${describeWindow(s.window.seconds)} of your purchase`
            )}
            . If they approve, the whole price goes back to your card and the license is revoked.
          </p>
          <label>
            Why do you want a refund?
            <textarea
              rows={3}
              required
              minLength={3}
              maxLength={1000}
              value={reason}
              onChange={(e) => setReason(e.target.value)}
            />
          </label>
          <label>
            Email for the decision (optional)
            <input
              type="email"
              autoComplete="email"
              maxLength={254}
              value={email}
              onChange={(e) => setEmail(e.target.value)}
            />
          </label>
          <div className="offer-actions">
            <button type="submit" className="button" disabled={busy || reason.trim().length < 3}>
              {busy ? "Sending…" : "Request a refund"}
            </button>
          </div>
        </form>
      )}
      {error && (
        <div className="alert alert-error" role="alert">
          <p>{error}</p>
        </div>
      )}
    </section>
  );
}

/** The creator's refund requests of an offer, each approved or declined with a reason, and the offer's refund window. */
export function RefundRequestsSection({ offer }: { offer: Offer }) {
  const wallet = useWallet();
  const id = useId();
  const requests = useAsync(
    () => (wallet.session ? listRefundRequests(offer.offerId) : Promise.resolve(null)),
    [offer.offerId, wallet.session],
  );
  const window = useAsync(() => getRefundWindow(offer.offerId), [offer.offerId]);
  const [days, setDays] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const saveWindow = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      await ensureSession(wallet);
      await setRefundWindow(offer.offerId, Math.round(Number(days) * DAY));
      setDays("");
      window.reload();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  const list = requests.data?.requests ?? [];
  return (
    <section className="card" aria-labelledby={`${id}-heading`} data-testid="refund-requests">
      <h2 id={`${id}-heading`}>Refund requests</h2>
      {window.data && (
        <p className="muted">
          Card buyers may ask for a refund within {describeWindow(window.data.seconds)} of buying
          {window.data.platformDefault ? " (the platform's window)" : ""}.
        </p>
      )}
      {!wallet.session ? (
        <p className="hint">
          <SignInButton wallet={wallet} label="Sign in to see the requests" />
        </p>
      ) : requests.loading && !requests.data ? (
        <Loading label="Loading refund requests" />
      ) : requests.error ? (
        <ErrorNote error={requests.error} retry={requests.reload} />
      ) : list.length === 0 ? (
        <Empty title="No refund requests" />
      ) : (
        <ul className="plain-list">
          {list.map((r) => (
            <RefundRequestItem key={r.requestId} request={r} onDecided={requests.reload} />
          ))}
        </ul>
      )}
      <form onSubmit={saveWindow} className="stack-form">
        <label>
          Refund window in days (0: no refunds on request; at most{" "}
          {window.data ? window.data.platformSeconds / DAY : "…"})
          <input
            type="number"
            min={0}
            step="any"
            max={window.data ? window.data.platformSeconds / DAY : undefined}
            value={days}
            onChange={(e) => setDays(e.target.value)}
          />
        </label>
        <div className="offer-actions">
          <button type="submit" className="button button-small" disabled={busy || days === ""}>
            Set the window
          </button>
        </div>
      </form>
      {error && (
        <div className="alert alert-error" role="alert">
          <p>{error}</p>
        </div>
      )}
    </section>
  );
}

function RefundRequestItem({ request: r, onDecided }: { request: RefundRequest; onDecided: () => void }) {
  const wallet = useWallet();
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const decide = async (decision: "approve" | "decline") => {
    setBusy(true);
    setError(null);
    try {
      await ensureSession(wallet);
      await decideRefund(r.requestId, { decision, reason });
      onDecided();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <li className="refund-request" data-testid="refund-request">
      <p>
        <Badge tone={STATUS_TONE[r.status]}>{r.status}</Badge> {formatMoney(r.amount, r.currency)} · order{" "}
        <code>{r.orderId.slice(0, 8)}</code> · asked <Time iso={r.requestedAt} />
      </p>
      <p>
        <Untrusted text={r.reason} />
      </p>
      {r.decision && (
        <p className="muted">
          {r.decision.approved ? "Approved" : "Declined"} <Time iso={r.decision.at} />:{" "}
          <Untrusted text={r.decision.reason} />
        </p>
      )}
      {r.status === "requested" && (
        <div className="stack-form">
          <label>
            Your reason (the buyer reads it)
            <input type="text" maxLength={1000} value={reason} onChange={(e) => setReason(e.target.value)} />
          </label>
          <div className="offer-actions">
            <button
              type="button"
              className="button button-primary button-small"
              disabled={busy || reason.trim().length < 3}
              onClick={() => void decide("approve")}
            >
              Approve and refund
            </button>
            <button
              type="button"
              className="button button-small"
              disabled={busy || reason.trim().length < 3}
              onClick={() => void decide("decline")}
            >
              Decline
            </button>
          </div>
        </div>
      )}
      {error && (
        <div className="alert alert-error" role="alert">
          <p>{error}</p>
        </div>
      )}
    </li>
  );
}
