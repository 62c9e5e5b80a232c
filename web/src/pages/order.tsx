import { useEffect, useState } from "react";
import type { DownloadLink } from "../../../lib/api/deliveries.ts";
import type { Order, OrderStatus } from "../../../lib/api/orders.ts";
import { getOrder, orderEvents } from "../commerce.ts";
import type { OrderCode } from "../../../lib/api/codes.ts";
import { getOrderCode } from "../codes.ts";
import { orderDownloadLink, startDownload } from "../delivery.ts";
import { Badge, CopyButton, ErrorNote, FinalityBadge, Loading, Steps, usePageTitle } from "../components.tsx";
import { formatBytes, formatDate, formatMoney } from "../format.ts";
import { mailNewClaimLink } from "../orders.ts";
import { Link } from "../router.tsx";
import { OrderRefundCard } from "./refunds.tsx";

const STEPS = ["Checkout", "Paid", "Minting", "License issued"];
/** A license held for the buyer's email waits for a wallet's claim where others mint. */
const HELD_STEPS = ["Checkout", "Paid", "Claim with a wallet", "License issued"];
const STEP_OF: Record<OrderStatus, number> = {
  created: 0,
  paid: 2,
  held: 2,
  minting: 2,
  fulfilled: 4,
  failed: 0,
  expired: 0,
  refunded: 0,
  disputed: 0,
};

const MESSAGES: Record<OrderStatus, string> = {
  created: "Waiting for your card payment.",
  paid: "Payment received. Your license is being prepared.",
  held: "Paid. Your license is kept for you until you claim it with a wallet.",
  minting: "Minting your license on chain…",
  fulfilled: "Your license is issued.",
  failed: "The order failed; your card was not charged or has been refunded.",
  expired: "The checkout expired before payment.",
  refunded: "The payment was refunded and the license revoked.",
  disputed: "The payment is disputed; the license is revoked while it is open.",
};

/** A card order's live status: the API's server-sent events, with the order re-read on each. */
export function OrderPage({ id, secret }: { id: string; secret: string }) {
  usePageTitle("Your order");
  const [order, setOrder] = useState<Order | null>(null);
  const [error, setError] = useState<unknown>(null);
  // Counts the order's events: a refund request's steps move it without changing its status.
  const [revision, setRevision] = useState(0);

  useEffect(() => {
    let closed = false;
    const refresh = () =>
      getOrder(id, secret).then(
        (next) => {
          if (closed) return;
          setOrder(next);
          setRevision((r) => r + 1);
          setError(null);
        },
        (err: unknown) => !closed && setError(err),
      );
    void refresh();
    const events = orderEvents(id, secret);
    events.addEventListener("status", refresh);
    events.addEventListener("license", refresh);
    return () => {
      closed = true;
      events.close();
    };
  }, [id, secret]);

  if (error && !order) return <ErrorNote error={error} />;
  if (!order) return <Loading label="Loading your order" />;
  const failed = ["failed", "expired", "refunded", "disputed"].includes(order.status);

  return (
    <>
      <h1>License purchase</h1>
      <section className="card" aria-labelledby="order-heading">
        <h2 id="order-heading">
          {formatMoney(order.amount, order.currency)} · offer #{order.offerId}
        </h2>
        {order.saleAmount !== null && (
          <p className="muted" data-testid="order-sale">
            Sale price {formatMoney(order.saleAmount, order.currency)}, list price{" "}
            <s>{formatMoney(order.listAmount, order.currency)}</s>
          </p>
        )}
        {order.discount > 0 && (
          <p className="muted">
            {formatMoney(order.saleAmount ?? order.listAmount, order.currency)} less{" "}
            {formatMoney(order.discount, order.currency)} with coupon <code>{order.coupon}</code>
          </p>
        )}
        <Steps
          steps={order.status === "held" ? HELD_STEPS : STEPS}
          current={STEP_OF[order.status]}
          failed={failed}
        />
        <div aria-live="polite" className="order-status">
          <p className={failed ? "text-bad" : order.status === "fulfilled" ? "text-ok" : undefined}>
            <strong>{MESSAGES[order.status]}</strong>
            {order.failureReason && <span className="muted"> {order.failureReason}</span>}
          </p>
          {order.license && (
            <p>
              License #{order.license.tokenId}{" "}
              {order.revocation?.revokedAt ? (
                <Badge tone="bad">
                  <span data-testid="license-revoked">revoked</span>
                </Badge>
              ) : (
                order.license.finality && <FinalityBadge finality={order.license.finality} />
              )}
            </p>
          )}
        </div>
        {order.status === "held" && <HeldLicense order={order} secret={secret} />}
        <p className="muted">
          Order <code>{order.orderId}</code> ·{" "}
          {order.wallet ? (
            <>
              license to <code>{order.wallet}</code>
            </>
          ) : (
            <>held for {order.email}</>
          )}
        </p>
        {secret && (
          <p className="muted">
            Order secret <code>{secret}</code> <CopyButton value={secret} label="order secret" />
          </p>
        )}
        <div className="offer-actions">
          {order.status === "created" && order.checkoutUrl && (
            <a className="button button-primary" href={order.checkoutUrl} target="_blank" rel="noopener">
              Pay with card<span className="visually-hidden"> (opens in a new tab)</span>
            </a>
          )}
          {order.status === "fulfilled" && (
            <Link className="button button-primary" href="/licenses">
              See it in My licenses
            </Link>
          )}
        </div>
        {order.status === "created" && (
          <p className="hint">This page follows the payment live; keep it open while you pay.</p>
        )}
      </section>
      {order.status !== "created" && order.status !== "expired" && (
        <OrderCodeCard orderId={id} secret={secret} status={order.status} />
      )}
      {order.license && !failed && <OrderDownload orderId={id} secret={secret} />}
      {["fulfilled", "held", "refunded"].includes(order.status) && (
        <OrderRefundCard orderId={id} secret={secret} status={order.status} revision={revision} />
      )}
    </>
  );
}

/** A license held for the buyer's email: where its claim link went, and a new link once it expired. */
function HeldLicense({ order, secret }: { order: Order; secret: string }) {
  const [busy, setBusy] = useState(false);
  const [sent, setSent] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  const mailAgain = async () => {
    setBusy(true);
    setError(null);
    try {
      const { expiresAt } = await mailNewClaimLink(order.orderId, secret);
      setSent(`A new link is on its way to ${order.email}; it works until ${formatDate(expiresAt)}.`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <p>
        We mailed a claim link to <strong>{order.email}</strong>. Open it, connect any wallet and sign in: the
        license is minted to that wallet. Keep this page's address (or your email and order secret) to find
        the order again.
      </p>
      {secret && (
        <button type="button" className="button button-small" onClick={mailAgain} disabled={busy}>
          Mail me a new link
        </button>
      )}
      <div aria-live="polite">
        {sent && <p className="alert alert-success">{sent}</p>}
        {error !== null && <ErrorNote error={error} />}
      </div>
    </>
  );
}

/** The licensed file: a download link asked for with the order's secret, and what the license has left. */
function OrderDownload({ orderId, secret }: { orderId: string; secret: string }) {
  const [busy, setBusy] = useState(false);
  const [link, setLink] = useState<DownloadLink | null>(null);
  const [error, setError] = useState<unknown>(null);

  const download = async () => {
    setBusy(true);
    setError(null);
    try {
      const next = await orderDownloadLink(orderId, secret);
      setLink(next);
      startDownload(next);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const left = link?.entitlement.downloads.left;
  return (
    <section className="card" aria-labelledby="download-heading">
      <h2 id="download-heading">Your file</h2>
      <p>The file is delivered to this license only, through a link that works for a few minutes.</p>
      <div className="offer-actions">
        <button type="button" className="button button-primary" onClick={download} disabled={busy}>
          {busy ? "Preparing the download…" : "Download the file"}
        </button>
      </div>
      <div aria-live="polite">
        {link && (
          <p className="text-ok">
            Downloading {link.entitlement.file.filename ?? "the file"} (
            {formatBytes(link.entitlement.file.size)}).
            {left !== null && left !== undefined && ` ${left} download${left === 1 ? "" : "s"} left.`}
          </p>
        )}
      </div>
      {error !== null && <ErrorNote error={error} />}
    </section>
  );
}

/** The redemption code of a paid order whose offer sells codes, with a copy button; read again as the order moves. */
function OrderCodeCard({
  orderId,
  secret,
  status,
}: {
  orderId: string;
  secret: string;
  status: OrderStatus;
}) {
  const [code, setCode] = useState<OrderCode | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    let closed = false;
    getOrderCode(orderId, secret).then(
      (next) => !closed && setCode(next),
      (err: unknown) => !closed && setError(err),
    );
    return () => {
      closed = true;
    };
  }, [orderId, secret, status]);

  if (error !== null) return <ErrorNote error={error} />;
  if (!code) return null;
  return (
    <section className="card" aria-labelledby="code-heading">
      <h2 id="code-heading">Your code</h2>
      {code.status === "delivered" && (
        <>
          <p>
            <span className="mono-value">
              <code className="redemption-code" data-testid="redemption-code">
                {code.code}
              </code>
              <CopyButton value={code.code!} label="the code" />
            </span>
          </p>
        </>
      )}
      {code.status === "pending" && <p>Your code is on its way; it appears here once the payment is in.</p>}
      {code.status === "void" && (
        <p className="text-bad">This order's code is void: the order was refunded or failed.</p>
      )}
    </section>
  );
}
