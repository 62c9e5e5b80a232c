/**
 * Earnings on the wire: what a creator's offers earned by card (the payout ledger) and on chain, where
 * the card money stands (pending, in a settlement, settled), and what each split recipient can
 * withdraw now. Every amount is an integer in its currency's smallest unit, as a decimal string.
 */
import { z } from "zod";

const amount = z
  .string()
  .describe("an integer in the currency's smallest unit (may be negative where noted)");
const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date as YYYY-MM-DD")
  .refine(
    (v) =>
      !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) && new Date(`${v}T00:00:00Z`).toISOString().startsWith(v),
    "must be a real date",
  );

/** Where the card money owed to a payee stands. Negative while refunds after a settlement are carried forward. */
export const settlementStateSchema = z
  .object({
    currency: z.string().describe("ISO 4217, lower case"),
    decimals: z.number().describe("digits of the currency's minor unit"),
    pending: amount.describe("owed, in no settlement yet (negative: carried forward, never paid as a debt)"),
    inSettlement: amount.describe("in a settlement prepared or sent on chain"),
    settled: amount.describe("paid on chain in the settlement token"),
  })
  .meta({ id: "SettlementState" });

export const cardEarningsSchema = settlementStateSchema
  .extend({
    sales: z.number().describe("card sales captured"),
    gross: amount.describe("what buyers paid"),
    providerFees: amount.describe("what the payment provider kept, chargeback fees included"),
    platformFees: amount.describe("the platform's fee, net of the provider's fee of each sale"),
    referrerCommissions: amount.describe("paid to approved referrers"),
    netToSplit: amount.describe("credited to the offer's split"),
    refunded: amount,
    chargedBack: amount.describe("lost to chargebacks not won back"),
  })
  .describe("by card, from the payout ledger; pending, inSettlement and settled are the split's part of it")
  .meta({ id: "CardEarnings" });

export const cryptoEarningsSchema = z
  .object({
    currency: z.string().describe("token address; 0x000…0 for the native currency"),
    decimals: z.number().nullable().describe("the token's decimals; null when it does not say"),
    sales: z.number().describe("purchases and renewals paid on chain"),
    gross: amount,
    platformFees: amount,
    referrerCommissions: amount,
    netToSplit: amount.describe("paid into the offer's split"),
  })
  .meta({ id: "CryptoEarnings" });

export const tokenBalanceSchema = z
  .object({
    currency: z.string().describe("token address; 0x000…0 for the native currency"),
    decimals: z.number().nullable(),
    amount: amount,
  })
  .meta({ id: "TokenBalance" });

export const splitRecipientSchema = z
  .object({
    account: z.string(),
    shareBps: z.number(),
    withdrawable: z
      .array(tokenBalanceSchema)
      .describe("what release(token, account) pays now, per currency, read from the chain"),
  })
  .meta({ id: "SplitRecipient" });

export const splitEarningsSchema = z
  .object({
    split: z.string(),
    recipients: z.array(splitRecipientSchema),
    received: z
      .array(tokenBalanceSchema)
      .describe("everything the split contract ever received, per currency"),
    card: z.array(settlementStateSchema).describe("the split's card money, over every offer paying it"),
  })
  .meta({ id: "SplitEarnings" });

export const offerEarningsSchema = z
  .object({
    offerId: z.string(),
    split: z.string(),
    card: z.array(cardEarningsSchema),
    crypto: z.array(cryptoEarningsSchema),
  })
  .meta({ id: "OfferEarnings" });

export const workEarningsSchema = z
  .object({
    workId: z.string(),
    title: z.string().nullable(),
    offers: z.array(offerEarningsSchema),
  })
  .meta({ id: "WorkEarnings" });

/** A split the wallet is a recipient of through someone else's offers: its own share only. */
export const sharedSplitSchema = z
  .object({
    split: z.string(),
    shareBps: z.number(),
    withdrawable: z.array(tokenBalanceSchema),
    received: z.array(tokenBalanceSchema),
    card: z.array(settlementStateSchema),
  })
  .meta({ id: "SharedSplit" });

export const earningsSchema = z
  .object({
    wallet: z.string(),
    works: z.array(workEarningsSchema).describe("the wallet's works with offers, and what each offer earned"),
    splits: z.array(splitEarningsSchema).describe("the splits of the wallet's offers, every recipient"),
    sharedSplits: z
      .array(sharedSplitSchema)
      .describe("splits the wallet is a recipient of through others' offers"),
    settlementToken: z
      .object({ address: z.string(), decimals: z.number() })
      .describe("the stablecoin card revenue is settled in"),
  })
  .meta({ id: "Earnings" });

const MAX_DAYS = 366;

export const dailyQuery = z
  .object({
    from: day.optional().describe("first day (UTC), 29 days before `to` by default"),
    to: day.optional().describe("last day (UTC), today by default"),
  })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { message: "`from` must not be after `to`" })
  .refine((q) => !q.from || !q.to || Date.parse(q.to) - Date.parse(q.from) < MAX_DAYS * 86_400_000, {
    message: `at most ${MAX_DAYS} days at once`,
  });

export const dailySalesSchema = z
  .object({
    currency: z.string(),
    decimals: z.number().nullable(),
    sales: z.number(),
    gross: amount,
  })
  .meta({ id: "DailySales" });

export const earningsDaySchema = z
  .object({
    date: z.string().describe("YYYY-MM-DD, UTC"),
    card: z.array(dailySalesSchema),
    crypto: z.array(dailySalesSchema),
  })
  .meta({ id: "EarningsDay" });

export const dailyEarningsSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    days: z.array(earningsDaySchema).describe("every day of the range, oldest first, empty ones included"),
  })
  .meta({ id: "DailyEarnings" });

export type SettlementState = z.infer<typeof settlementStateSchema>;
export type CardEarnings = z.infer<typeof cardEarningsSchema>;
export type CryptoEarnings = z.infer<typeof cryptoEarningsSchema>;
export type TokenBalance = z.infer<typeof tokenBalanceSchema>;
export type SplitRecipient = z.infer<typeof splitRecipientSchema>;
export type SplitEarnings = z.infer<typeof splitEarningsSchema>;
export type OfferEarnings = z.infer<typeof offerEarningsSchema>;
export type WorkEarnings = z.infer<typeof workEarningsSchema>;
export type SharedSplit = z.infer<typeof sharedSplitSchema>;
export type Earnings = z.infer<typeof earningsSchema>;
export type DailyQuery = z.output<typeof dailyQuery>;
export type DailySales = z.infer<typeof dailySalesSchema>;
export type EarningsDay = z.infer<typeof earningsDaySchema>;
export type DailyEarnings = z.infer<typeof dailyEarningsSchema>;
