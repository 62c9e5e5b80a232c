import { expect } from "chai";
import { Wallet } from "ethers";
import { ConfigError } from "../../lib/config-error.ts";
import { DEV_EVIDENCE_SIGNER_KEY, checkChain, loadConfig } from "../../server/config.ts";

const base = {
  NODE_ENV: "development",
  DATABASE_URL: "postgres://postgres@127.0.0.1:5432/rights",
  REDIS_URL: "redis://127.0.0.1:6379",
  CHAIN_RPC_URL: "http://127.0.0.1:8545",
  RELAYER_PRIVATE_KEY: "0x" + "11".repeat(32),
  SESSION_SECRET: "s".repeat(32),
};

const stripe = { STRIPE_SECRET_KEY: "sk_live_x", STRIPE_WEBHOOK_SECRET: "whsec_x" };
const contentKeys = {
  CONTENT_KEYS: `k1:${Buffer.alloc(32, 7).toString("base64")}`,
  CODE_KEY: Buffer.alloc(32, 9).toString("base64"),
  CLAIM_KEY: Buffer.alloc(32, 11).toString("base64"),
};
const mail = { SMTP_URL: "smtp://mailer:p%40ss@smtp.example:2525", MAIL_FROM: "receipts@example.com" };
const revoker = new Wallet("0x" + "33".repeat(32));
/** A production environment that starts, on a public chain. */
const production = {
  ...base,
  ...stripe,
  ...contentKeys,
  ...mail,
  NODE_ENV: "production",
  CHAIN_RPC_URL: "https://rpc.example/v2/secret-key",
  EVIDENCE_SIGNER_KEY: "0x" + "22".repeat(32),
  REVOKER_PRIVATE_KEY: revoker.privateKey,
};

function errorOf(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("configuration was accepted");
}

describe("server configuration", () => {
  it("reads a complete environment into a typed object with defaults", () => {
    const config = loadConfig(base);
    expect(config.http.port).to.equal(3000);
    expect(config.database.url).to.equal(base.DATABASE_URL);
    expect(config.uploads.maxBytes).to.equal(100 * 1024 * 1024);
    expect(config.notarize.mode).to.equal("direct");
    expect(config.ipfs.apiUrl).to.equal(undefined);
  });

  for (const name of Object.keys(base)) {
    it(`stops with one line naming ${name} when it is missing`, () => {
      const env: Record<string, string> = { ...base };
      delete env[name];
      expect(errorOf(env)).to.equal(`invalid configuration: ${name} is required`);
    });
  }

  it("names a malformed value and says what is wrong with it", () => {
    expect(errorOf({ ...base, RELAYER_PRIVATE_KEY: "0x1234" })).to.match(
      /^invalid configuration: RELAYER_PRIVATE_KEY must be a 0x-prefixed 32-byte hex private key$/,
    );
    expect(errorOf({ ...base, CHAIN_RPC_URL: "ftp://x" })).to.match(
      /^invalid configuration: CHAIN_RPC_URL must start with/,
    );
    expect(errorOf({ ...base, PORT: "http" })).to.match(/^invalid configuration: PORT /);
    expect(errorOf({ ...base, NOTARIZE_MODE: "sometimes" })).to.match(
      /^invalid configuration: NOTARIZE_MODE /,
    );
  });

  it("treats empty variables as unset", () => {
    expect(loadConfig({ ...base, IPFS_API_URL: "" }).ipfs.apiUrl).to.equal(undefined);
  });

  it("parses admin addresses to lower case and rejects malformed ones", () => {
    const admin = "0xF39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
    expect(loadConfig({ ...base, ADMIN_ADDRESSES: ` ${admin} ` }).auth.adminAddresses).to.deep.equal([
      admin.toLowerCase(),
    ]);
    expect(errorOf({ ...base, ADMIN_ADDRESSES: "0x12" })).to.match(
      /^invalid configuration: ADMIN_ADDRESSES /,
    );
  });

  it("signs evidence with Hardhat's test account 9 outside production, and needs a key in production", () => {
    const dev = loadConfig(base).evidence;
    expect(dev.signerKey).to.equal(DEV_EVIDENCE_SIGNER_KEY);
    expect(new Wallet(dev.signerKey).address).to.equal("0xa0Ee7A142d267C1f36714E4a8F75612F20a79720");
    expect(dev.minConfirmations).to.equal(1);
    expect(errorOf({ ...base, NODE_ENV: "production" })).to.equal(
      "invalid configuration: EVIDENCE_SIGNER_KEY is required in production",
    );
    const key = "0x" + "22".repeat(32);
    const production = loadConfig({
      ...base,
      ...stripe,
      ...contentKeys,
      ...mail,
      NODE_ENV: "production",
      EVIDENCE_SIGNER_KEY: key,
    }).evidence;
    expect(production).to.deep.equal({
      signerKey: key,
      tsaUrl: undefined,
      tsaCaFile: undefined,
      minConfirmations: 12,
      dir: ".data/evidence",
      quotaBytes: 1024 * 1024 * 1024,
      pendingMax: 5,
    });
  });

  it("reads the time-stamping authority and refuses its CA file without its URL", () => {
    const env = { ...base, TSA_URL: "https://tsa.example/tsr", TSA_CA_FILE: "/etc/tsa-ca.pem" };
    expect(loadConfig({ ...env, EVIDENCE_MIN_CONFIRMATIONS: "3" }).evidence).to.include({
      tsaUrl: env.TSA_URL,
      tsaCaFile: env.TSA_CA_FILE,
      minConfirmations: 3,
    });
    expect(errorOf({ ...base, TSA_CA_FILE: "/etc/tsa-ca.pem" })).to.equal(
      "invalid configuration: TSA_CA_FILE needs TSA_URL",
    );
    expect(errorOf({ ...base, EVIDENCE_MIN_CONFIRMATIONS: "0" })).to.match(
      /^invalid configuration: EVIDENCE_MIN_CONFIRMATIONS /,
    );
  });

  it("takes card payments through the local checkout page by default, with a webhook secret derived from the session secret", () => {
    const { payments, checkout } = loadConfig(base);
    expect(payments.provider).to.equal("dev");
    expect(payments.webhookSecret).to.match(/^whsec_dev_[0-9a-f]{64}$/);
    expect(loadConfig({ ...base, SESSION_SECRET: "t".repeat(32) }).payments.webhookSecret).not.to.equal(
      payments.webhookSecret,
    );
    expect(checkout).to.deep.include({ orderTtlSeconds: 1800, holdSeconds: 300, captureFinality: "safe" });
    expect(checkout.limits).to.deep.equal({
      perWalletPerOffer: 5,
      perIpPerOffer: 20,
      velocityPerMinute: 10,
      lookupPerMinute: 10,
    });
    expect(loadConfig({ ...base, ORDER_LOOKUP_PER_MINUTE: "3" }).checkout.limits.lookupPerMinute).to.equal(3);
    expect(checkout.returnUrl).to.equal("http://127.0.0.1:3000/checkout/return");
  });

  it("requires Stripe's secret key with the Stripe provider, and the webhook secret in production", () => {
    expect(errorOf({ ...base, PAYMENTS_PROVIDER: "stripe" })).to.equal(
      "invalid configuration: STRIPE_SECRET_KEY is required when PAYMENTS_PROVIDER is stripe",
    );
    const key = "0x" + "22".repeat(32);
    expect(errorOf({ ...base, NODE_ENV: "production", EVIDENCE_SIGNER_KEY: key })).to.equal(
      "invalid configuration: STRIPE_SECRET_KEY is required when PAYMENTS_PROVIDER is stripe",
    );
    expect(
      errorOf({ ...base, NODE_ENV: "production", EVIDENCE_SIGNER_KEY: key, STRIPE_SECRET_KEY: "sk_live_x" }),
    ).to.equal("invalid configuration: STRIPE_WEBHOOK_SECRET is required in production");
    const live = loadConfig({
      ...base,
      ...stripe,
      ...contentKeys,
      ...mail,
      NODE_ENV: "production",
      EVIDENCE_SIGNER_KEY: key,
    }).payments;
    expect(live).to.deep.include({
      provider: "stripe",
      stripeSecretKey: "sk_live_x",
      webhookSecret: "whsec_x",
    });
    expect(errorOf({ ...base, STRIPE_WEBHOOK_SECRET: "secret" })).to.match(
      /^invalid configuration: STRIPE_WEBHOOK_SECRET /,
    );
    expect(errorOf({ ...base, CAPTURE_FINALITY: "pending" })).to.match(
      /^invalid configuration: CAPTURE_FINALITY /,
    );
  });

  it("arms crash points only for tests: refused in production and development, malformed ones named", () => {
    const armed = "relayer:after-record@2,capture:before";
    expect(loadConfig({ ...base, NODE_ENV: "test", CRASH_POINTS: armed }).crashPoints).to.deep.equal([
      { point: "relayer:after-record", hit: 2 },
      { point: "capture:before", hit: 1 },
    ]);
    expect(loadConfig(base).crashPoints).to.deep.equal([]);
    const key = "0x" + "22".repeat(32);
    expect(
      errorOf({ ...base, ...stripe, NODE_ENV: "production", EVIDENCE_SIGNER_KEY: key, CRASH_POINTS: armed }),
    ).to.equal("invalid configuration: CRASH_POINTS is for tests only (NODE_ENV=test)");
    expect(errorOf({ ...base, CRASH_POINTS: armed })).to.equal(
      "invalid configuration: CRASH_POINTS is for tests only (NODE_ENV=test)",
    );
    for (const malformed of ["relayer:nowhere", "capture:before@0", "webhook:after-commit@x", "rm -rf"]) {
      expect(errorOf({ ...base, NODE_ENV: "test", CRASH_POINTS: malformed })).to.match(
        /^invalid configuration: CRASH_POINTS must list crash points/,
      );
    }
  });

  it("bounds the evidence verifier's body and inflation by default, each limit configurable", () => {
    const MiB = 1024 * 1024;
    expect(loadConfig(base).verify).to.deep.equal({
      maxBytes: 8 * MiB,
      concurrency: 2,
      zipLimits: {
        maxEntries: 64,
        maxEntryBytes: 16 * MiB,
        maxTotalBytes: 24 * MiB,
        maxRatio: 200,
        ratioFloorBytes: MiB,
      },
    });
    const set = loadConfig({
      ...base,
      VERIFY_MAX_BYTES: "1000",
      VERIFY_MAX_RATIO: "50",
      VERIFY_CONCURRENCY: "4",
    });
    expect(set.verify.maxBytes).to.equal(1000);
    expect(set.verify.zipLimits.maxRatio).to.equal(50);
    expect(set.verify.concurrency).to.equal(4);
    expect(errorOf({ ...base, VERIFY_MAX_ENTRIES: "0" })).to.match(
      /^invalid configuration: VERIFY_MAX_ENTRIES /,
    );
  });

  it("reads STUCK_AFTER_SECONDS, a quarter of an hour by default", () => {
    expect(loadConfig(base).operations.stuckAfterSeconds).to.equal(900);
    expect(loadConfig({ ...base, STUCK_AFTER_SECONDS: "60" }).operations.stuckAfterSeconds).to.equal(60);
    expect(errorOf({ ...base, STUCK_AFTER_SECONDS: "0" })).to.match(
      /^invalid configuration: STUCK_AFTER_SECONDS /,
    );
  });

  it("trusts no proxy by default, a hop count or a CIDR list when told, and refuses 'trust every hop'", () => {
    expect(loadConfig(base).http.trustProxy).to.equal(false);
    expect(loadConfig({ ...base, TRUST_PROXY: "2" }).http.trustProxy).to.equal(2);
    expect(loadConfig({ ...base, TRUST_PROXY: "0" }).http.trustProxy).to.equal(false);
    expect(
      loadConfig({ ...base, TRUST_PROXY: " 10.0.0.0/8, 2001:db8::/32 ,192.0.2.1" }).http.trustProxy,
    ).to.deep.equal(["10.0.0.0/8", "2001:db8::/32", "192.0.2.1"]);
    for (const refused of ["true", "1.2.3.4/33", "2001:db8::/129", "not-an-ip", "-1"]) {
      expect(errorOf({ ...base, TRUST_PROXY: refused })).to.match(/^invalid configuration: TRUST_PROXY /);
    }
  });

  it("reads SMTP_URL into the SMTP server's settings, requires it and MAIL_FROM in production", () => {
    expect(loadConfig(base).mail).to.deep.include({
      smtp: null,
      sendTimeoutMs: 60_000,
      expiryReminderDays: 7,
    });
    expect(loadConfig(production).mail.smtp).to.deep.equal({
      host: "smtp.example",
      port: 2525,
      secure: false,
      requireTLS: false,
      auth: { user: "mailer", pass: "p@ss" },
    });
    expect(loadConfig({ ...base, SMTP_URL: "smtps://smtp.example?tls=required" }).mail.smtp).to.include({
      port: 465,
      secure: true,
    });
    expect(loadConfig({ ...base, SMTP_URL: "smtp://smtp.example/?tls=required" }).mail.smtp).to.include({
      port: 587,
      requireTLS: true,
    });
    expect(errorOf({ ...base, SMTP_URL: "http://smtp.example" })).to.match(
      /^invalid configuration: SMTP_URL must be smtp:/,
    );
    expect(errorOf({ ...base, MAIL_FROM: "Receipts <r@example.com>" })).to.match(
      /^invalid configuration: MAIL_FROM must be an email address/,
    );
    const { SMTP_URL: _url, ...unsent } = production;
    expect(errorOf(unsent)).to.equal("invalid configuration: SMTP_URL is required in production");
    const { MAIL_FROM: _from, ...anonymous } = production;
    expect(errorOf(anonymous)).to.equal("invalid configuration: MAIL_FROM is required in production");
  });

  it("reads the redemption code key, requires it in production and derives one elsewhere", () => {
    expect(loadConfig(production).codes.key.equals(Buffer.alloc(32, 9))).to.equal(true);
    const derived = loadConfig(base).codes.key;
    expect(derived).to.have.length(32);
    expect(derived.equals(loadConfig({ ...base, SESSION_SECRET: "t".repeat(32) }).codes.key)).to.equal(false);
    for (const bad of ["short", Buffer.alloc(16).toString("base64"), Buffer.alloc(33).toString("base64")]) {
      expect(errorOf({ ...base, CODE_KEY: bad })).to.equal(
        "invalid configuration: CODE_KEY must be 32 bytes, base64",
      );
    }
    const { CODE_KEY: _, ...keyless } = production;
    expect(errorOf(keyless)).to.equal("invalid configuration: CODE_KEY is required in production");
  });

  it("reads the claim-link key, requires it in production and derives one elsewhere, apart from the code key", () => {
    expect(loadConfig(production).checkout.claimKey.equals(Buffer.alloc(32, 11))).to.equal(true);
    const derived = loadConfig(base).checkout.claimKey;
    expect(derived).to.have.length(32);
    expect(derived.equals(loadConfig(base).codes.key)).to.equal(false);
    expect(
      derived.equals(loadConfig({ ...base, SESSION_SECRET: "t".repeat(32) }).checkout.claimKey),
    ).to.equal(false);
    for (const bad of ["short", Buffer.alloc(16).toString("base64"), Buffer.alloc(33).toString("base64")]) {
      expect(errorOf({ ...base, CLAIM_KEY: bad })).to.equal(
        "invalid configuration: CLAIM_KEY must be 32 bytes, base64",
      );
    }
    const { CLAIM_KEY: _, ...keyless } = production;
    expect(errorOf(keyless)).to.equal("invalid configuration: CLAIM_KEY is required in production");
  });

  it("has no default NODE_ENV: a process must say whether it is production", () => {
    const { NODE_ENV: _, ...unset } = base;
    expect(errorOf(unset)).to.equal("invalid configuration: NODE_ENV is required");
    expect(errorOf({ ...base, NODE_ENV: "staging" })).to.match(/^invalid configuration: NODE_ENV /);
  });

  it("refuses the dev payment provider in production", () => {
    expect(loadConfig(production).payments.provider).to.equal("stripe");
    expect(errorOf({ ...production, PAYMENTS_PROVIDER: "dev" })).to.equal(
      "invalid configuration: PAYMENTS_PROVIDER dev (free licenses) is refused in production",
    );
  });

  it("starts the dev payment provider and dev routes only against a chain on a loopback address", () => {
    for (const local of ["http://127.0.0.1:8545", "http://localhost:8545", "ws://[::1]:8545"]) {
      expect(loadConfig({ ...base, CHAIN_RPC_URL: local }).chain.rpcUrl).to.equal(local);
    }
    for (const env of ["development", "test"]) {
      expect(errorOf({ ...base, NODE_ENV: env, CHAIN_RPC_URL: "https://rpc.example/v2/key" })).to.equal(
        `invalid configuration: CHAIN_RPC_URL must be the local chain (a loopback address) with NODE_ENV=${env}, which serves the dev RPC routes and dev payments`,
      );
    }
    expect(
      errorOf({ ...production, ...stripe, PAYMENTS_PROVIDER: "dev", CHAIN_RPC_URL: "http://127.0.0.1:8545" }),
    ).to.match(/PAYMENTS_PROVIDER dev/);
  });

  it("refuses at start-up a dev configuration whose chain is not the local chain (id 31337)", () => {
    const local = { chainId: 31337, revoker: revoker.address };
    expect(() => checkChain(loadConfig(base), local)).to.not.throw();
    expect(() => checkChain(loadConfig(base), { ...local, chainId: 1 })).to.throw(
      ConfigError,
      "invalid configuration: CHAIN_RPC_URL serves chain 1, not the local chain 31337 that NODE_ENV=development needs",
    );
    expect(() => checkChain(loadConfig(production), { ...local, chainId: 1 })).to.not.throw();
  });

  it("needs a key for the deployment's revoker in production, so refunded licenses are revoked", () => {
    const chain = { chainId: 1, revoker: revoker.address };
    const { REVOKER_PRIVATE_KEY: _, ...keyless } = production;
    expect(() => checkChain(loadConfig(keyless), chain)).to.throw(
      ConfigError,
      `invalid configuration: REVOKER_PRIVATE_KEY is required in production: the deployment's revoker ${revoker.address} is not the relayer`,
    );
    const relayer = new Wallet(base.RELAYER_PRIVATE_KEY).address;
    expect(() => checkChain(loadConfig(keyless), { ...chain, revoker: relayer })).to.not.throw();
    expect(() =>
      checkChain(loadConfig({ ...production, REVOKER_PRIVATE_KEY: "0x" + "44".repeat(32) }), chain),
    ).to.throw(ConfigError, /REVOKER_PRIVATE_KEY is not the key of the deployment's revoker/);
    expect(() => checkChain(loadConfig(production), chain)).to.not.throw();
    expect(() => checkChain(loadConfig(base), { chainId: 31337, revoker: revoker.address })).to.not.throw();
  });
});
