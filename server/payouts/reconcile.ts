import type { Queryable } from "../../lib/transaction.ts";
import { minorUnits } from "./units.ts";

/** One payee's money, in the currency's minor units. */
export interface PayeeReconciliation {
  payee: string;
  /** What card sales owe the payee in all, after refunds and chargebacks. */
  owed: number;
  /** Paid by settlements the chain's mirror shows. */
  onChain: number;
  /** In settlements not on chain yet (prepared, sent, or paid but not indexed yet). */
  inFlight: number;
  /** Owed and in no settlement yet (negative: refunds after settlement, carried forward). */
  pending: number;
  /** owed − (onChain + inFlight + pending): zero when the ledger and the chain agree. */
  difference: number;
}

export interface Reconciliation {
  currency: string;
  payees: number;
  totals: Omit<PayeeReconciliation, "payee">;
  /** Payees whose difference is not zero. */
  mismatches: PayeeReconciliation[];
  /** Settlement payments on chain whose amount is not a whole number of minor units. */
  fractional: number;
  /** Settlement payees paid other than what the bookings the settlement covers owed them. */
  coverMismatches: number;
  /** Settlements recorded as paid that the chain's mirror still lacks after `UNCONFIRMED_AFTER_SECONDS`. */
  unconfirmed: number;
  /** The sum of every line of the ledger (zero for a double-entry ledger), and how many lines there are. */
  ledgerSum: number;
  lines: number;
}

/** A settlement paid this long ago and not in the chain's mirror was dropped by a reorg or never mined. */
const UNCONFIRMED_AFTER_SECONDS = 600;

const ZERO = { owed: 0, onChain: 0, inFlight: 0, pending: 0, difference: 0 };

/**
 * Proves the payout ledger against the chain, to the minor unit, per payee: what card sales owe
 * each payee equals what settlements paid it on chain (as indexed) plus what is in settlements on
 * their way plus what is still pending. A settlement the chain shows that the ledger does not
 * have, or one paying other amounts, shows as a difference; a settlement paying a payee other than
 * what the bookings it covers owed, or one recorded as paid that the chain never showed, is counted.
 */
export async function reconcile(
  db: Queryable,
  token: { currency: string; decimals: number },
): Promise<Reconciliation> {
  const { currency, decimals } = token;
  const { rows } = await db.query<{
    payee: string;
    owed: string;
    booked: string;
    in_flight: string;
    on_chain: string[];
  }>(
    `WITH owed AS (
       SELECT substr(l.account, 7) AS payee, -sum(l.amount) AS owed
         FROM ledger_lines l JOIN ledger_transactions t ON t.id = l.transaction_id
        WHERE l.account LIKE 'payee:%' AND t.currency = $1
          AND t.kind IN ('sale', 'refund', 'chargeback', 'chargeback_won')
        GROUP BY 1
     ), booked AS (
       SELECT sp.payee, sum(sp.amount) AS booked,
              sum(sp.amount) FILTER (WHERE p.settlement_id IS NULL) AS in_flight
         FROM settlement_payees sp
         JOIN settlements s ON s.id = sp.settlement_id
         LEFT JOIN settlement_payments p
           ON p.settlement_id = '0x' || lpad(replace(s.id::text, '-', ''), 64, '0') AND p.payee = sp.payee
        WHERE s.status <> 'cancelled' AND s.currency = $1
        GROUP BY 1
     ), chain AS (
       SELECT payee, array_agg(amount::text) AS amounts FROM settlement_payments GROUP BY 1
     )
     SELECT payee, coalesce(o.owed, 0)::text AS owed, coalesce(b.booked, 0)::text AS booked,
            coalesce(b.in_flight, 0)::text AS in_flight, coalesce(c.amounts, '{}') AS on_chain
       FROM owed o FULL JOIN booked b USING (payee) FULL JOIN chain c USING (payee)
      ORDER BY payee`,
    [currency],
  );
  let fractional = 0;
  const payees = rows.map((r): PayeeReconciliation => {
    let onChain = 0;
    for (const units of r.on_chain) {
      const minor = minorUnits(BigInt(units), currency, decimals);
      if (minor === null) fractional += 1;
      else onChain += minor;
    }
    const owed = Number(r.owed);
    const inFlight = Number(r.in_flight);
    const pending = owed - Number(r.booked);
    return {
      payee: r.payee,
      owed,
      onChain,
      inFlight,
      pending,
      difference: owed - (onChain + inFlight + pending),
    };
  });
  const totals = payees.reduce(
    (t, p) => ({
      owed: t.owed + p.owed,
      onChain: t.onChain + p.onChain,
      inFlight: t.inFlight + p.inFlight,
      pending: t.pending + p.pending,
      difference: t.difference + Math.abs(p.difference),
    }),
    ZERO,
  );
  const ledger = await db.query<{ total: string; lines: string }>(
    `SELECT coalesce(sum(amount), 0)::text AS total, count(*)::text AS lines FROM ledger_lines`,
  );
  const settlements = await db.query<{ cover_mismatches: number; unconfirmed: number }>(
    `SELECT
       (SELECT count(*)::int FROM settlement_payees sp JOIN settlements s ON s.id = sp.settlement_id
         WHERE s.status <> 'cancelled' AND s.currency = $1
           AND sp.amount IS DISTINCT FROM (
             SELECT -sum(l.amount) FROM settlement_covers c
               JOIN ledger_lines l ON l.transaction_id = c.transaction_id AND l.account = 'payee:' || c.payee
              WHERE c.settlement_id = sp.settlement_id AND c.payee = sp.payee)) AS cover_mismatches,
       (SELECT count(*)::int FROM settlements s
         WHERE s.status = 'paid' AND s.currency = $1 AND s.updated_at < now() - make_interval(secs => $2)
           AND NOT EXISTS (
             SELECT 1 FROM settlements_paid p WHERE p.settlement_id = '0x' || lpad(replace(s.id::text, '-', ''), 64, '0')
           )) AS unconfirmed`,
    [currency, UNCONFIRMED_AFTER_SECONDS],
  );
  return {
    currency,
    payees: payees.length,
    totals,
    mismatches: payees.filter((p) => p.difference !== 0),
    fractional,
    coverMismatches: settlements.rows[0]!.cover_mismatches,
    unconfirmed: settlements.rows[0]!.unconfirmed,
    ledgerSum: Number(ledger.rows[0]!.total),
    lines: Number(ledger.rows[0]!.lines),
  };
}

/** Whether the ledger balances and agrees with the chain to the minor unit. */
export const reconciled = (r: Reconciliation): boolean =>
  r.mismatches.length === 0 &&
  r.fractional === 0 &&
  r.coverMismatches === 0 &&
  r.unconfirmed === 0 &&
  r.ledgerSum === 0;
