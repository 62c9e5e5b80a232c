import { createHmac, timingSafeEqual } from "node:crypto";

/** What a download link grants: one delivery of one work's file to one holder, until it expires. */
export interface LinkGrant {
  deliveryId: string;
  workId: string;
  tokenId: string;
  /** Lower case. */
  holder: string;
  contentHash: string;
  /** Unix seconds. */
  expiresAt: number;
  watermark: boolean;
}

/** Why a link is refused; the route answers each with 403. */
export type LinkProblem = "LINK_INVALID" | "LINK_EXPIRED";

/**
 * Signed download links: the grant, base64url JSON, and an HMAC-SHA256 of it under a key derived
 * from SESSION_SECRET, so every API process checks a link without storing it, and nobody can make
 * one or change what it grants.
 */
export class DownloadLinks {
  readonly #key: Buffer;

  constructor(sessionSecret: string) {
    this.#key = createHmac("sha256", sessionSecret).update("download-link").digest();
  }

  /** The link's token: `<grant>.<signature>`, URL-safe. */
  sign(grant: LinkGrant): string {
    const payload = Buffer.from(
      JSON.stringify([
        grant.deliveryId,
        grant.workId,
        grant.tokenId,
        grant.holder,
        grant.contentHash,
        grant.expiresAt,
        grant.watermark ? 1 : 0,
      ]),
    ).toString("base64url");
    return `${payload}.${this.#mac(payload).toString("base64url")}`;
  }

  /** The grant of `token`, or why it is refused; `nowSeconds` judges expiry. */
  verify(token: string, nowSeconds: number): LinkGrant | LinkProblem {
    const dot = token.indexOf(".");
    if (dot <= 0 || token.length > 1024) return "LINK_INVALID";
    const payload = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1), "base64url");
    const expected = this.#mac(payload);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return "LINK_INVALID";
    const fields = JSON.parse(Buffer.from(payload, "base64url").toString()) as [
      string,
      string,
      string,
      string,
      string,
      number,
      number,
    ];
    const [deliveryId, workId, tokenId, holder, contentHash, expiresAt, watermark] = fields;
    if (expiresAt <= nowSeconds) return "LINK_EXPIRED";
    return { deliveryId, workId, tokenId, holder, contentHash, expiresAt, watermark: watermark === 1 };
  }

  #mac(payload: string): Buffer {
    return createHmac("sha256", this.#key).update(payload).digest();
  }
}
