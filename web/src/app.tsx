import { useEffect, useRef } from "react";
import { Link, useLocation } from "./router.tsx";
import { WalletButton } from "./wallet-button.tsx";
import { ExplorePage } from "./pages/explore.tsx";
import { WorkPage } from "./pages/work.tsx";
import { CreatePage } from "./pages/create.tsx";
import { LicensesPage } from "./pages/licenses.tsx";
import { EarningsPage } from "./pages/earnings.tsx";
import { TradesPage } from "./pages/trades.tsx";
import { VerifyPage } from "./pages/verify.tsx";
import { OfferPage } from "./pages/offer.tsx";
import { OrderPage } from "./pages/order.tsx";
import { NotFoundPage } from "./pages/not-found.tsx";

const NAV = [
  { href: "/", label: "Explore" },
  { href: "/create", label: "Create" },
  { href: "/licenses", label: "My licenses" },
  { href: "/earnings", label: "Earnings" },
  { href: "/trades", label: "Trades" },
  { href: "/verify", label: "Verify" },
];

function page(path: string, params: URLSearchParams) {
  if (path === "/") return <ExplorePage />;
  if (path === "/create") return <CreatePage />;
  if (path === "/licenses") return <LicensesPage />;
  if (path === "/earnings") return <EarningsPage />;
  if (path === "/trades") return <TradesPage />;
  if (path === "/verify") return <VerifyPage />;
  const work = /^\/works\/(\d+)$/.exec(path);
  if (work) return <WorkPage id={work[1]!} />;
  // A referral link: `ref` names the referrer of a purchase made from it.
  const offer = /^\/offers\/(\d+)$/.exec(path);
  if (offer) return <OfferPage id={offer[1]!} referrer={params.get("ref")} />;
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
  return href === "/"
    ? path === "/" || path.startsWith("/works/") || path.startsWith("/offers/")
    : path.startsWith(href);
}

export function App() {
  const { path, params } = useLocation();
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
          <WalletButton />
        </div>
      </header>
      <main id="main" ref={main} tabIndex={-1} className="page">
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
