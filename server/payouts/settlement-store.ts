/** The SQL of settlements: what payees are due, and a settlement's life from prepared to paid or cancelled. */
import type { Queryable } from "../../lib/transaction.ts";
import { book } from "./ledger-store.ts";
import { reversed, settlementPostings, type Line } from "./postings.ts";

export type SettlementStatus = "prepared" | "sent" | "paid" | "cancelled";

export interface Settlement {
  id: string;
  currency: string;
  token: string;
  status: SettlementStatus;
  txHash: string | null;
}

export interface SettlementPayee {
  payee: string;
  amount: number;
  tokenAmount: bigint;
}

/** A payee owed money by bookings old enough to settle, with those bookings. */
export interface DueBalance {
  payee: string;
  owed: number;
  transactionIds: string[];
  paymentRefs: string[];
}

const OPEN: SettlementStatus[] = ["prepared", "sent"];

interface SettlementRow {
  id: string;
  currency: string;
  token: string;
  status: SettlementStatus;
  tx_hash: string | null;
}

const toSettlement = (r: SettlementRow): Settlement => ({
  id: r.id,
  currency: r.currency,
  token: r.token,
  status: r.status,
  txHash: r.tx_hash,
});

/** Settlements prepared or sent but not finished, oldest first. */
export async function openSettlements(db: Queryable): Promise<Settlement[]> {
  const { rows } = await db.query<SettlementRow>(
    `SELECT id, currency, token, status, tx_hash FROM settlements WHERE status = ANY($1) ORDER BY created_at, id`,
    [OPEN],
  );
  return rows.map(toSettlement);
}

/**
 * Payees whose bookings in `currency` not settled yet add up to money owed to them, the `limit`
 * lowest addresses first. Money owed (a sale, a won chargeback) counts once it is older than
 * `cutoff`; money taken back (a refund, a chargeback) counts at once, so a sale refunded within the
 * holdback is never paid. A payee whose refunds outweigh its sales is left out: its balance is
 * carried forward, never paid as a debt. Addresses in `excluded` (those the settlement contract
 * refuses to pay: the treasury, the contract itself) are never due; their balances stay pending.
 */
export async function dueBalances(
  db: Queryable,
  currency: string,
  cutoff: Date,
  limit: number,
  excluded: readonly string[] = [],
): Promise<DueBalance[]> {
  const { rows } = await db.query<{ payee: string; owed: string; ids: string[]; refs: (string | null)[] }>(
    `WITH eligible AS (
       SELECT t.id, substr(l.account, 7) AS payee, l.amount, t.payment_ref
         FROM ledger_lines l JOIN ledger_transactions t ON t.id = l.transaction_id
        WHERE l.account LIKE 'payee:%'
          AND t.kind IN ('sale', 'refund', 'chargeback', 'chargeback_won')
          AND t.currency = $1 AND (t.booked_at <= $2 OR t.kind IN ('refund', 'chargeback'))
          AND NOT (substr(l.account, 7) = ANY($4::text[]))
          AND NOT EXISTS (
            SELECT 1 FROM settlement_covers c WHERE c.transaction_id = t.id AND c.payee = substr(l.account, 7)
          )
     )
     SELECT payee, (-sum(amount))::text AS owed, array_agg(id::text ORDER BY id) AS ids,
            array_agg(DISTINCT payment_ref) AS refs
       FROM eligible GROUP BY payee HAVING -sum(amount) > 0
      ORDER BY payee LIMIT $3`,
    [currency, cutoff, limit, excluded.map((a) => a.toLowerCase())],
  );
  return rows.map((r) => ({
    payee: r.payee,
    owed: Number(r.owed),
    transactionIds: r.ids,
    paymentRefs: r.refs.filter((ref): ref is string => ref !== null),
  }));
}

/**
 * Records a settlement of `due` (in the caller's transaction): its payees, the bookings it covers,
 * and its booking, which takes what it pays off the payees' balances.
 */
export async function insertSettlement(
  db: Queryable,
  settlement: { id: string; currency: string; token: string; cutoff: Date; bookedAt: Date },
  due: readonly DueBalance[],
  tokenAmountOf: (minor: number) => bigint,
): Promise<void> {
  await db.query(
    `INSERT INTO settlements (id, currency, token, cutoff, status) VALUES ($1, $2, $3, $4, 'prepared')`,
    [settlement.id, settlement.currency, settlement.token, settlement.cutoff],
  );
  await db.query(
    `INSERT INTO settlement_payees (settlement_id, payee, amount, token_amount)
     SELECT $1, payee, amount, token_amount FROM unnest($2::text[], $3::bigint[], $4::numeric[]) AS p(payee, amount, token_amount)`,
    [
      settlement.id,
      due.map((d) => d.payee),
      due.map((d) => d.owed),
      due.map((d) => tokenAmountOf(d.owed).toString()),
    ],
  );
  await db.query(
    `INSERT INTO settlement_covers (transaction_id, payee, settlement_id)
     SELECT id, payee, $1 FROM unnest($2::bigint[], $3::text[]) AS c(id, payee)`,
    [
      settlement.id,
      due.flatMap((d) => d.transactionIds),
      due.flatMap((d) => d.transactionIds.map(() => d.payee)),
    ],
  );
  await book(db, {
    key: `settlement:${settlement.id}`,
    kind: "settlement",
    currency: settlement.currency,
    settlementId: settlement.id,
    bookedAt: settlement.bookedAt,
    lines: settlementPostings(due.map((d) => ({ payee: d.payee, amount: d.owed }))),
  });
}

/** What a settlement pays, payees in ascending address order as the contract requires, and the payments it covers. */
export async function settlementPayload(
  db: Queryable,
  id: string,
): Promise<{ payees: SettlementPayee[]; paymentRefs: string[] }> {
  const payees = await db.query<{ payee: string; amount: string; token_amount: string }>(
    `SELECT payee, amount::text, token_amount::text FROM settlement_payees WHERE settlement_id = $1 ORDER BY payee COLLATE "C"`,
    [id],
  );
  const refs = await db.query<{ payment_ref: string }>(
    `SELECT DISTINCT t.payment_ref FROM settlement_covers c JOIN ledger_transactions t ON t.id = c.transaction_id
      WHERE c.settlement_id = $1 AND t.payment_ref IS NOT NULL ORDER BY t.payment_ref`,
    [id],
  );
  return {
    payees: payees.rows.map((r) => ({
      payee: r.payee,
      amount: Number(r.amount),
      tokenAmount: BigInt(r.token_amount),
    })),
    paymentRefs: refs.rows.map((r) => r.payment_ref),
  };
}

/** Moves a settlement on; answers false when it was not in `from` (another process moved it first). */
export async function markSettlement(
  db: Queryable,
  id: string,
  from: SettlementStatus[],
  to: SettlementStatus,
  set: { txHash?: string | null; error?: string } = {},
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE settlements SET status = $3, tx_hash = coalesce($4, tx_hash), error = coalesce($5, error), updated_at = now()
      WHERE id = $1 AND status = ANY($2)`,
    [id, from, to, set.txHash ?? null, set.error ?? null],
  );
  return rowCount === 1;
}

/**
 * Cancels a settlement the chain refused for good (in the caller's transaction): its booking is
 * reversed and the bookings it covered are free to be settled again.
 */
export async function cancelSettlement(
  db: Queryable,
  id: string,
  error: string,
  bookedAt: Date,
): Promise<boolean> {
  if (!(await markSettlement(db, id, OPEN, "cancelled", { error }))) return false;
  const { rows } = await db.query<{ account: string; amount: string; currency: string }>(
    `SELECT l.account, l.amount::text, t.currency FROM ledger_transactions t JOIN ledger_lines l ON l.transaction_id = t.id
      WHERE t.key = $1 ORDER BY l.line`,
    [`settlement:${id}`],
  );
  const lines: Line[] = rows.map((r) => ({ account: r.account, amount: Number(r.amount) }));
  await book(db, {
    key: `settlement_cancelled:${id}`,
    kind: "settlement_cancelled",
    currency: rows[0]!.currency,
    settlementId: id,
    bookedAt,
    lines: reversed(lines),
  });
  await db.query(`DELETE FROM settlement_covers WHERE settlement_id = $1`, [id]);
  return true;
}
