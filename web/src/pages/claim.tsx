import { useEffect, useState } from "react";
import type { Order } from "../../../lib/api/orders.ts";
import { getOrder } from "../commerce.ts";
import { Empty, ErrorNote, usePageTitle } from "../components.tsx";
import { claimLicense } from "../orders.ts";
import { Link } from "../router.tsx";
import { ensureSession, useWallet } from "../wallet.tsx";

/** The claim link's token: after `#token=`, so it never reaches a server log or a Referer header. */
function tokenOf(hash: string): string | null {
  const token = new URLSearchParams(hash.replace(/^#/, "")).get("token");
  return token && /^[A-Za-z0-9_-]{43}$/.test(token) ? token : null;
}

/** Claims a license held for a card buyer's email: connect any wallet, sign in, and it is minted there. */
export function ClaimPage() {
  usePageTitle("Claim your license");
  const wallet = useWallet();
  const [token] = useState(() => tokenOf(window.location.hash));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [claimed, setClaimed] = useState<Order | null>(null);

  // Follows the claimed order (readable by the claiming wallet's session) until its license is issued.
  useEffect(() => {
    if (!claimed || claimed.status === "fulfilled" || claimed.status === "failed") return;
    const timer = setTimeout(() => {
      getOrder(claimed.orderId, "").then(setClaimed, setError);
    }, 1500);
    return () => clearTimeout(timer);
  }, [claimed]);

  if (!token) {
    return (
      <>
        <h1>Claim your license</h1>
        <Empty title="This claim link is incomplete">
          <p>Open the link from your mail as it is, or copy the whole address into the browser.</p>
        </Empty>
      </>
    );
  }

  const claim = async () => {
    setBusy(true);
    setError(null);
    try {
      await ensureSession(wallet);
      setClaimed(await claimLicense(token));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <h1>Claim your license</h1>
      <section className="card" aria-labelledby="claim-heading">
        <h2 id="claim-heading">A license is kept for you</h2>
        {claimed ? (
          <div aria-live="polite">
            <p className={claimed.status === "fulfilled" ? "text-ok" : undefined}>
              <strong>
                {claimed.status === "fulfilled"
                  ? `License #${claimed.tokenId} is in your wallet.`
                  : claimed.status === "failed"
                    ? `The license could not be minted: ${claimed.failureReason ?? "unknown reason"}`
                    : "Claimed. Minting the license to your wallet…"}
              </strong>
            </p>
            <p className="muted">
              To <code>{claimed.wallet}</code> · order <code>{claimed.orderId}</code>
            </p>
            {claimed.status === "fulfilled" && (
              <Link className="button button-primary" href="/licenses">
                See it in My licenses
              </Link>
            )}
          </div>
        ) : (
          <>
            <p>
              Connect any wallet and sign in with it: the license is minted to that wallet. A claim link works
              once.
            </p>
            {wallet.address ? (
              <button type="button" className="button button-primary" onClick={claim} disabled={busy}>
                {busy ? "Claiming…" : `Claim the license to ${wallet.address.slice(0, 10)}…`}
              </button>
            ) : (
              <p className="hint">Connect a wallet with the button at the top of the page.</p>
            )}
          </>
        )}
        {error !== null && <ErrorNote error={error} />}
      </section>
    </>
  );
}
