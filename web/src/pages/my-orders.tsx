import { useState } from "react";
import type { BuyerOrder } from "../../../lib/api/orders.ts";
import { describeError } from "../api.ts";
import { NATIVE_CURRENCY } from "../commerce.ts";
import { Badge, Empty, ErrorNote, Loading, Time, useAsync, usePageTitle } from "../components.tsx";
import { formatEth, formatMoney, shortHex } from "../format.ts";
import { buyerOrders } from "../orders.ts";
import { Link } from "../router.tsx";
import { useWallet } from "../wallet.tsx";

const TONES: Record<string, "ok" | "warn" | "bad" | "muted"> = {
  fulfilled: "ok",
  held: "warn",
  created: "muted",
  paid: "warn",
  minting: "warn",
  failed: "bad",
  refunded: "bad",
  disputed: "bad",
  revoked: "bad",
};

function price(order: BuyerOrder): string {
  if (order.kind === "card") return formatMoney(Number(order.amount), order.currency);
  if (order.currency === NATIVE_CURRENCY) return formatEth(order.amount);
  return `${order.amount} units of token ${shortHex(order.currency)}`;
}

/** The signed-in wallet's purchases: card orders and licenses bought on chain, newest first, page by page. */
export function MyOrdersPage() {
  usePageTitle("My orders");
  const wallet = useWallet();
  const [error, setError] = useState<string | null>(null);

  if (!wallet.address || !wallet.session) {
    return (
      <>
        <h1>My orders</h1>
        <Empty title={wallet.address ? "Sign in to see your orders" : "Connect a wallet to see your orders"}>
          <p>
            Bought by card without a wallet? <Link href="/orders/find">Find your order</Link> with your email
            and order secret.
          </p>
          {wallet.address && (
            <button
              type="button"
              className="button button-primary"
              disabled={wallet.busy}
              onClick={() => wallet.signIn().catch((err: unknown) => setError(describeError(err)))}
            >
              Sign in to see your orders
            </button>
          )}
          {error && (
            <p className="alert alert-error" role="alert">
              {error}
            </p>
          )}
        </Empty>
      </>
    );
  }
  return <OrdersList session={wallet.session.token} />;
}

function OrdersList({ session }: { session: string }) {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors[cursors.length - 1]!;
  const page = useAsync((signal) => buyerOrders(cursor, signal), [session, cursor]);

  return (
    <>
      <h1>My orders</h1>
      <p className="muted">
        Everything this wallet bought: card orders and licenses bought on chain.{" "}
        <Link href="/orders/find">Find a card order by email</Link>
      </p>
      {page.error !== null && <ErrorNote error={page.error} retry={page.reload} />}
      {page.loading && !page.data && <Loading label="Loading your orders" />}
      {page.data && page.data.items.length === 0 && cursors.length === 1 && (
        <Empty title="No orders yet">
          <p>Licenses you buy, by card or with this wallet, are listed here.</p>
        </Empty>
      )}
      {page.data && page.data.items.length > 0 && (
        <table className="table responsive-table" aria-label="Orders">
          <thead>
            <tr>
              <th scope="col">Date</th>
              <th scope="col">Paid</th>
              <th scope="col">Offer</th>
              <th scope="col">License</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {page.data.items.map((order) => (
              <tr key={order.id}>
                <td data-label="Date">
                  <Time iso={order.at} />
                </td>
                <td data-label="Paid">
                  {price(order)}{" "}
                  <span className="muted">{order.kind === "card" ? "by card" : "on chain"}</span>
                </td>
                <td data-label="Offer">
                  <Link href={`/offers/${order.offerId}`}>Offer #{order.offerId}</Link>
                </td>
                <td data-label="License">{order.tokenId ? `#${order.tokenId}` : "—"}</td>
                <td data-label="Status">
                  {order.kind === "card" ? (
                    <Link href={`/orders/${order.id}`}>
                      <Badge tone={TONES[order.status] ?? "muted"}>{order.status}</Badge>
                    </Link>
                  ) : (
                    <Badge tone={TONES[order.status] ?? "muted"}>{order.status}</Badge>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="offer-actions">
        {cursors.length > 1 && (
          <button type="button" className="button" onClick={() => setCursors((c) => c.slice(0, -1))}>
            Newer
          </button>
        )}
        {page.data?.nextCursor && (
          <button
            type="button"
            className="button"
            onClick={() => setCursors((c) => [...c, page.data!.nextCursor])}
          >
            Older
          </button>
        )}
      </div>
    </>
  );
}
