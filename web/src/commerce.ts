/** Offers, card checkout, on-chain purchases, renewals and trades: the API calls behind the buying pages. */
import { Interface, ZeroAddress } from "ethers";
import { CREATE_OFFER_TYPES, DOMAIN_VERSION, LICENSE_DOMAIN_NAME } from "../../lib/eip712.ts";
import type { Page } from "../../lib/api/primitives.ts";
import type { License } from "../../lib/api/licenses.ts";
import type { Chain } from "../../lib/api/chain.ts";
import type { FiatPrice, Offer, OfferPublication, PublishOfferBody } from "../../lib/api/offers.ts";
import type { CheckoutBody, CheckoutOrder, Order } from "../../lib/api/orders.ts";
import type {
  CreateSplitBody,
  PreparedSplit,
  PrepareSplitRequest,
  SplitRequest,
} from "../../lib/api/splits.ts";
import type { Trade } from "../../lib/api/trades.ts";
import type { TransactionRequests } from "../../lib/api/transactions.ts";
import { api, query } from "./api.ts";
import type { TxRequest, Wallet } from "./wallet.tsx";

export const NATIVE_CURRENCY = "0x0000000000000000000000000000000000000000";

let chain: Promise<Chain> | null = null;

/** The platform's contract addresses (read once). */
function getChain(): Promise<Chain> {
  chain ??= api<Chain>("/v1/chain").catch((err: unknown) => {
    chain = null;
    throw err;
  });
  return chain;
}

const licenseToken = new Interface([
  "function purchase(uint256 offerId, address recipient, address referrer) payable returns (uint256)",
  "function renew(uint256 tokenId) payable returns (uint64)",
]);

/** Sends prepared transactions in order from the connected wallet; answers the last hash. */
async function sendAll(wallet: Wallet, transactions: TxRequest[]): Promise<string> {
  let hash = "";
  for (const tx of transactions) hash = await wallet.sendTransaction(tx);
  return hash;
}

function requireAddress(wallet: Wallet): string {
  if (!wallet.address) throw new Error("Connect a wallet first");
  return wallet.address;
}

export async function listOffers(workId: string, signal?: AbortSignal): Promise<Offer[]> {
  const page = await api<Page<Offer>>(`/v1/offers${query({ workId, limit: 100 })}`, { signal });
  return page.items;
}

/**
 * Reserves a unit and opens a card checkout. The license goes to `buyer.wallet` (the connected or a
 * pasted address) once paid; without one it is held for `buyer.email` and claimed later through the
 * link mailed there. `referrer` (from a referral link) earns the offer's commission if the creator
 * approved them.
 */
export function startCheckout(
  buyer: { wallet: string | null; email: string | null },
  offer: Offer,
  referrer: string | null = null,
): Promise<CheckoutOrder> {
  return api<CheckoutOrder>("/v1/checkout", {
    json: {
      offerId: offer.offerId,
      ...(buyer.wallet ? { wallet: buyer.wallet } : {}),
      ...(buyer.email ? { email: buyer.email } : {}),
      ...(referrer ? { referrer } : {}),
    } satisfies CheckoutBody,
  });
}

/** An order, read with the secret its checkout answered (the buyer's proof without signing in). */
export function getOrder(id: string, secret: string, signal?: AbortSignal): Promise<Order> {
  return api<Order>(`/v1/orders/${id}?secret=${encodeURIComponent(secret)}`, { signal });
}

/** The order's server-sent events. */
export function orderEvents(id: string, secret: string): EventSource {
  return new EventSource(`/v1/orders/${id}/events?secret=${encodeURIComponent(secret)}`);
}

/**
 * Buys a license to the connected wallet, paying the offer's native-currency price; `referrer` (from
 * a referral link) earns the offer's commission if the creator approved them.
 */
export async function buyWithWallet(
  wallet: Wallet,
  offer: Offer,
  referrer: string | null = null,
): Promise<string> {
  const holder = requireAddress(wallet);
  const { contracts } = await getChain();
  const data = licenseToken.encodeFunctionData("purchase", [offer.offerId, holder, referrer ?? ZeroAddress]);
  return wallet.sendTransaction({ to: contracts.LicenseToken, data, value: offer.price });
}

/** Extends a license by another term of its offer, paid from the connected wallet. */
export async function renewLicense(wallet: Wallet, license: License): Promise<string> {
  requireAddress(wallet);
  const [{ contracts }, offer] = await Promise.all([getChain(), api<Offer>(`/v1/offers/${license.offerId}`)]);
  if (offer.currency !== NATIVE_CURRENCY)
    throw new Error("This license renews in a token this app cannot pay with");
  const data = licenseToken.encodeFunctionData("renew", [license.tokenId]);
  return wallet.sendTransaction({ to: contracts.LicenseToken, data, value: offer.price });
}

export async function listTrades(
  role: "seller" | "buyer",
  address: string,
  signal?: AbortSignal,
): Promise<Trade[]> {
  const page = await api<Page<Trade>>(`/v1/trades${query({ [role]: address, limit: 100 })}`, { signal });
  return page.items;
}

export type TradeAction =
  "cancel" | "reclaim" | "confirm" | "dispute" | "settle" | "unwind" | "claim-items" | "claim-funds";

const ACTION_BODY: Record<TradeAction, string> = {
  cancel: "seller",
  reclaim: "from",
  confirm: "buyer",
  dispute: "buyer",
  settle: "from",
  unwind: "from",
  "claim-items": "from",
  "claim-funds": "from",
};

/** Sends one escrow action on a trade from the connected wallet. */
export async function tradeAction(
  wallet: Wallet,
  trade: Pick<Trade, "listingId">,
  action: TradeAction,
): Promise<string> {
  const { transactions } = await api<TransactionRequests>(`/v1/trades/${trade.listingId}/${action}`, {
    json: { [ACTION_BODY[action]]: requireAddress(wallet) },
  });
  return sendAll(wallet, transactions);
}

export interface OfferTerms {
  priceWei: string;
  durationSeconds: number;
  maxSupply: number;
  transferable: boolean;
  commercialUse: boolean;
  territory: string;
  revocable: boolean;
  /** Commission of approved referrers, in basis points. */
  referrerBps: number;
  fiatPrice: FiatPrice | null;
}

/** An unused nonce of the creator's signatures: the contract takes any unused value, so a random one never collides. */
export function randomNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return BigInt(`0x${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`).toString();
}

/**
 * Has the relayer create the split the creator signed for (CreateSplit), paying no gas, and waits
 * until it exists: an offer can name only a split the factory created.
 */
async function createSplitSigned(
  wallet: Wallet,
  prepared: PreparedSplit,
  onProgress: (step: string) => void,
) {
  const typed = prepared.typedData!;
  onProgress("Signing the revenue split");
  const signature = await wallet.signTypedData({
    domain: typed.domain,
    types: typed.types,
    primaryType: typed.primaryType,
    message: typed.message,
  });
  onProgress("Creating the revenue split");
  let request = await api<SplitRequest>("/v1/splits/requests", {
    json: { ...typed.message, signature } satisfies CreateSplitBody,
  });
  while (request.status === "pending" || request.status === "submitted") {
    await new Promise((resolve) => setTimeout(resolve, 750));
    request = await api<SplitRequest>(`/v1/splits/requests/${prepared.split}`);
  }
  if (request.status === "failed") throw new Error(request.error ?? "the revenue split could not be created");
}

/**
 * Publishes an offer: has the relayer create the revenue split unless it exists, has the creator
 * sign the CreateOffer message, and waits for the relayer to publish it on chain. The creator pays
 * no gas for either.
 */
export async function publishOffer(
  wallet: Wallet,
  workId: string,
  terms: OfferTerms,
  split: { recipients: string[]; sharesBps: number[] },
  onProgress: (step: string) => void,
): Promise<OfferPublication> {
  const creator = requireAddress(wallet);
  onProgress("Preparing the revenue split");
  const [prepared, { chainId, contracts }] = await Promise.all([
    api<PreparedSplit>("/v1/splits", { json: { ...split, from: creator } satisfies PrepareSplitRequest }),
    getChain(),
  ]);
  if (!prepared.exists) await createSplitSigned(wallet, prepared, onProgress);
  onProgress("Signing the offer");
  const message = {
    creator,
    workId,
    currency: NATIVE_CURRENCY,
    price: terms.priceWei,
    duration: String(terms.durationSeconds),
    maxSupply: terms.maxSupply,
    transferable: terms.transferable,
    commercialUse: terms.commercialUse,
    referrerBps: terms.referrerBps,
    royaltyBps: 0,
    split: prepared.split,
    territory: terms.territory,
    revocable: terms.revocable,
    nonce: randomNonce(),
    deadline: String(Math.floor(Date.now() / 1000) + 3600),
  };
  const signature = await wallet.signTypedData({
    domain: {
      name: LICENSE_DOMAIN_NAME,
      version: DOMAIN_VERSION,
      chainId: String(chainId),
      verifyingContract: contracts.LicenseToken,
    },
    types: CREATE_OFFER_TYPES,
    primaryType: "CreateOffer",
    message,
  });
  onProgress("Publishing");
  const { workId: _workId, ...body } = message;
  let publication = await api<OfferPublication>(`/v1/works/${workId}/offers`, {
    json: {
      ...body,
      signature,
      ...(terms.fiatPrice ? { fiatPrice: terms.fiatPrice } : {}),
    } satisfies PublishOfferBody,
  });
  while (publication.status === "pending" || publication.status === "submitted") {
    await new Promise((resolve) => setTimeout(resolve, 750));
    publication = await api<OfferPublication>(`/v1/offers/publications/${publication.id}`);
  }
  if (publication.status === "failed")
    throw new Error(publication.error ?? "the offer could not be published");
  return publication;
}
