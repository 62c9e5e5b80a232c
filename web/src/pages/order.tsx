import { useEffect, useState } from "react";
import { getOrder, type Order, type OrderStatus } from "../commerce.ts";
import { ErrorNote, Loading, Steps, usePageTitle } from "../components.tsx";
import { formatMoney } from "../format.ts";
import { Link, useLocation } from "../router.tsx";

const STEPS = ["Checkout", "Paid", "Minting", "License issued"];
const STEP_OF: Record<OrderStatus, number> = {
  created: 0,
  paid: 1,
  minting: 2,
  fulfilled: 4,
  failed: 0,
  expired: 0,
  refunded: 0,
  disputed: 0,
};
const FINAL: OrderStatus[] = ["fulfilled", "failed", "expired", "refunded", "disputed"];

const MESSAGES: Record<OrderStatus, string> = {
  created: "Waiting for your card payment.",
  paid: "Payment received. Your license is being prepared.",
  minting: "Minting your license on chain…",
  fulfilled: "Your license is issued.",
  failed: "The order failed; your card was not charged or has been refunded.",
  expired: "The checkout expired before payment.",
  refunded: "The payment was refunded and the license revoked.",
  disputed: "The payment is disputed; the license is revoked while it is open.",
};

/** A card order's live status: server-sent events from the API, with the order re-read on each. */
export function OrderPage({ id }: { id: string }) {
  usePageTitle("Your order");
  const { params } = useLocation();
  const payUrl = params.get("pay");
  const [order, setOrder] = useState<Order | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    let closed = false;
    const refresh = () =>
      getOrder(id).then(
        (next) => !closed && setOrder(next),
        (err: unknown) => !closed && setError(err),
      );
    void refresh();
    const events = new EventSource(`/v1/orders/${id}/events`);
    const onEvent = () => void refresh();
    for (const status of Object.keys(STEP_OF)) events.addEventListener(status, onEvent);
    events.onmessage = onEvent;
    return () => {
      closed = true;
      events.close();
    };
  }, [id]);

  useEffect(() => {
    if (order && FINAL.includes(order.status)) setError(null);
  }, [order]);

  if (error && !order) return <ErrorNote error={error} />;
  if (!order) return <Loading label="Loading your order" />;
  const failed = ["failed", "expired", "refunded", "disputed"].includes(order.status);

  return (
    <>
      <h1>License purchase</h1>
      <section className="card" aria-labelledby="order-heading">
        <h2 id="order-heading" className="visually-hidden">
          Order status
        </h2>
        <Steps steps={STEPS} current={STEP_OF[order.status]} failed={failed} />
        <div aria-live="polite" className="order-status">
          <p className={failed ? "text-bad" : order.status === "fulfilled" ? "text-ok" : undefined}>
            <strong>{MESSAGES[order.status]}</strong>
            {order.failureReason && <span className="muted"> {order.failureReason}</span>}
          </p>
        </div>
        <p className="muted">
          Order <code>{order.id}</code> · {formatMoney(order.amount, order.currency)} · offer #{order.offerId}
        </p>
        {order.status === "created" && payUrl && (
          <a className="button button-primary" href={payUrl}>
            Pay with card
          </a>
        )}
        {order.status === "fulfilled" && (
          <Link className="button button-primary" href="/licenses">
            See it in My licenses
          </Link>
        )}
      </section>
    </>
  );
}
