import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { ContentKeyError, ContentKeys } from "../../server/content/content-keys.ts";
import { loadConfig } from "../../server/config.ts";

const HASH = `0x${"ab".repeat(32)}`;
const OTHER_HASH = `0x${"cd".repeat(32)}`;

describe("content keys (data keys wrapped by the configured key-encryption keys)", () => {
  const old = { id: "2025", key: randomBytes(32) };
  const next = { id: "2026", key: randomBytes(32) };

  it("wraps under the first key and unwraps the same data key", () => {
    const keys = new ContentKeys([old]);
    const dataKey = keys.newDataKey();
    const wrapped = keys.wrap(dataKey, HASH);
    expect(wrapped.keyId).to.equal("2025");
    expect(wrapped.wrapped.includes(dataKey)).to.equal(false);
    expect(keys.unwrap(wrapped, HASH).equals(dataKey)).to.equal(true);
  });

  it("refuses a wrapped key moved to another upload, altered, or under a key it does not have", () => {
    const keys = new ContentKeys([old]);
    const wrapped = keys.wrap(keys.newDataKey(), HASH);
    expect(() => keys.unwrap(wrapped, OTHER_HASH)).to.throw(ContentKeyError);
    const altered = Buffer.from(wrapped.wrapped);
    altered[20]! ^= 1;
    expect(() => keys.unwrap({ ...wrapped, wrapped: altered }, HASH)).to.throw(ContentKeyError);
    expect(() => keys.unwrap({ ...wrapped, keyId: "other" }, HASH)).to.throw(ContentKeyError, /no key/);
    expect(() => new ContentKeys([next]).unwrap(wrapped, HASH)).to.throw(ContentKeyError);
  });

  it("keeps an unwrapped data key for its wrapping only: altered, moved or re-wrapped bytes are unwrapped afresh", () => {
    const keys = new ContentKeys([next, old]);
    const dataKey = keys.newDataKey();
    const wrapped = new ContentKeys([old]).wrap(dataKey, HASH);
    const first = keys.unwrap(wrapped, HASH);
    expect(first.equals(dataKey)).to.equal(true);
    expect(keys.unwrap({ ...wrapped, wrapped: Buffer.from(wrapped.wrapped) }, HASH)).to.equal(first);
    const altered = Buffer.from(wrapped.wrapped);
    altered[40]! ^= 1;
    expect(() => keys.unwrap({ ...wrapped, wrapped: altered }, HASH)).to.throw(ContentKeyError);
    expect(() => keys.unwrap(wrapped, OTHER_HASH)).to.throw(ContentKeyError);
    expect(() => keys.unwrap({ ...wrapped, keyId: next.id }, HASH)).to.throw(ContentKeyError);
    const rewrapped = keys.rewrap(wrapped, HASH);
    expect(rewrapped.keyId).to.equal(next.id);
    expect(keys.unwrap(rewrapped, HASH).equals(dataKey)).to.equal(true);
    // Once only the new KEK is configured, the old wrapping no longer opens.
    expect(() => new ContentKeys([next]).unwrap(wrapped, HASH)).to.throw(ContentKeyError, /no key/);
  });

  it("re-wraps a key of the old KEK under the new one, keeping the data key", () => {
    const dataKey = randomBytes(32);
    const wrapped = new ContentKeys([old]).wrap(dataKey, HASH);
    const rotated = new ContentKeys([next, old]);
    const rewrapped = rotated.rewrap(wrapped, HASH);
    expect(rewrapped.keyId).to.equal("2026");
    expect(new ContentKeys([next]).unwrap(rewrapped, HASH).equals(dataKey)).to.equal(true);
  });

  it("reads CONTENT_KEYS from the configuration, requires them in production and derives one elsewhere", () => {
    const base = {
      NODE_ENV: "test",
      DATABASE_URL: "postgres://localhost/x",
      REDIS_URL: "redis://localhost",
      CHAIN_RPC_URL: "http://127.0.0.1:8545",
      RELAYER_PRIVATE_KEY: `0x${"11".repeat(32)}`,
      SESSION_SECRET: "s".repeat(32),
    };
    const keys = loadConfig({
      ...base,
      CONTENT_KEYS: `2026:${next.key.toString("base64")}, 2025:${old.key.toString("base64url")}`,
    }).content.keys;
    expect(keys.map((k) => k.id)).to.deep.equal(["2026", "2025"]);
    expect(keys[1]!.key.equals(old.key)).to.equal(true);
    const derived = loadConfig(base).content.keys;
    expect(derived).to.have.length(1);
    expect(derived[0]!.key).to.have.length(32);
    for (const bad of [
      "2026",
      `2026:${randomBytes(16).toString("base64")}`,
      `a:${next.key.toString("base64")},a:${old.key.toString("base64")}`,
    ]) {
      expect(() => loadConfig({ ...base, CONTENT_KEYS: bad }), bad).to.throw(/CONTENT_KEYS/);
    }
    expect(() =>
      loadConfig({
        ...base,
        NODE_ENV: "production",
        CHAIN_RPC_URL: "https://rpc.example",
        STRIPE_SECRET_KEY: "sk_test_x",
        STRIPE_WEBHOOK_SECRET: "whsec_x",
        EVIDENCE_SIGNER_KEY: `0x${"22".repeat(32)}`,
      }),
    ).to.throw(/CONTENT_KEYS is required in production/);
  });
});
