import type { Pool } from "pg";
import { checksum } from "../../lib/address.ts";
import type {
  DailyEarnings,
  DailyQuery,
  DailySales,
  Earnings,
  OfferEarnings,
  SettlementState,
  SharedSplit,
  SplitEarnings,
  TokenBalance,
  WorkEarnings,
} from "../../lib/api/earnings.ts";
import {
  cardEarnings,
  creatorOffers,
  cryptoEarnings,
  dailySales,
  ledgerLines,
  payeeStates,
  splitCurrencies,
  splitsWithRecipient,
  splitTerms,
  type LedgerCsvRow,
  type SettlementStateRow,
} from "./earnings-store.ts";
import type { SplitBalances, SplitReadings } from "./split-balances.ts";
import { minorDigits } from "./units.ts";

const NATIVE = "0x0000000000000000000000000000000000000000";
const DAY_MS = 86_400_000;
/** Days `GET /v1/earnings/daily` covers when not told. */
const DEFAULT_DAYS = 30;

export interface EarningsDeps {
  db: Pool;
  balances: SplitBalances;
  /** The stablecoin card revenue is settled in (lower case). */
  settlementToken: string;
  /** The chain's time: card bookings are dated by it. */
  clock: { nowSeconds(): Promise<number> };
}

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function settlementState(row: SettlementStateRow): SettlementState {
  return {
    currency: row.currency,
    decimals: minorDigits(row.currency),
    pending: row.pending,
    inSettlement: row.inSettlement,
    settled: row.settled,
  };
}

/** A split's tokens in a fixed order: the native currency, the settlement token, then the others. */
function orderTokens(settlementToken: string, others: string[]): string[] {
  return [...new Set([NATIVE, settlementToken, ...[...others].sort()])];
}

/**
 * Earnings of a wallet: what its offers earned by card (the payout ledger) and on chain, where the
 * card money of their splits stands, and what every recipient of those splits can withdraw now;
 * for splits it shares in through others' offers, its own share only. Nothing of another creator's
 * offers is read except what a shared split received as a whole.
 */
export class EarningsService {
  constructor(private readonly deps: EarningsDeps) {}

  async earnings(wallet: string): Promise<Earnings> {
    const { db, balances, settlementToken } = this.deps;
    const offers = await creatorOffers(db, wallet);
    const offerIds = offers.map((o) => o.offerId);
    const ownSplits = [...new Set(offers.map((o) => o.split))];
    const recipientOf = await splitsWithRecipient(db, wallet);
    const shared = recipientOf.filter((s) => !ownSplits.includes(s.split));
    const allSplits = [...ownSplits, ...shared.map((s) => s.split)];
    // An offer may name anyone's split: where its card money stands is shown to the split's recipients only.
    const inSplits = new Set(recipientOf.map((s) => s.split));
    const readable = allSplits.filter((split) => inSplits.has(split));
    const [card, crypto, terms, currencies, states] = await Promise.all([
      cardEarnings(db, offerIds),
      cryptoEarnings(db, offerIds),
      splitTerms(db, ownSplits),
      splitCurrencies(db, allSplits),
      payeeStates(db, readable),
    ]);
    const tokensOf = (split: string) => orderTokens(settlementToken, currencies.get(split) ?? []);
    const [readings, decimals] = await Promise.all([
      balances.read([
        ...terms.map((t) => ({ split: t.split, tokens: tokensOf(t.split), accounts: t.recipients })),
        ...shared.map((s) => ({ split: s.split, tokens: tokensOf(s.split), accounts: [wallet] })),
      ]),
      balances.decimals([...new Set(allSplits.flatMap(tokensOf))]),
    ]);
    const balance = (currency: string, amount: bigint): TokenBalance => ({
      currency: checksum(currency)!,
      decimals: decimals.get(currency) ?? null,
      amount: amount.toString(),
    });
    const received = (split: string, r: SplitReadings) =>
      tokensOf(split).map((t) => balance(t, r.received.get(`${split}|${t}`) ?? 0n));
    const withdrawable = (split: string, account: string, r: SplitReadings) =>
      tokensOf(split).map((t) => balance(t, r.releasable.get(`${split}|${t}|${account}`) ?? 0n));
    const cardOf = (split: string) => states.filter((s) => s.payee === split).map(settlementState);

    const works: WorkEarnings[] = [];
    for (const offer of offers) {
      let work = works.at(-1);
      if (work?.workId !== offer.workId) {
        work = { workId: offer.workId, title: offer.title, offers: [] };
        works.push(work);
      }
      const earned: OfferEarnings = {
        offerId: offer.offerId,
        split: checksum(offer.split)!,
        card: card
          .filter((c) => c.offerId === offer.offerId)
          .map(({ offerId: _offerId, ...c }) => ({ ...c, decimals: minorDigits(c.currency) })),
        crypto: crypto
          .filter((c) => c.offerId === offer.offerId)
          .map(({ offerId: _offerId, ...c }) => ({
            ...c,
            currency: checksum(c.currency)!,
            decimals: decimals.get(c.currency) ?? null,
          })),
      };
      work.offers.push(earned);
    }
    const splits: SplitEarnings[] = terms.map((t) => ({
      split: checksum(t.split)!,
      recipients: t.recipients.map((account, i) => ({
        account: checksum(account)!,
        shareBps: t.sharesBps[i]!,
        withdrawable: withdrawable(t.split, account, readings),
      })),
      received: received(t.split, readings),
      card: cardOf(t.split),
    }));
    const sharedSplits: SharedSplit[] = shared.map((s) => ({
      split: checksum(s.split)!,
      shareBps: s.sharesBps[s.recipients.indexOf(wallet)]!,
      withdrawable: withdrawable(s.split, wallet, readings),
      received: received(s.split, readings),
      card: cardOf(s.split),
    }));
    const settlementDecimals = (await balances.decimals([settlementToken])).get(settlementToken) ?? 0;
    return {
      wallet: checksum(wallet)!,
      works,
      splits,
      sharedSplits,
      settlementToken: { address: checksum(settlementToken)!, decimals: settlementDecimals },
    };
  }

  /** Sales of the wallet's offers per UTC day, card and on chain, every day of the range listed. */
  async daily(wallet: string, query: DailyQuery): Promise<DailyEarnings> {
    const today = isoDay((await this.deps.clock.nowSeconds()) * 1000);
    const to =
      query.to ?? (query.from ? isoDay(Date.parse(query.from) + (DEFAULT_DAYS - 1) * DAY_MS) : today);
    const from = query.from ?? isoDay(Date.parse(to) - (DEFAULT_DAYS - 1) * DAY_MS);
    const rows = await dailySales(this.deps.db, wallet, from, to);
    const tokens = [...new Set(rows.filter((r) => r.channel === "crypto").map((r) => r.currency))];
    const decimals = await this.deps.balances.decimals(tokens);
    const days: DailyEarnings["days"] = [];
    for (let ms = Date.parse(from); ms <= Date.parse(to); ms += DAY_MS) {
      const date = isoDay(ms);
      const of = (channel: "card" | "crypto"): DailySales[] =>
        rows
          .filter((r) => r.date === date && r.channel === channel)
          .map((r) => ({
            currency: channel === "card" ? r.currency : checksum(r.currency)!,
            decimals: channel === "card" ? minorDigits(r.currency) : (decimals.get(r.currency) ?? null),
            sales: r.sales,
            gross: r.gross,
          }));
      days.push({ date, card: of("card"), crypto: of("crypto") });
    }
    return { from, to, days };
  }

  /** Every ledger line the wallet may read: its offers' bookings, its own payee account, its splits' settlements. */
  ledger(wallet: string): Promise<LedgerCsvRow[]> {
    return ledgerLines(this.deps.db, wallet);
  }
}
