import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/**
 * The secret that lets whoever started a checkout follow its order without signing in: an HMAC of
 * the order id under a key derived from SESSION_SECRET, so every API process checks it without
 * storing it, and nobody who knows only the order id can make it.
 */
export class OrderSecrets {
  readonly #key: Buffer;

  constructor(sessionSecret: string) {
    this.#key = createHmac("sha256", sessionSecret).update("order-secret").digest();
  }

  /** The order's secret, 43 base64url characters. */
  of(orderId: string): string {
    return createHmac("sha256", this.#key).update(orderId).digest("base64url");
  }

  /** What an order stores to be found by its secret: the secret's SHA-256. */
  lookupHash(secret: string): Buffer {
    return createHash("sha256").update(secret).digest();
  }

  matches(orderId: string, secret: string | undefined): boolean {
    if (secret === undefined) return false;
    const expected = Buffer.from(this.of(orderId));
    const given = Buffer.from(secret);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
