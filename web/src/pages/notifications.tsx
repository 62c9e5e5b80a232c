import { useEffect, useState } from "react";
import type { Notifications } from "../../../lib/api/notifications.ts";
import { Empty, ErrorNote, Loading, Time, useAsync, usePageTitle } from "../components.tsx";
import { getNotifications, markNotificationsSeen } from "../market.ts";
import { Link } from "../router.tsx";
import { useWallet } from "../wallet.tsx";
import { SignInButton } from "./listing.tsx";

/** How often the header asks for new notifications while signed in. */
const POLL_MS = 15_000;

/** The header's link to the notifications, with how many are unread (signed-in players only). */
export function NotificationsLink({ current }: { current: boolean }) {
  const wallet = useWallet();
  const [unread, setUnread] = useState(0);
  useEffect(() => {
    if (!wallet.session) return;
    let live = true;
    const poll = () =>
      getNotifications().then(
        (n) => live && setUnread(n.unread),
        () => undefined,
      );
    void poll();
    const timer = setInterval(poll, POLL_MS);
    window.addEventListener("rl:notifications-seen", poll);
    return () => {
      live = false;
      clearInterval(timer);
      window.removeEventListener("rl:notifications-seen", poll);
    };
  }, [wallet.session]);
  if (!wallet.session) return null;
  return (
    <Link
      href="/notifications"
      className="notifications-link"
      aria-current={current ? "page" : undefined}
      title="Notifications"
    >
      <svg
        width="20"
        height="20"
        viewBox="0 0 24 24"
        fill="none"
        stroke="currentColor"
        strokeWidth="2"
        aria-hidden="true"
      >
        <path d="M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9" />
        <path d="M10.3 21a1.94 1.94 0 0 0 3.4 0" />
      </svg>
      <span className="visually-hidden">Notifications</span>
      {unread > 0 && (
        <span className="badge badge-bad notifications-count">
          {unread}
          <span className="visually-hidden"> unread</span>
        </span>
      )}
    </Link>
  );
}

/** What happened to the signed-in player's trades and disputes; opening the page marks them seen. */
export function NotificationsPage() {
  usePageTitle("Notifications");
  const wallet = useWallet();
  return (
    <>
      <h1>Notifications</h1>
      {!wallet.address ? (
        <Empty title="Connect a wallet to see your notifications" />
      ) : !wallet.session ? (
        <Empty title="Sign in to see your notifications">
          <SignInButton wallet={wallet} label="Sign in" />
        </Empty>
      ) : (
        <List />
      )}
    </>
  );
}

function List() {
  const list = useAsync((signal) => getNotifications(signal), []);
  const [shown, setShown] = useState<Notifications | null>(null);
  useEffect(() => {
    if (!list.data) return;
    setShown(list.data);
    if (list.data.unread > 0)
      void markNotificationsSeen().then(() => window.dispatchEvent(new Event("rl:notifications-seen")));
  }, [list.data]);
  if (list.loading && !shown) return <Loading label="Loading your notifications" />;
  if (list.error) return <ErrorNote error={list.error} retry={list.reload} />;
  if (!shown || shown.items.length === 0) return <Empty title="Nothing has happened to your trades yet" />;
  return (
    <ul className="plain-list notifications" aria-label="Notifications">
      {shown.items.map((n) => (
        <li key={n.id} className={n.unread ? "notification notification-unread" : "notification"}>
          <Link href={`/market/${n.listingId}`}>{n.text}</Link>
          <span className="muted">
            {n.unread && <span className="badge badge-info">new</span>} {n.at && <Time iso={n.at} />}
          </span>
        </li>
      ))}
    </ul>
  );
}
