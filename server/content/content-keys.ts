import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { KEY_BYTES } from "./sealed-file.ts";

/** A key-encryption key from the configuration, named so a wrapped key says which one wraps it. */
export interface KeyEncryptionKey {
  id: string;
  key: Buffer;
}

/** A data key as stored beside its upload: wrapped (nonce, ciphertext, tag) under the named KEK. */
export interface WrappedKey {
  keyId: string;
  wrapped: Buffer;
}

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** Unwrapped data keys kept per process: every download of a private work needs its key. */
const UNWRAPPED_KEPT = 10_000;

/** A wrapped key names a KEK this process does not have, or does not unwrap under it. */
export class ContentKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ContentKeyError";
  }
}

/**
 * The key-encryption keys of this deployment: the first wraps new data keys, all of them unwrap,
 * so a rotation adds a new first key, re-wraps every data key under it (`npm run rotate-content-keys`)
 * and only then drops the old one. A wrapped key is bound to its upload's content hash, so it
 * cannot be moved onto another upload's row.
 */
export class ContentKeys {
  readonly #byId: Map<string, Buffer>;
  // By KEK id and content hash, with the wrapped bytes they came from: a row re-wrapped or altered
  // is unwrapped (and authenticated) afresh. Oldest first.
  readonly #unwrapped = new Map<string, { wrapped: Buffer; dataKey: Buffer }>();
  readonly current: string;

  constructor(keys: KeyEncryptionKey[]) {
    const first = keys[0];
    if (!first) throw new RangeError("at least one key-encryption key is needed");
    for (const k of keys) {
      if (k.key.length !== KEY_BYTES) throw new RangeError(`key-encryption key ${k.id} is not 32 bytes`);
    }
    this.#byId = new Map(keys.map((k) => [k.id, k.key]));
    if (this.#byId.size !== keys.length) throw new RangeError("key-encryption key ids must differ");
    this.current = first.id;
  }

  /** A fresh random data key. */
  newDataKey(): Buffer {
    return randomBytes(KEY_BYTES);
  }

  /** `dataKey` wrapped under the current KEK for the upload of `contentHash`. */
  wrap(dataKey: Buffer, contentHash: string): WrappedKey {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.#byId.get(this.current)!, nonce);
    cipher.setAAD(aadOf(this.current, contentHash));
    const body = Buffer.concat([cipher.update(dataKey), cipher.final()]);
    return { keyId: this.current, wrapped: Buffer.concat([nonce, body, cipher.getAuthTag()]) };
  }

  /**
   * The data key of the upload of `contentHash` (shared: never to be changed); ContentKeyError
   * when it cannot be unwrapped. Kept once unwrapped, for as long as the same bytes are asked for.
   */
  unwrap(key: WrappedKey, contentHash: string): Buffer {
    const id = `${key.keyId}\0${contentHash.toLowerCase()}`;
    const kept = this.#unwrapped.get(id);
    if (kept?.wrapped.equals(key.wrapped)) return kept.dataKey;
    const dataKey = this.#unwrapOnce(key, contentHash);
    this.#unwrapped.delete(id);
    if (this.#unwrapped.size >= UNWRAPPED_KEPT) {
      this.#unwrapped.delete(this.#unwrapped.keys().next().value!);
    }
    this.#unwrapped.set(id, { wrapped: Buffer.from(key.wrapped), dataKey });
    return dataKey;
  }

  #unwrapOnce(key: WrappedKey, contentHash: string): Buffer {
    const kek = this.#byId.get(key.keyId);
    if (!kek) throw new ContentKeyError(`no key-encryption key ${key.keyId} is configured`);
    if (key.wrapped.length !== NONCE_BYTES + KEY_BYTES + TAG_BYTES) {
      throw new ContentKeyError("a wrapped data key has the wrong length");
    }
    const decipher = createDecipheriv("aes-256-gcm", kek, key.wrapped.subarray(0, NONCE_BYTES));
    decipher.setAAD(aadOf(key.keyId, contentHash));
    decipher.setAuthTag(key.wrapped.subarray(NONCE_BYTES + KEY_BYTES));
    try {
      return Buffer.concat([
        decipher.update(key.wrapped.subarray(NONCE_BYTES, NONCE_BYTES + KEY_BYTES)),
        decipher.final(),
      ]);
    } catch {
      throw new ContentKeyError(`the data key of ${contentHash} does not unwrap under ${key.keyId}`);
    }
  }

  /** The same data key wrapped under the current KEK; the key itself never changes, so neither does the file. */
  rewrap(key: WrappedKey, contentHash: string): WrappedKey {
    return this.wrap(this.unwrap(key, contentHash), contentHash);
  }
}

function aadOf(keyId: string, contentHash: string): Buffer {
  return Buffer.from(`rights-ledger data key\0${keyId}\0${contentHash.toLowerCase()}`);
}
