import { useEffect, useRef } from "react";
import { Link, useLocation } from "./router.tsx";
import { WalletButton } from "./wallet-button.tsx";
import { ExplorePage } from "./pages/explore.tsx";
import { WorkPage } from "./pages/work.tsx";
import { CreatePage } from "./pages/create.tsx";
import { LicensesPage } from "./pages/licenses.tsx";
import { EarningsPage } from "./pages/earnings.tsx";
import { TradesPage } from "./pages/trades.tsx";
import { ArbiterPage } from "./pages/arbiter.tsx";
import { InventoryPage } from "./pages/inventory.tsx";
import { ListingPage } from "./pages/listing.tsx";
import { MarketPage } from "./pages/market.tsx";
import { NotificationsLink, NotificationsPage } from "./pages/notifications.tsx";
import { SellPage } from "./pages/sell.tsx";
import { useWallet } from "./wallet.tsx";
import { VerifyPage } from "./pages/verify.tsx";
import { OfferPage } from "./pages/offer.tsx";
import { OrderPage } from "./pages/order.tsx";
import { MyOrdersPage } from "./pages/my-orders.tsx";
import { FindOrderPage } from "./pages/find-order.tsx";
import { ClaimPage } from "./pages/claim.tsx";
import { NotFoundPage } from "./pages/not-found.tsx";
import { DevMailPage } from "./pages/dev-mail.tsx";

const NAV = [
  { href: "/", label: "Explore" },
  { href: "/create", label: "Create" },
  { href: "/licenses", label: "My licenses" },
  { href: "/orders", label: "My orders" },
  { href: "/earnings", label: "Earnings" },
  { href: "/market", label: "Market" },
  { href: "/verify", label: "Verify" },
];

/** The trading floor's pages, one tab each; Arbitration for admin sessions only. */
const TRADING_NAV = [
  { href: "/market", label: "Market" },
  { href: "/inventory", label: "Inventory" },
  { href: "/sell", label: "Sell" },
  { href: "/trades", label: "My trades" },
];
const ARBITER_NAV = { href: "/arbiter", label: "Arbitration" };
const isTrading = (path: string) =>
  [...TRADING_NAV, ARBITER_NAV].some((item) => path === item.href || path.startsWith(`${item.href}/`));

function page(path: string, params: URLSearchParams) {
  if (path === "/") return <ExplorePage />;
  if (path === "/create") return <CreatePage />;
  if (path === "/licenses") return <LicensesPage />;
  if (path === "/earnings") return <EarningsPage />;
  if (path === "/trades") return <TradesPage />;
  if (path === "/market") return <MarketPage params={params} />;
  if (path === "/inventory") return <InventoryPage />;
  if (path === "/sell") return <SellPage itemId={params.get("item")} />;
  if (path === "/arbiter") return <ArbiterPage selected={params.get("trade")} />;
  if (path === "/notifications") return <NotificationsPage />;
  const listing = /^\/market\/(\d{1,78})$/.exec(path);
  if (listing) return <ListingPage id={listing[1]!} />;
  if (path === "/verify") return <VerifyPage />;
  const devMail = /^\/dev\/mail(?:\/(\d{1,12}))?$/.exec(path);
  if (devMail) return <DevMailPage id={devMail[1] ?? null} />;
  const work = /^\/works\/(\d+)$/.exec(path);
  if (work) return <WorkPage id={work[1]!} />;
  // A referral link: `ref` names the referrer of a purchase made from it.
  const offer = /^\/offers\/(\d+)$/.exec(path);
  if (offer) return <OfferPage id={offer[1]!} referrer={params.get("ref")} />;
  if (path === "/orders") return <MyOrdersPage />;
  if (path === "/orders/find") return <FindOrderPage />;
  if (path === "/claim") return <ClaimPage />;
  const order = /^\/orders\/([\w-]+)$/.exec(path);
  // The order secret in the query is what lets the page read the order without a session.
  const secret = params.get("secret") ?? "";
  if (order) return <OrderPage id={order[1]!} secret={secret} />;
  // Where the card payment provider sends the buyer back.
  const returned = path === "/checkout/return" ? params.get("orderId") : null;
  if (returned && /^[\w-]+$/.test(returned)) return <OrderPage id={returned} secret={secret} />;
  return <NotFoundPage />;
}

function isCurrent(href: string, path: string): boolean {
  if (href === "/") return path === "/" || path.startsWith("/works/") || path.startsWith("/offers/");
  if (href === "/market") return isTrading(path);
  return path.startsWith(href);
}

/** Tabs between the trading floor's pages. */
function TradingNav({ path, admin }: { path: string; admin: boolean }) {
  const items = admin ? [...TRADING_NAV, ARBITER_NAV] : TRADING_NAV;
  return (
    <nav aria-label="Trading" className="tabs trading-nav">
      {items.map((item) => (
        <Link
          key={item.href}
          href={item.href}
          className={`tab${path === item.href || path.startsWith(`${item.href}/`) ? " tab-current" : ""}`}
          aria-current={path === item.href ? "page" : undefined}
        >
          {item.label}
        </Link>
      ))}
    </nav>
  );
}

export function App() {
  const { path, params } = useLocation();
  const wallet = useWallet();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);

  // After in-app navigation, move focus to the new page so screen readers announce it.
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.focus();
    window.scrollTo(0, 0);
  }, [path]);

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <div className="header-inner">
          <Link href="/" className="brand" aria-label="Rights Ledger, home">
            <span className="brand-mark" aria-hidden="true">
              R
            </span>
            <span className="brand-name">Rights Ledger</span>
          </Link>
          <nav aria-label="Main" className="main-nav">
            <ul>
              {NAV.map((item) => (
                <li key={item.href}>
                  <Link href={item.href} aria-current={isCurrent(item.href, path) ? "page" : undefined}>
                    {item.label}
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
          <NotificationsLink current={path === "/notifications"} />
          <WalletButton />
        </div>
      </header>
      <main id="main" ref={main} tabIndex={-1} className="page">
        {isTrading(path) && <TradingNav path={path} admin={wallet.session?.isAdmin === true} />}
        {page(path, params)}
      </main>
      <footer className="site-footer">
        <p>
          Rights Ledger — works registered on chain, licenses you can verify. <a href="/docs">API docs</a>
        </p>
      </footer>
    </>
  );
}
