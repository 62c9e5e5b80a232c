/** Offers, card checkout, on-chain purchases, renewals and trades: the API calls behind the buying pages. */
import { api, query, type License, type Page, type Finality } from "./api.ts";
import { ensureSession, type TxRequest, type Wallet } from "./wallet.tsx";

export interface Offer {
  offerId: string;
  workId: string;
  creator: string;
  currency: string;
  price: string;
  duration: string;
  maxSupply: number;
  sold: number;
  transferable: boolean;
  commercialUse: boolean;
  active: boolean;
  referrerBps: number;
  royaltyBps: number;
  split: string;
  territory: string;
  fiatPrice: { amount: number; currency: string } | null;
  finality?: Finality;
}

export type OrderStatus =
  "created" | "paid" | "minting" | "fulfilled" | "failed" | "expired" | "refunded" | "disputed";

export interface Order {
  id: string;
  offerId: string;
  wallet: string;
  amount: number;
  currency: string;
  status: OrderStatus;
  failureReason: string | null;
  tokenId: string | null;
  checkoutUrl?: string | null;
}

export interface Trade {
  listingId: string;
  seller: string;
  buyer: string | null;
  state: "listed" | "paid" | "disputed" | "completed" | "cancelled" | "expired" | "refunded";
  token: string;
  itemId: string;
  amount: string;
  price: string;
  currency: string;
  deadline: string;
  confirmBy: string | null;
}

export const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";

export async function listOffers(workId: string, signal?: AbortSignal): Promise<Offer[]> {
  const page = await api<Page<Offer>>(`/v1/offers${query({ workId })}`, { signal });
  return page.items;
}

/** Starts a card checkout; answers the order and the payment page to open. */
export async function startCheckout(wallet: Wallet, offer: Offer): Promise<{ orderId: string; url: string }> {
  if (!wallet.address) throw new Error("Connect the wallet that should hold the license");
  return api<{ orderId: string; url: string }>("/v1/checkout", {
    json: { offerId: offer.offerId, wallet: wallet.address },
  });
}

export function getOrder(id: string, signal?: AbortSignal): Promise<Order> {
  return api<Order>(`/v1/orders/${id}`, { signal });
}

/** Buys a license with the connected wallet: the API prepares the transaction, the wallet sends it. */
export async function buyWithWallet(wallet: Wallet, offer: Offer): Promise<string> {
  if (!wallet.address) throw new Error("Connect a wallet first");
  const tx = await api<TxRequest>(`/v1/offers/${offer.offerId}/buy-tx`, { json: { holder: wallet.address } });
  return wallet.sendTransaction(tx);
}

/** Renews a license for another term of its offer, paid from the connected wallet. */
export async function renewLicense(wallet: Wallet, license: License): Promise<string> {
  if (!wallet.address) throw new Error("Connect a wallet first");
  const tx = await api<TxRequest>(`/v1/licenses/${license.tokenId}/renew-tx`, { json: {} });
  return wallet.sendTransaction(tx);
}

export async function listTrades(
  role: "seller" | "buyer",
  address: string,
  signal?: AbortSignal,
): Promise<Trade[]> {
  const page = await api<Page<Trade>>(`/v1/trades${query({ [role]: address, limit: 100 })}`, { signal });
  return page.items;
}

export type TradeAction = "cancel" | "reclaim" | "confirm" | "dispute" | "settle";

/** Sends one escrow action on a listing from the connected wallet. */
export async function tradeAction(wallet: Wallet, trade: Trade, action: TradeAction): Promise<string> {
  await ensureSession(wallet);
  const tx = await api<TxRequest>(`/v1/trades/${trade.listingId}/${action}`, { method: "POST" });
  return wallet.sendTransaction(tx);
}

export interface OfferTerms {
  priceWei: string;
  durationSeconds: number;
  maxSupply: number;
  transferable: boolean;
  commercialUse: boolean;
  referrerBps: number;
  royaltyBps: number;
  territory: string;
  fiatPrice: { amount: number; currency: string } | null;
}

interface SplitPlan {
  split: string;
  deployed: boolean;
  tx: TxRequest;
}

interface OfferPublication {
  id: string;
  status: "pending" | "submitted" | "published" | "failed";
  offerId: string | null;
  error: string | null;
}

/**
 * Publishes an offer: creates the revenue split (from the wallet) unless it exists, has the creator
 * sign the CreateOffer message, and waits for the relayer to publish it.
 */
export async function publishOffer(
  wallet: Wallet,
  workId: string,
  terms: OfferTerms,
  split: { recipients: string[]; sharesBps: number[] },
  onProgress: (step: string) => void,
): Promise<OfferPublication> {
  if (!wallet.address) throw new Error("Connect the creator's wallet first");
  await ensureSession(wallet);
  onProgress("Preparing the revenue split");
  const plan = await api<SplitPlan>("/v1/splits", { json: split });
  if (!plan.deployed) {
    onProgress("Creating the revenue split — confirm in your wallet");
    await wallet.sendTransaction(plan.tx);
  }
  onProgress("Sign the offer");
  const body = {
    currency: ZERO_ADDRESS,
    price: terms.priceWei,
    duration: String(terms.durationSeconds),
    maxSupply: terms.maxSupply,
    transferable: terms.transferable,
    commercialUse: terms.commercialUse,
    referrerBps: terms.referrerBps,
    royaltyBps: terms.royaltyBps,
    split: plan.split,
    territory: terms.territory,
  };
  const prepared = await api<{ typedData: import("./api.ts").TypedDataPayload }>(
    `/v1/works/${workId}/offers/prepare`,
    { json: body },
  );
  const signature = await wallet.signTypedData(prepared.typedData);
  onProgress("Publishing");
  let publication = await api<OfferPublication>(`/v1/works/${workId}/offers`, {
    json: { ...prepared.typedData.message, signature, fiatPrice: terms.fiatPrice ?? undefined },
  });
  while (publication.status === "pending" || publication.status === "submitted") {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    publication = await api<OfferPublication>(`/v1/offers/publications/${publication.id}`);
  }
  if (publication.status === "failed")
    throw new Error(publication.error ?? "the offer could not be published");
  return publication;
}
