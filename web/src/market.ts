/** The trading floor's API calls: inventory, market, listing, selling, buying, disputes, arbitration, notifications. */
import { formatUnits as unitsOf, Interface, parseUnits } from "ethers";
import type { Dispute, DisputeQueue, Evidence, DisputeReason, Decision } from "../../lib/api/disputes.ts";
import type { Holdings, ItemHistory } from "../../lib/api/items.ts";
import type { ListingPage, MarketPage, MarketSettings, MarketSort } from "../../lib/api/market.ts";
import type { Notifications } from "../../lib/api/notifications.ts";
import type { Trade } from "../../lib/api/trades.ts";
import type { TransactionRequest, TransactionRequests } from "../../lib/api/transactions.ts";
import { api, ApiError, query, raw } from "./api.ts";
import { ensureSession, type Wallet } from "./wallet.tsx";

/** How long a page waits for the chain's mirror to show what a transaction just did. */
const MIRROR_WAIT_MS = 60_000;

let settings: Promise<MarketSettings> | null = null;

/** The commission in force, the windows and the currencies (read once per page load). */
export function getMarketSettings(): Promise<MarketSettings> {
  settings ??= api<MarketSettings>("/v1/market/settings").catch((err: unknown) => {
    settings = null;
    throw err;
  });
  return settings;
}

/** The settings read now, with the chain's time now. */
export function readMarketSettings(signal?: AbortSignal): Promise<MarketSettings> {
  return api<MarketSettings>("/v1/market/settings", { signal });
}

/** "1.5 ETH", "25.00 tUSD", or the raw amount of a token the app does not know. */
export function formatAmount(amount: string, currency: string, market: MarketSettings | null): string {
  const known = market?.currencies.find((c) => c.address.toLowerCase() === currency.toLowerCase());
  if (!known) return `${amount} (token ${currency.slice(0, 8)}…)`;
  const [whole, fraction = ""] = unitsOf(BigInt(amount), known.decimals).split(".");
  const digits = fraction.replace(/0+$/, "").slice(0, 6);
  return `${Number(whole).toLocaleString("en-US")}${digits ? `.${digits}` : ""} ${known.symbol}`;
}

/** A decimal the player typed, in the currency's smallest unit; null when it is not a positive amount. */
export function parseAmount(text: string, decimals: number): bigint | null {
  if (!/^\d+(\.\d+)?$/.test(text.trim())) return null;
  try {
    const value = parseUnits(text.trim(), decimals);
    return value > 0n ? value : null;
  } catch {
    return null;
  }
}

export interface MarketFilters {
  q?: string;
  itemId?: string;
  seller?: string;
  currency?: string;
  minPrice?: string;
  maxPrice?: string;
  sort?: MarketSort;
}

export function searchMarket(
  filters: MarketFilters,
  cursor: string | null,
  signal?: AbortSignal,
): Promise<MarketPage> {
  return api<MarketPage>(`/v1/market/listings${query({ ...filters, cursor, limit: 24 })}`, { signal });
}

export function getListing(id: string, signal?: AbortSignal): Promise<ListingPage> {
  return api<ListingPage>(`/v1/market/listings/${id}`, { signal });
}

export function getHoldings(owner: string, signal?: AbortSignal): Promise<Holdings> {
  return api<Holdings>(`/v1/items${query({ owner })}`, { signal });
}

export function getItemHistory(
  itemId: string,
  cursor: string | null,
  signal?: AbortSignal,
): Promise<ItemHistory> {
  return api<ItemHistory>(`/v1/items/${itemId}/history${query({ cursor, limit: 50 })}`, { signal });
}

export async function openListings(seller: string, signal?: AbortSignal): Promise<Trade[]> {
  return (
    await api<{ items: Trade[] }>(`/v1/trades${query({ seller, state: "listed", limit: 100 })}`, { signal })
  ).items;
}

/** A trade's server-sent events: `trade` (the trade with its history) and `dispute` (its activity). */
export function tradeEvents(id: string): EventSource {
  return new EventSource(`/v1/trades/${id}/events`);
}

const escrowEvents = new Interface([
  "event Listed(uint256 indexed listingId, address indexed seller, address indexed token, uint256 id, uint256 amount, uint256 price, address currency, uint64 deadline, uint16 commissionBps)",
]);

/** Sends prepared transactions in order, telling `onProgress` which one waits for the wallet; answers the hashes. */
async function sendEach(
  wallet: Wallet,
  transactions: TransactionRequest[],
  onProgress: (step: string) => void,
): Promise<string[]> {
  const hashes: string[] = [];
  for (const [i, tx] of transactions.entries()) {
    onProgress(`${tx.description} (${i + 1} of ${transactions.length})`);
    hashes.push(await wallet.sendTransaction(tx));
  }
  return hashes;
}

export interface SellInput {
  itemId: string;
  amount: string;
  price: string;
  currency: string;
  deadline: string;
}

/** The transactions listing takes from the connected wallet: the escrow's approval only when it is missing. */
export async function prepareSale(wallet: Wallet, input: SellInput): Promise<TransactionRequest[]> {
  return (await api<TransactionRequests>("/v1/trades", { json: { seller: wallet.address, ...input } }))
    .transactions;
}

/** Signs and sends a prepared sale; answers the new listing's id, read from the escrow's Listed event. */
export async function sell(
  wallet: Wallet,
  transactions: TransactionRequest[],
  onProgress: (step: string) => void,
): Promise<string> {
  const hashes = await sendEach(wallet, transactions, onProgress);
  const listed = (await wallet.transactionLogs(hashes.at(-1)!))
    .map((log) => escrowEvents.parseLog(log))
    .find((parsed) => parsed?.name === "Listed");
  if (!listed) throw new Error("the listing transaction emitted no Listed event");
  const listingId = listed.args.listingId.toString() as string;
  onProgress("Waiting for the market to show it");
  await indexedListing(listingId);
  return listingId;
}

/** Resolves once the market shows a listing the chain has: its mirror follows the chain a moment later. */
async function indexedListing(listingId: string): Promise<void> {
  const deadline = Date.now() + MIRROR_WAIT_MS;
  for (;;) {
    try {
      await getListing(listingId);
      return;
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404) || Date.now() > deadline) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Pays a listing from the connected wallet: the token's approval first when it pays in one and lacks it. */
export async function buy(
  wallet: Wallet,
  listingId: string,
  onProgress: (step: string) => void,
): Promise<void> {
  const { transactions } = await api<TransactionRequests>(`/v1/trades/${listingId}/buy`, {
    json: { buyer: wallet.address },
  });
  await sendEach(wallet, transactions, onProgress);
}

export function getDispute(listingId: string, signal?: AbortSignal): Promise<Dispute> {
  return api<Dispute>(`/v1/trades/${listingId}/dispute`, { signal });
}

/**
 * Adds evidence from the signed-in party: a statement (with the buyer's reason when it opens the
 * dispute) and files, each hashed and kept by the platform.
 */
export async function addEvidence(
  wallet: Wallet,
  listingId: string,
  evidence: { reason?: DisputeReason; statement: string; files: File[] },
  onProgress: (step: string) => void,
): Promise<Evidence[]> {
  await ensureSession(wallet);
  const added: Evidence[] = [];
  let reason = evidence.reason;
  if (evidence.statement.trim()) {
    onProgress("Recording your statement");
    added.push(
      await api<Evidence>(`/v1/trades/${listingId}/dispute/statements`, {
        json: { text: evidence.statement, ...(reason ? { reason } : {}) },
      }),
    );
    reason = undefined;
  }
  for (const file of evidence.files) {
    onProgress(`Uploading ${file.name}`);
    const form = new FormData();
    if (reason) form.set("reason", reason);
    form.set("file", file, file.name);
    added.push(await api<Evidence>(`/v1/trades/${listingId}/dispute/files`, { form }));
    reason = undefined;
  }
  return added;
}

/** Opens a dispute: the buyer's reason and evidence recorded first, then the escrow's `dispute` signed. */
export async function openDispute(
  wallet: Wallet,
  listingId: string,
  evidence: { reason: DisputeReason; statement: string; files: File[] },
  onProgress: (step: string) => void,
): Promise<void> {
  await addEvidence(wallet, listingId, evidence, onProgress);
  const { transactions } = await api<TransactionRequests>(`/v1/trades/${listingId}/dispute`, {
    json: { buyer: wallet.address },
  });
  await sendEach(wallet, transactions, onProgress);
}

/** An evidence file as a Blob (the download needs the session). */
export async function evidenceFile(listingId: string, evidenceId: string): Promise<Blob> {
  return (await raw(`/v1/trades/${listingId}/dispute/files/${evidenceId}`)).blob();
}

export function getDisputeQueue(
  status: "open" | "lapsed" | "resolved",
  cursor: string | null,
  signal?: AbortSignal,
): Promise<DisputeQueue> {
  return api<DisputeQueue>(`/v1/admin/disputes${query({ status, cursor, limit: 50 })}`, { signal });
}

/** Records an arbiter's decision with its reason; answers it and the transaction its signer must send. */
export function decide(
  listingId: string,
  decision:
    | { outcome: "refund_buyer" | "complete_sale"; reason: string }
    | { outcome: "reassign"; arbiter: string; reason: string },
): Promise<{ transactions: TransactionRequest[]; decision: Decision }> {
  return decision.outcome === "reassign"
    ? api(`/v1/admin/trades/${listingId}/arbiter`, {
        json: { arbiter: decision.arbiter, reason: decision.reason },
      })
    : api(`/v1/admin/trades/${listingId}/resolve`, {
        json: { refundBuyer: decision.outcome === "refund_buyer", reason: decision.reason },
      });
}

/** Sends a decision's transactions from the connected wallet, which must be their signer. */
export async function signDecision(
  wallet: Wallet,
  transactions: TransactionRequest[],
  onProgress: (step: string) => void,
): Promise<void> {
  await sendEach(wallet, transactions, onProgress);
}

export function getNotifications(signal?: AbortSignal): Promise<Notifications> {
  return api<Notifications>("/v1/notifications", { signal });
}

export function markNotificationsSeen(): Promise<{ unread: 0 }> {
  return api<{ unread: 0 }>("/v1/notifications/seen", { method: "POST" });
}
