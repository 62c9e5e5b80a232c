import { useId, useState, type FormEvent } from "react";
import { ErrorNote, usePageTitle } from "../components.tsx";
import { lookupOrder } from "../orders.ts";
import { navigate } from "../router.tsx";

/** Finds a card order again without a wallet: the email given at checkout and the order secret. */
export function FindOrderPage() {
  usePageTitle("Find your order");
  const id = useId();
  const [email, setEmail] = useState("");
  const [secret, setSecret] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const order = await lookupOrder(email.trim(), secret.trim());
      navigate(`/orders/${order.orderId}?secret=${encodeURIComponent(order.orderSecret)}`);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return (
    <>
      <h1>Find your order</h1>
      <section className="card" aria-labelledby={`${id}-heading`}>
        <h2 id={`${id}-heading`}>Bought by card?</h2>
        <p className="muted">
          Give the email address you paid with and the order secret shown after checkout (it is also in your
          order's address, after <code>secret=</code>).
        </p>
        <form className="form-grid" onSubmit={submit} aria-label="Find an order">
          <div className="field">
            <label htmlFor={`${id}-email`}>Email</label>
            <input
              id={`${id}-email`}
              type="email"
              autoComplete="email"
              value={email}
              onChange={(e) => setEmail(e.target.value)}
              required
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-secret`}>Order secret</label>
            <input
              id={`${id}-secret`}
              autoComplete="off"
              spellCheck={false}
              value={secret}
              onChange={(e) => setSecret(e.target.value)}
              maxLength={64}
              required
            />
          </div>
          <div className="field-wide offer-actions">
            <button type="submit" className="button button-primary" disabled={busy}>
              {busy ? "Looking…" : "Find the order"}
            </button>
          </div>
        </form>
        <div aria-live="polite">{error !== null && <ErrorNote error={error} />}</div>
      </section>
    </>
  );
}
