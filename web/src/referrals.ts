/** Referral links: a creator's approvals of referrers on an offer, signed and sent by the relayer. */
import { DOMAIN_VERSION, LICENSE_DOMAIN_NAME, SET_REFERRER_TYPES } from "../../lib/eip712.ts";
import type { Chain } from "../../lib/api/chain.ts";
import type { OfferReferrers, ReferrerRequest, SetReferrerBody } from "../../lib/api/referrers.ts";
import { api } from "./api.ts";
import { randomNonce } from "./commerce.ts";
import { ensureSession, type Wallet } from "./wallet.tsx";

/** The link that buys `offerId` with `referrer` named: what a creator hands an approved referrer. */
export function referralLink(offerId: string, referrer: string, origin = window.location.origin): string {
  return `${origin}/offers/${offerId}?ref=${referrer}`;
}

export function listReferrers(offerId: string, signal?: AbortSignal): Promise<OfferReferrers> {
  return api<OfferReferrers>(`/v1/offers/${offerId}/referrers`, { signal });
}

/**
 * Approves (or withdraws) `referrer` on the creator's offer: signs in if needed, signs `SetReferrer`,
 * and waits until the relayer's transaction is confirmed and indexed.
 */
export async function setReferrer(
  wallet: Wallet,
  offerId: string,
  referrer: string,
  approved: boolean,
  onProgress: (step: string) => void,
): Promise<ReferrerRequest> {
  await ensureSession(wallet);
  const { chainId, contracts } = await api<Chain>("/v1/chain");
  onProgress("Signing the approval");
  const message = {
    offerId,
    referrer,
    approved,
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
    types: SET_REFERRER_TYPES,
    primaryType: "SetReferrer",
    message,
  });
  onProgress("Sending it on chain");
  const { offerId: _offerId, referrer: _referrer, ...fields } = message;
  const request = await api<ReferrerRequest>(`/v1/offers/${offerId}/referrers/${referrer}`, {
    method: "PUT",
    json: { ...fields, signature } satisfies SetReferrerBody,
  });
  // Done once the chain has it as asked and the indexer shows it.
  for (;;) {
    const listed = await listReferrers(offerId);
    const open = listed.requests.find((r) => r.id === request.id);
    if (open?.status === "failed") throw new Error(open.error ?? "the approval could not be sent");
    const shown = listed.referrers.some(
      (r) => r.referrer.toLowerCase() === referrer.toLowerCase() && r.approved === approved,
    );
    if (!open && shown) return { ...request, status: "confirmed" };
    await new Promise((resolve) => setTimeout(resolve, 750));
  }
}
