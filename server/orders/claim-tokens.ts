/**
 * Claim-link tokens: the token of a claim is the HMAC-SHA256 of the claim's random id under
 * CLAIM_KEY. The database keeps the id (in the claim-link mail's data) and the token's SHA-256 (in
 * `order_claims`), never the token: the mail worker derives it when it renders the link, so a copy
 * of the database alone claims nothing.
 */
import { createHash, createHmac, randomBytes } from "node:crypto";

/** A fresh claim id: 16 random bytes, base64url. */
export function newClaimId(): string {
  return randomBytes(16).toString("base64url");
}

/** The token of claim `claimId` under `key`: 43 base64url characters. */
export function claimToken(key: Buffer, claimId: string): string {
  return createHmac("sha256", key).update(`claim-link:${claimId}`).digest("base64url");
}

/** What `order_claims` keeps of a token, and finds it by. */
export function claimTokenHash(token: string): Buffer {
  return createHash("sha256").update(token).digest();
}

/** The page a claim token opens: the fragment keeps the token out of server logs and Referer headers. */
export function claimUrl(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/$/, "")}/claim#token=${token}`;
}
