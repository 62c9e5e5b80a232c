import { useEffect, useId, useRef, useState } from "react";
import { describeError } from "./api.ts";
import { shortHex } from "./format.ts";
import { useWallet } from "./wallet.tsx";

/** Header control: connect (browser wallet or development account), sign in, disconnect. */
export function WalletButton() {
  const wallet = useWallet();
  const dialog = useRef<HTMLDialogElement>(null);
  const [error, setError] = useState<string | null>(null);
  const [devIndex, setDevIndex] = useState(5);
  const titleId = useId();
  const selectId = useId();

  useEffect(() => {
    if (wallet.address) dialog.current?.close();
  }, [wallet.address]);

  const attempt = async (action: () => Promise<unknown>) => {
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(describeError(err));
    }
  };

  const open = () => {
    setError(null);
    dialog.current?.showModal();
  };

  return (
    <div className="wallet">
      {wallet.address ? (
        <div className="wallet-connected">
          <span className="wallet-address" title={wallet.address}>
            <span className={`wallet-dot${wallet.session ? " wallet-dot-on" : ""}`} aria-hidden="true" />
            <span className="visually-hidden">Connected wallet </span>
            <code>{shortHex(wallet.address)}</code>
            {wallet.kind === "dev" && <span className="wallet-kind">dev</span>}
          </span>
          {!wallet.session && (
            <button
              type="button"
              className="button button-small"
              disabled={wallet.busy}
              onClick={() => attempt(wallet.signIn)}
            >
              Sign in
            </button>
          )}
          <button type="button" className="button button-small button-ghost" onClick={wallet.disconnect}>
            Disconnect
          </button>
        </div>
      ) : (
        <button type="button" className="button button-primary button-small" onClick={open}>
          Connect wallet
        </button>
      )}
      {wallet.address && wallet.expectedChainId !== null && wallet.chainId !== wallet.expectedChainId && (
        <p className="wallet-warning" role="alert">
          Your wallet is on chain {wallet.chainId}; Rights Ledger uses chain {wallet.expectedChainId}.
          <button type="button" className="button button-small" onClick={() => attempt(wallet.switchChain)}>
            Switch
          </button>
        </p>
      )}
      {error && !dialog.current?.open && (
        <p className="wallet-error" role="alert">
          {error}
        </p>
      )}

      <dialog ref={dialog} className="dialog" aria-labelledby={titleId}>
        <form method="dialog" className="dialog-close-form">
          <button className="icon-button dialog-close" aria-label="Close">
            ×
          </button>
        </form>
        <h2 id={titleId}>Connect a wallet</h2>
        <div className="dialog-section">
          <h3>Browser wallet</h3>
          {wallet.hasInjected ? (
            <button
              type="button"
              className="button button-primary"
              disabled={wallet.busy}
              onClick={() => attempt(wallet.connectInjected)}
            >
              Use browser wallet
            </button>
          ) : (
            <p className="muted">No browser wallet detected in this browser.</p>
          )}
        </div>
        {wallet.dev && (
          <div className="dialog-section">
            <h3>Development account</h3>
            <p className="muted">
              Test accounts of the local chain (id {wallet.dev.chainId}); they sign without prompts.
            </p>
            <div className="inline-form">
              <label htmlFor={selectId}>Account</label>
              <select id={selectId} value={devIndex} onChange={(e) => setDevIndex(Number(e.target.value))}>
                {wallet.dev.accounts.map((account) => (
                  <option key={account.address} value={account.index}>
                    #{account.index} {shortHex(account.address)}
                    {account.role ? ` — ${account.role}` : ""}
                  </option>
                ))}
              </select>
              <button
                type="button"
                className="button"
                onClick={() => attempt(() => wallet.connectDev(devIndex))}
              >
                Use this account
              </button>
            </div>
          </div>
        )}
        {error && (
          <p className="alert alert-error" role="alert">
            {error}
          </p>
        )}
      </dialog>
    </div>
  );
}
