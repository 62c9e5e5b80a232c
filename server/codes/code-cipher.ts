import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from "node:crypto";

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const SALT_BYTES = 32;

/** A sealed code that does not open under this server's code key: the row was altered or moved. */
export class CodeSealError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CodeSealError";
  }
}

/** A code as stored: its digest (for lookups and duplicates), its leaf salt and its sealed text. */
export interface SealedCode {
  digest: Buffer;
  salt: Buffer;
  sealed: Buffer;
}

/**
 * Seals redemption codes with AES-256-GCM under keys derived from the configured code key: one
 * key encrypts, another keys the HMAC digest that finds a code without decrypting every row. A
 * sealed code is bound to its offer and digest, so it cannot be moved onto another row.
 */
export class CodeCipher {
  readonly #sealKey: Buffer;
  readonly #digestKey: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new RangeError("the code key must be 32 bytes");
    this.#sealKey = Buffer.from(hkdfSync("sha256", key, Buffer.alloc(0), "redemption-code seal", 32));
    this.#digestKey = Buffer.from(hkdfSync("sha256", key, Buffer.alloc(0), "redemption-code digest", 32));
  }

  /** The code's digest within its offer: equal codes of one offer have equal digests. */
  digest(offerId: string, code: string): Buffer {
    return createHmac("sha256", this.#digestKey).update(`${offerId}\n${code}`).digest();
  }

  seal(offerId: string, code: string): SealedCode {
    const digest = this.digest(offerId, code);
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.#sealKey, nonce);
    cipher.setAAD(aadOf(offerId, digest));
    const body = Buffer.concat([cipher.update(code, "utf8"), cipher.final()]);
    return {
      digest,
      salt: randomBytes(SALT_BYTES),
      sealed: Buffer.concat([nonce, body, cipher.getAuthTag()]),
    };
  }

  /** The code of a sealed row; CodeSealError when it does not open. */
  open(offerId: string, digest: Buffer, sealed: Buffer): string {
    if (sealed.length <= NONCE_BYTES + TAG_BYTES) throw new CodeSealError("a sealed code is too short");
    const decipher = createDecipheriv("aes-256-gcm", this.#sealKey, sealed.subarray(0, NONCE_BYTES));
    decipher.setAAD(aadOf(offerId, digest));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    try {
      return Buffer.concat([
        decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES)),
        decipher.final(),
      ]).toString("utf8");
    } catch {
      throw new CodeSealError(`a code of offer ${offerId} does not open under the configured code key`);
    }
  }
}

function aadOf(offerId: string, digest: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${offerId}\n`), digest]);
}
