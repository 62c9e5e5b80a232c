/**
 * The SQL of earnings: a creator's offers, what they earned by card (the payout ledger) and on chain
 * (the indexer's revenue payments), where the card money owed to a split stands, sales per day, and
 * the ledger lines a creator may export. Amounts come back as decimal strings.
 */
import type { Queryable } from "../../lib/transaction.ts";

/** The ledger's bookings of card payments (settlements are bookings of their own). */
const PAYMENT_KINDS = `('sale', 'refund', 'chargeback', 'chargeback_won')`;

export interface CreatorOffer {
  offerId: string;
  workId: string;
  title: string | null;
  split: string;
  currency: string;
}

/** The offers `creator` published, with their works' titles, by work then offer. */
export async function creatorOffers(db: Queryable, creator: string): Promise<CreatorOffer[]> {
  const { rows } = await db.query<{
    offer_id: string;
    work_id: string;
    title: string | null;
    split: string;
    currency: string;
  }>(
    `SELECT o.offer_id::text, o.work_id::text, m.title, o.split, o.currency
       FROM offers o
       LEFT JOIN works w ON w.work_id = o.work_id
       LEFT JOIN work_metadata m ON m.metadata_uri = w.metadata_uri
      WHERE o.creator = $1
      ORDER BY o.work_id, o.offer_id`,
    [creator],
  );
  return rows.map((r) => ({
    offerId: r.offer_id,
    workId: r.work_id,
    title: r.title,
    split: r.split,
    currency: r.currency,
  }));
}

/** Card money owed to a payee by state: not settled yet, in an open settlement, paid. */
export interface SettlementStateRow {
  currency: string;
  pending: string;
  inSettlement: string;
  settled: string;
}

export interface CardEarningsRow extends SettlementStateRow {
  offerId: string;
  sales: number;
  gross: string;
  providerFees: string;
  platformFees: string;
  referrerCommissions: string;
  netToSplit: string;
  refunded: string;
  chargedBack: string;
}

/**
 * Each offer's card earnings per currency, from its bookings' lines: a sale's provider lines add up
 * to what the buyer paid, its platform credit is the platform fee plus the provider's fee, and the
 * payee lines are the split's and the referrer's credits. The split's lines are sorted by where
 * their booking stands in the settlements.
 */
export async function cardEarnings(db: Queryable, offerIds: string[]): Promise<CardEarningsRow[]> {
  const { rows } = await db.query<{
    offer_id: string;
    currency: string;
    sales: number;
    gross: string;
    provider_fees: string;
    sale_provider_fees: string;
    platform_credit: string;
    commissions: string;
    net_to_split: string;
    refunded: string;
    charged_back: string;
    won_back: string;
    pending: string;
    in_settlement: string;
    settled: string;
  }>(
    `WITH lines AS (
       SELECT t.id, t.kind, t.currency, t.offer_id, l.account, l.amount,
              l.account = 'payee:' || o.split AS to_split, s.status AS settlement
         FROM ledger_transactions t
         JOIN ledger_lines l ON l.transaction_id = t.id
         JOIN offers o ON o.offer_id = t.offer_id
         LEFT JOIN settlement_covers c ON c.transaction_id = t.id AND 'payee:' || c.payee = l.account
         LEFT JOIN settlements s ON s.id = c.settlement_id
        WHERE t.offer_id = ANY($1::numeric[]) AND t.kind IN ${PAYMENT_KINDS}
     )
     SELECT offer_id::text, currency,
            count(DISTINCT id) FILTER (WHERE kind = 'sale')::int AS sales,
            coalesce(sum(amount) FILTER (WHERE kind = 'sale' AND account LIKE 'provider:%'), 0)::text AS gross,
            coalesce(sum(amount) FILTER (WHERE account = 'provider:fees'), 0)::text AS provider_fees,
            coalesce(sum(amount) FILTER (WHERE kind = 'sale' AND account = 'provider:fees'), 0)::text AS sale_provider_fees,
            coalesce(-sum(amount) FILTER (WHERE kind = 'sale' AND account = 'platform:revenue'), 0)::text AS platform_credit,
            coalesce(-sum(amount) FILTER (WHERE kind = 'sale' AND account LIKE 'payee:%' AND NOT to_split), 0)::text AS commissions,
            coalesce(-sum(amount) FILTER (WHERE kind = 'sale' AND to_split), 0)::text AS net_to_split,
            coalesce(-sum(amount) FILTER (WHERE kind = 'refund' AND account = 'provider:balance'), 0)::text AS refunded,
            coalesce(-sum(amount) FILTER (WHERE kind = 'chargeback' AND account LIKE 'provider:%'), 0)::text AS charged_back,
            coalesce(sum(amount) FILTER (WHERE kind = 'chargeback_won' AND account = 'provider:balance'), 0)::text AS won_back,
            coalesce(-sum(amount) FILTER (WHERE to_split AND settlement IS NULL), 0)::text AS pending,
            coalesce(-sum(amount) FILTER (WHERE to_split AND settlement IN ('prepared', 'sent')), 0)::text AS in_settlement,
            coalesce(-sum(amount) FILTER (WHERE to_split AND settlement = 'paid'), 0)::text AS settled
       FROM lines
      GROUP BY offer_id, currency
      ORDER BY offer_id, currency`,
    [offerIds],
  );
  return rows.map((r) => ({
    offerId: r.offer_id,
    currency: r.currency,
    sales: r.sales,
    gross: r.gross,
    providerFees: r.provider_fees,
    platformFees: (BigInt(r.platform_credit) - BigInt(r.sale_provider_fees)).toString(),
    referrerCommissions: r.commissions,
    netToSplit: r.net_to_split,
    refunded: r.refunded,
    chargedBack: (BigInt(r.charged_back) - BigInt(r.won_back)).toString(),
    pending: r.pending,
    inSettlement: r.in_settlement,
    settled: r.settled,
  }));
}

/** The card money owed to each of `payees` (splits) over all their bookings, per currency and state. */
export async function payeeStates(
  db: Queryable,
  payees: string[],
): Promise<(SettlementStateRow & { payee: string })[]> {
  const { rows } = await db.query<{
    payee: string;
    currency: string;
    pending: string;
    in_settlement: string;
    settled: string;
  }>(
    `SELECT substr(l.account, 7) AS payee, t.currency,
            coalesce(-sum(l.amount) FILTER (WHERE s.status IS NULL), 0)::text AS pending,
            coalesce(-sum(l.amount) FILTER (WHERE s.status IN ('prepared', 'sent')), 0)::text AS in_settlement,
            coalesce(-sum(l.amount) FILTER (WHERE s.status = 'paid'), 0)::text AS settled
       FROM ledger_lines l
       JOIN ledger_transactions t ON t.id = l.transaction_id
       LEFT JOIN settlement_covers c ON c.transaction_id = t.id AND c.payee = substr(l.account, 7)
       LEFT JOIN settlements s ON s.id = c.settlement_id
      WHERE l.account = ANY(SELECT 'payee:' || p FROM unnest($1::text[]) AS p) AND t.kind IN ${PAYMENT_KINDS}
      GROUP BY 1, 2
      ORDER BY 1, 2`,
    [payees],
  );
  return rows.map((r) => ({
    payee: r.payee,
    currency: r.currency,
    pending: r.pending,
    inSettlement: r.in_settlement,
    settled: r.settled,
  }));
}

export interface CryptoEarningsRow {
  offerId: string;
  currency: string;
  sales: number;
  gross: string;
  platformFees: string;
  referrerCommissions: string;
  netToSplit: string;
}

/** Each offer's purchases and renewals paid on chain, per currency, from the indexer's revenue payments. */
export async function cryptoEarnings(db: Queryable, offerIds: string[]): Promise<CryptoEarningsRow[]> {
  const { rows } = await db.query<{
    offer_id: string;
    currency: string;
    sales: number;
    gross: string;
    platform_fees: string;
    commissions: string;
  }>(
    `SELECT l.offer_id::text, r.currency, count(*)::int AS sales, sum(r.amount)::text AS gross,
            sum(r.platform_fee)::text AS platform_fees, sum(r.referrer_commission)::text AS commissions
       FROM revenue_payments r JOIN licenses l ON l.token_id = r.token_id
      WHERE l.offer_id = ANY($1::numeric[])
      GROUP BY 1, 2
      ORDER BY 1, 2`,
    [offerIds],
  );
  return rows.map((r) => ({
    offerId: r.offer_id,
    currency: r.currency,
    sales: r.sales,
    gross: r.gross,
    platformFees: r.platform_fees,
    referrerCommissions: r.commissions,
    netToSplit: (BigInt(r.gross) - BigInt(r.platform_fees) - BigInt(r.commissions)).toString(),
  }));
}

export interface SplitTerms {
  split: string;
  recipients: string[];
  sharesBps: number[];
}

/** The indexed splits among `splits`, with their recipients and shares. */
export async function splitTerms(db: Queryable, splits: string[]): Promise<SplitTerms[]> {
  const { rows } = await db.query<{ split: string; recipients: string[]; shares_bps: number[] }>(
    `SELECT split, recipients, shares_bps FROM splits WHERE split = ANY($1::text[]) ORDER BY split`,
    [splits],
  );
  return rows.map((r) => ({ split: r.split, recipients: r.recipients, sharesBps: r.shares_bps }));
}

/** The splits `account` is a recipient of. */
export async function splitsWithRecipient(db: Queryable, account: string): Promise<SplitTerms[]> {
  const { rows } = await db.query<{ split: string; recipients: string[]; shares_bps: number[] }>(
    `SELECT split, recipients, shares_bps FROM splits WHERE recipients @> ARRAY[$1::text] ORDER BY split`,
    [account],
  );
  return rows.map((r) => ({ split: r.split, recipients: r.recipients, sharesBps: r.shares_bps }));
}

/** The ERC-20 currencies of offers paying each of `splits` and of the revenue they received. */
export async function splitCurrencies(db: Queryable, splits: string[]): Promise<Map<string, string[]>> {
  const { rows } = await db.query<{ split: string; currencies: string[] }>(
    `SELECT split, array_agg(DISTINCT currency ORDER BY currency) AS currencies FROM (
       SELECT split, currency FROM offers WHERE split = ANY($1::text[])
       UNION SELECT split, currency FROM revenue_payments WHERE split = ANY($1::text[])
     ) c GROUP BY split`,
    [splits],
  );
  return new Map(rows.map((r) => [r.split, r.currencies]));
}

export interface DailyRow {
  date: string;
  channel: "card" | "crypto";
  currency: string;
  sales: number;
  gross: string;
}

/**
 * Sales of `creator`'s offers per UTC day from `from` to `to` (inclusive): card sales by their
 * booking's time (the chain's clock), on-chain payments by their block's time.
 */
export async function dailySales(
  db: Queryable,
  creator: string,
  from: string,
  to: string,
): Promise<DailyRow[]> {
  const { rows } = await db.query<DailyRow>(
    `WITH mine AS (SELECT offer_id FROM offers WHERE creator = $1)
     SELECT to_char(t.booked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS date, 'card' AS channel, t.currency,
            count(DISTINCT t.id)::int AS sales, sum(l.amount)::text AS gross
       FROM ledger_transactions t JOIN ledger_lines l ON l.transaction_id = t.id AND l.account LIKE 'provider:%'
      WHERE t.kind = 'sale' AND t.offer_id IN (SELECT offer_id FROM mine)
        AND (t.booked_at AT TIME ZONE 'UTC')::date BETWEEN $2::date AND $3::date
      GROUP BY 1, 3
     UNION ALL
     SELECT to_char(e.block_time AT TIME ZONE 'UTC', 'YYYY-MM-DD'), 'crypto', r.currency,
            count(*)::int, sum(r.amount)::text
       FROM revenue_payments r
       JOIN licenses lic ON lic.token_id = r.token_id
       JOIN event_blocks e ON e.block_number = r.block_number AND e.log_index = r.log_index
      WHERE lic.offer_id IN (SELECT offer_id FROM mine)
        AND (e.block_time AT TIME ZONE 'UTC')::date BETWEEN $2::date AND $3::date
      GROUP BY 1, 3
      ORDER BY 1, 2, 3`,
    [creator, from, to],
  );
  return rows;
}

export interface LedgerCsvRow {
  transactionId: string;
  bookedAt: Date;
  kind: string;
  currency: string;
  offerId: string | null;
  workId: string | null;
  workTitle: string | null;
  orderId: string | null;
  paymentRef: string | null;
  settlementId: string | null;
  account: string;
  amount: string;
}

/**
 * Every ledger line `creator` may read: all lines of the bookings of their offers, the lines of their
 * own payee account (as a referrer), and the settlement lines of their offers' splits they are a
 * recipient of — never the
 * lines of another creator's booking on a split they share, nor another payee's settlement line.
 */
export async function ledgerLines(db: Queryable, creator: string): Promise<LedgerCsvRow[]> {
  const { rows } = await db.query<{
    transaction_id: string;
    booked_at: Date;
    kind: string;
    currency: string;
    offer_id: string | null;
    work_id: string | null;
    title: string | null;
    order_id: string | null;
    payment_ref: string | null;
    settlement_id: string | null;
    account: string;
    amount: string;
  }>(
    `WITH mine AS (SELECT offer_id, split FROM offers WHERE creator = $1),
     -- Only splits the creator is a recipient of: an offer may name anyone's split.
     own_splits AS (SELECT m.split FROM mine m JOIN splits s ON s.split = m.split WHERE $1 = ANY(s.recipients))
     SELECT t.id::text AS transaction_id, t.booked_at, t.kind, t.currency, t.offer_id::text, o.work_id::text,
            m.title, t.order_id::text, t.payment_ref, t.settlement_id::text, l.account, l.amount::text
       FROM ledger_transactions t
       JOIN ledger_lines l ON l.transaction_id = t.id
       LEFT JOIN offers o ON o.offer_id = t.offer_id
       LEFT JOIN works w ON w.work_id = o.work_id
       LEFT JOIN work_metadata m ON m.metadata_uri = w.metadata_uri
      WHERE t.offer_id IN (SELECT offer_id FROM mine)
         OR l.account = 'payee:' || $1
         OR (t.kind IN ('settlement', 'settlement_cancelled')
             AND l.account IN (SELECT 'payee:' || split FROM own_splits))
      ORDER BY t.id, l.line`,
    [creator],
  );
  return rows.map((r) => ({
    transactionId: r.transaction_id,
    bookedAt: r.booked_at,
    kind: r.kind,
    currency: r.currency,
    offerId: r.offer_id,
    workId: r.work_id,
    workTitle: r.title,
    orderId: r.order_id,
    paymentRef: r.payment_ref,
    settlementId: r.settlement_id,
    account: r.account,
    amount: r.amount,
  }));
}
