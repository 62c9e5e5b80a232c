import { useEffect, useState } from "react";
import type {
  CardEarnings,
  CryptoEarnings,
  Earnings,
  SettlementState,
  SharedSplit,
  SplitEarnings,
  TokenBalance,
} from "../../../lib/api/earnings.ts";
import { describeError } from "../api.ts";
import { Empty, ErrorNote, Loading, Mono, Untrusted, useAsync, usePageTitle } from "../components.tsx";
import { distribute, getDailyEarnings, getEarnings, ledgerCsv, withdraw } from "../earnings.ts";
import { formatUnits, shortHex } from "../format.ts";
import { Link } from "../router.tsx";
import { useWallet, type Wallet } from "../wallet.tsx";
import { SalesChart } from "./sales-chart.tsx";

const NATIVE = "0x0000000000000000000000000000000000000000";
/** How often the page reads its figures again while open: card money moves on by itself (settlements). */
const REFRESH_MS = 5_000;

/** A currency's name for people: card currencies by ISO code, the chain's by what they are. */
function currencyName(currency: string, settlementToken: string): string {
  if (currency === NATIVE) return "ETH";
  if (currency.toLowerCase() === settlementToken.toLowerCase()) return "stablecoin";
  if (/^0x[0-9a-fA-F]{40}$/.test(currency)) return `token ${shortHex(currency)}`;
  return currency.toUpperCase();
}

const amountOf = (amount: string, decimals: number | null, name: string) =>
  `${formatUnits(amount, decimals)} ${name}`;

/** The signed-in wallet's earnings: sales per day, each offer's figures, its splits' balances with Withdraw and Distribute. */
export function EarningsPage() {
  usePageTitle("Earnings");
  const wallet = useWallet();
  const [error, setError] = useState<string | null>(null);

  if (!wallet.address) {
    return (
      <>
        <h1>Earnings</h1>
        <Empty title="Connect a wallet to see your earnings">
          <p>Earnings are those of your offers and of the revenue splits you are a recipient of.</p>
        </Empty>
      </>
    );
  }
  if (!wallet.session) {
    return (
      <>
        <h1>Earnings</h1>
        <Empty title="Sign in to see your earnings">
          <p>Your earnings are yours alone: sign a message with your wallet to prove it is you.</p>
          <button
            type="button"
            className="button button-primary"
            disabled={wallet.busy}
            onClick={() => wallet.signIn().catch((err: unknown) => setError(describeError(err)))}
          >
            Sign in to see earnings
          </button>
          {error && (
            <p className="alert alert-error" role="alert">
              {error}
            </p>
          )}
        </Empty>
      </>
    );
  }
  return <EarningsView wallet={wallet} />;
}

function EarningsView({ wallet }: { wallet: Wallet }) {
  const [version, setVersion] = useState(0);
  const earnings = useAsync((signal) => getEarnings(signal), [wallet.session, version]);
  const daily = useAsync((signal) => getDailyEarnings(signal), [wallet.session, version]);
  const [busy, setBusy] = useState<string | null>(null);
  const [message, setMessage] = useState<{ tone: "success" | "error"; text: string } | null>(null);
  const [csv, setCsv] = useState<string | null>(null);

  useEffect(() => {
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") setVersion((v) => v + 1);
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, []);
  useEffect(() => () => void (csv && URL.revokeObjectURL(csv)), [csv]);

  /** Sends one payout from the connected wallet, then reads the figures again. */
  const send = async (label: string, action: () => Promise<string>) => {
    setBusy(label);
    setMessage(null);
    try {
      const hash = await action();
      setMessage({ tone: "success", text: `${label}: transaction ${hash.slice(0, 10)}… is mined.` });
      setVersion((v) => v + 1);
    } catch (err) {
      setMessage({ tone: "error", text: describeError(err) });
    } finally {
      setBusy(null);
    }
  };

  const prepareCsv = async () => {
    setMessage(null);
    try {
      setCsv(URL.createObjectURL(await ledgerCsv()));
    } catch (err) {
      setMessage({ tone: "error", text: describeError(err) });
    }
  };

  if (earnings.loading && !earnings.data) return <Loading label="Loading your earnings" />;
  if (!earnings.data) return <ErrorNote error={earnings.error} retry={() => setVersion((v) => v + 1)} />;
  const e = earnings.data;
  const token = e.settlementToken.address;
  const nothing = e.works.length === 0 && e.splits.length === 0 && e.sharedSplits.length === 0;

  return (
    <>
      <div className="page-title">
        <h1>Earnings</h1>
        {csv ? (
          <a className="button button-small" href={csv} download="ledger.csv">
            Download ledger.csv
          </a>
        ) : (
          <button type="button" className="button button-small" onClick={prepareCsv}>
            Export the ledger (CSV)
          </button>
        )}
      </div>
      <p className="lead">
        Card sales are paid into your splits in a stablecoin once they can no longer be refunded; sales on
        chain reach them at once. Recipients withdraw their share whenever they like.
      </p>
      <div aria-live="polite" className="live">
        {busy && <p className="status-line">{busy}…</p>}
        {message && (
          <p className={`alert alert-${message.tone}`} role={message.tone === "error" ? "alert" : undefined}>
            {message.text}
          </p>
        )}
      </div>
      {nothing ? (
        <Empty title="No earnings yet">
          <p>
            Publish an offer on one of your works from <Link href="/">Explore</Link>; what it earns shows
            here.
          </p>
        </Empty>
      ) : (
        <>
          {e.works.length > 0 && (
            <>
              <section className="card" aria-labelledby="sales-heading">
                <h2 id="sales-heading">Sales per day</h2>
                {daily.data ? (
                  <SalesChart days={daily.data.days} />
                ) : daily.error ? (
                  <ErrorNote error={daily.error} />
                ) : (
                  <Loading label="Loading sales" />
                )}
              </section>
              <Offers earnings={e} />
            </>
          )}
          {e.splits.map((split) => (
            <SplitCard
              key={split.split}
              split={split}
              wallet={wallet}
              token={token}
              busy={busy !== null}
              send={send}
            />
          ))}
          {e.sharedSplits.map((split) => (
            <SharedSplitCard
              key={split.split}
              split={split}
              wallet={wallet}
              token={token}
              busy={busy !== null}
              send={send}
            />
          ))}
        </>
      )}
    </>
  );
}

function Figures({ items }: { items: [string, string][] }) {
  return (
    <dl className="earnings-figures">
      {items.map(([term, value]) => (
        <div key={term}>
          <dt>{term}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

function stateFigures(s: SettlementState): [string, string][] {
  const name = s.currency.toUpperCase();
  return [
    ["Pending", amountOf(s.pending, s.decimals, name)],
    ["In settlement", amountOf(s.inSettlement, s.decimals, name)],
    ["Settled", amountOf(s.settled, s.decimals, name)],
  ];
}

function CardFigures({ card }: { card: CardEarnings }) {
  const name = card.currency.toUpperCase();
  const money = (amount: string) => amountOf(amount, card.decimals, name);
  return (
    <div aria-label={`By card, ${name}`} role="group">
      <h4>By card ({name})</h4>
      <Figures
        items={[
          ["Sales", String(card.sales)],
          ["Gross", money(card.gross)],
          ["Provider fees", money(card.providerFees)],
          ["Platform fees", money(card.platformFees)],
          ["Referrer commissions", money(card.referrerCommissions)],
          ["Net to split", money(card.netToSplit)],
          ["Refunded", money(card.refunded)],
          ["Charged back", money(card.chargedBack)],
          ...stateFigures(card),
        ]}
      />
    </div>
  );
}

function CryptoFigures({ crypto, token }: { crypto: CryptoEarnings; token: string }) {
  const name = currencyName(crypto.currency, token);
  const money = (amount: string) => amountOf(amount, crypto.decimals, name);
  return (
    <div aria-label={`On chain, ${name}`} role="group">
      <h4>On chain ({name})</h4>
      <Figures
        items={[
          ["Sales", String(crypto.sales)],
          ["Gross", money(crypto.gross)],
          ["Platform fees", money(crypto.platformFees)],
          ["Referrer commissions", money(crypto.referrerCommissions)],
          ["Paid to split", money(crypto.netToSplit)],
        ]}
      />
    </div>
  );
}

function Offers({ earnings }: { earnings: Earnings }) {
  return (
    <section className="earnings-section" aria-labelledby="offers-earnings-heading">
      <h2 id="offers-earnings-heading">Your offers</h2>
      {earnings.works.map((work) => (
        <div key={work.workId} className="earnings-section">
          <h3>
            <Link href={`/works/${work.workId}`}>
              {work.title === null ? `Work #${work.workId}` : <Untrusted text={work.title} />}
            </Link>
          </h3>
          <ul className="offer-list">
            {work.offers.map((offer) => (
              <li key={offer.offerId}>
                <article className="offer" aria-label={`Earnings of offer #${offer.offerId}`}>
                  <Link href={`/offers/${offer.offerId}`} className="work-id">
                    Offer #{offer.offerId}
                  </Link>
                  {offer.card.length === 0 && offer.crypto.length === 0 && (
                    <p className="muted">No sales yet.</p>
                  )}
                  {offer.card.map((card) => (
                    <CardFigures key={card.currency} card={card} />
                  ))}
                  {offer.crypto.map((crypto) => (
                    <CryptoFigures
                      key={crypto.currency}
                      crypto={crypto}
                      token={earnings.settlementToken.address}
                    />
                  ))}
                </article>
              </li>
            ))}
          </ul>
        </div>
      ))}
    </section>
  );
}

type Send = (label: string, action: () => Promise<string>) => Promise<void>;

/** A balance with its Withdraw button when it is the connected wallet's and not zero. */
function Balance({
  balance,
  account,
  split,
  wallet,
  token,
  busy,
  send,
}: {
  balance: TokenBalance;
  account: string;
  split: string;
  wallet: Wallet;
  token: string;
  busy: boolean;
  send: Send;
}) {
  const name = currencyName(balance.currency, token);
  const text = amountOf(balance.amount, balance.decimals, name);
  const mine = account.toLowerCase() === wallet.address?.toLowerCase();
  return (
    <li>
      {text}{" "}
      {mine && balance.amount !== "0" && (
        <button
          type="button"
          className="button button-small"
          disabled={busy}
          aria-label={`Withdraw ${text}`}
          onClick={() =>
            void send(`Withdrawing ${text}`, () => withdraw(wallet, split, balance.currency, account))
          }
        >
          Withdraw
        </button>
      )}
    </li>
  );
}

function SplitCard({
  split,
  wallet,
  token,
  busy,
  send,
}: {
  split: SplitEarnings;
  wallet: Wallet;
  token: string;
  busy: boolean;
  send: Send;
}) {
  // What the recipients can withdraw together, per currency: Distribute pays them all at once.
  const owed = split.received.map((r) => ({
    ...r,
    amount: split.recipients
      .reduce((sum, recipient) => {
        const balance = recipient.withdrawable.find((b) => b.currency === r.currency);
        return sum + BigInt(balance?.amount ?? "0");
      }, 0n)
      .toString(),
  }));
  return (
    <section className="card earnings-section" aria-label={`Split ${split.split}`}>
      <h2>
        Revenue split <Mono value={split.split} label="split address" short />
      </h2>
      {split.card.map((state) => (
        <div
          key={state.currency}
          role="group"
          aria-label={`Card revenue of the split, ${state.currency.toUpperCase()}`}
        >
          <h4>Card revenue ({state.currency.toUpperCase()})</h4>
          <Figures items={stateFigures(state)} />
        </div>
      ))}
      <table className="table responsive-table">
        <caption className="visually-hidden">Recipients of split {split.split}</caption>
        <thead>
          <tr>
            <th scope="col">Recipient</th>
            <th scope="col">Share</th>
            <th scope="col">Withdrawable now</th>
          </tr>
        </thead>
        <tbody>
          {split.recipients.map((recipient) => (
            <tr key={recipient.account}>
              <td data-label="Recipient">
                <code>{recipient.account}</code>
                {recipient.account.toLowerCase() === wallet.address?.toLowerCase() && (
                  <span className="badge badge-info">you</span>
                )}
              </td>
              <td data-label="Share">{recipient.shareBps / 100}%</td>
              <td data-label="Withdrawable now">
                <ul className="plain-list">
                  {recipient.withdrawable.map((balance) => (
                    <Balance
                      key={balance.currency}
                      balance={balance}
                      account={recipient.account}
                      split={split.split}
                      wallet={wallet}
                      token={token}
                      busy={busy}
                      send={send}
                    />
                  ))}
                </ul>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="offer-actions">
        {owed
          .filter((o) => o.amount !== "0")
          .map((o) => {
            const name = currencyName(o.currency, token);
            return (
              <button
                key={o.currency}
                type="button"
                className="button"
                disabled={busy}
                aria-label={`Distribute ${name} to every recipient`}
                onClick={() =>
                  void send(`Distributing ${amountOf(o.amount, o.decimals, name)}`, () =>
                    distribute(wallet, split.split, o.currency),
                  )
                }
              >
                Distribute {amountOf(o.amount, o.decimals, name)}
              </button>
            );
          })}
      </div>
    </section>
  );
}

function SharedSplitCard({
  split,
  wallet,
  token,
  busy,
  send,
}: {
  split: SharedSplit;
  wallet: Wallet;
  token: string;
  busy: boolean;
  send: Send;
}) {
  return (
    <section className="card earnings-section" aria-label={`Split ${split.split}`}>
      <h2>
        Your share of split <Mono value={split.split} label="split address" short />
      </h2>
      <p className="muted">
        You receive {split.shareBps / 100}% of what this split is paid, from offers of other creators.
      </p>
      {split.card.map((state) => (
        <div
          key={state.currency}
          role="group"
          aria-label={`Card revenue of the split, ${state.currency.toUpperCase()}`}
        >
          <h4>Card revenue of the whole split ({state.currency.toUpperCase()})</h4>
          <Figures items={stateFigures(state)} />
        </div>
      ))}
      <h4>Withdrawable now</h4>
      <ul className="plain-list">
        {split.withdrawable.map((balance) => (
          <Balance
            key={balance.currency}
            balance={balance}
            account={wallet.address!}
            split={split.split}
            wallet={wallet}
            token={token}
            busy={busy}
            send={send}
          />
        ))}
      </ul>
    </section>
  );
}
