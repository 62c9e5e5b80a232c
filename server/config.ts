/**
 * The server's configuration: every environment variable, its default and its validation, read once
 * at start-up into a typed object. Long because it is the one list of settings (the README's table
 * mirrors it); the cross-setting rules (production refuses dev providers, keys match the deployment)
 * sit at its end.
 */
import { createHmac } from "node:crypto";
import { tmpdir } from "node:os";
import path from "node:path";
import { isIP } from "node:net";
import { HDNodeWallet, Mnemonic, computeAddress, getAddress } from "ethers";
import { z } from "zod";
import { parseCrashPoints, type ArmedCrash } from "./crash-points.ts";
import { ConfigError } from "../lib/config-error.ts";
import type { KeyEncryptionKey } from "./content/content-keys.ts";

/**
 * Signing key of evidence bundles outside production: account 9 of Hardhat's public test mnemonic,
 * so local bundles verify without setup. Anyone can sign with it, hence refused in production.
 */
export const DEV_EVIDENCE_SIGNER_KEY = HDNodeWallet.fromMnemonic(
  Mnemonic.fromPhrase("test test test test test test test test test test test junk"),
  "m/44'/60'/0'/0/9",
).privateKey;

/**
 * How long an order may wait for its mint to settle, or a relayer transaction to be mined, before
 * operators are told it is stuck: a quarter of an hour covers `safe` finality on Ethereum.
 */
export const DEFAULT_STUCK_AFTER_SECONDS = 900;

/** Chain id of the local development chain (Hardhat's and Anvil's). */
export const LOCAL_CHAIN_ID = 31337;

/** Confirmations a registration needs before its evidence is built, in production (the verifier's default). */
const PRODUCTION_MIN_CONFIRMATIONS = 12;

const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be a 0x-prefixed 32-byte hex private key");
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte address");
const url = (protocols: string[]) =>
  z
    .string()
    .url("must be a URL")
    .refine(
      (value) => protocols.some((p) => value.startsWith(`${p}:`)),
      `must start with ${protocols.join(": or ")}:`,
    );
const MiB = 1024 * 1024;
const positiveInt = z.coerce.number().int().positive();
const nonNegativeInt = z.coerce.number().int().nonnegative();
/** One IPv4 or IPv6 address, or a CIDR block of them. */
function isCidr(value: string): boolean {
  const [address, bits, ...rest] = value.split("/");
  if (rest.length > 0 || !address) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (bits === undefined) return true;
  const max = family === 4 ? 32 : 128;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= max;
}

/**
 * Which proxies' X-Forwarded-For entries to believe: none (`false`), the nearest N hops, or hops
 * from the listed addresses and CIDR blocks. "Every hop" is refused: the left-most entry is
 * whatever the client wrote, so each request could claim a fresh address.
 */
const trustProxy = z.string().transform((value, ctx): false | number | string[] => {
  const text = value.trim();
  if (text === "false") return false;
  if (/^\d{1,2}$/.test(text)) return Number(text) === 0 ? false : Number(text);
  const blocks = text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (blocks.length > 0 && blocks.every(isCidr)) return blocks;
  ctx.addIssue({
    code: "custom",
    message:
      "must be a hop count (the number of proxies in front of the API) or a comma-separated list of the proxies' addresses or CIDR blocks",
  });
  return z.NEVER;
});

/**
 * Key-encryption keys of private originals, `id:base64` (32 bytes each) separated by commas: the
 * first wraps new data keys, every one unwraps (a rotation puts the new key first).
 */
const contentKeys = z.string().transform((value, ctx): KeyEncryptionKey[] => {
  const keys: KeyEncryptionKey[] = [];
  for (const entry of value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const match = /^([A-Za-z0-9_-]{1,32}):([A-Za-z0-9+/_-]{43}=?)$/.exec(entry);
    // Node's base64 decoder reads the URL-safe alphabet too.
    const key = match ? Buffer.from(match[2]!, "base64") : null;
    if (!match || !key || key.length !== 32) {
      ctx.addIssue({ code: "custom", message: "must list keys as id:base64 of 32 bytes, comma-separated" });
      return z.NEVER;
    }
    if (keys.some((k) => k.id === match[1])) {
      ctx.addIssue({ code: "custom", message: `names key ${match[1]} twice` });
      return z.NEVER;
    }
    keys.push({ id: match[1]!, key });
  }
  if (keys.length === 0) {
    ctx.addIssue({ code: "custom", message: "must name at least one key" });
    return z.NEVER;
  }
  return keys;
});

/**
 * Outside production the content key may be left unset: it is derived from the session secret, so
 * a development stack's private originals open again after a restart.
 */
function devContentKeys(sessionSecret: string): KeyEncryptionKey[] {
  return [{ id: "dev", key: createHmac("sha256", sessionSecret).update("content-key").digest() }];
}

/** A 32-byte key, base64: CODE_KEY seals redemption codes, CLAIM_KEY derives claim-link tokens. */
const key32 = z.string().transform((value, ctx): Buffer => {
  const key = /^[A-Za-z0-9+/_-]{43}=?$/.test(value.trim()) ? Buffer.from(value.trim(), "base64") : null;
  if (!key || key.length !== 32) {
    ctx.addIssue({ code: "custom", message: "must be 32 bytes, base64" });
    return z.NEVER;
  }
  return key;
});

/** Outside production the code key may be left unset: derived from the session secret, like the content key. */
function devCodeKey(sessionSecret: string): Buffer {
  return createHmac("sha256", sessionSecret).update("code-key").digest();
}

/** Outside production the claim key may be left unset: derived from the session secret, like the code key. */
function devClaimKey(sessionSecret: string): Buffer {
  return createHmac("sha256", sessionSecret).update("claim-key").digest();
}

/** Where mail is handed over: `smtp://[user:password@]host[:port]` (STARTTLS when offered) or `smtps://` (TLS from the start). */
export interface SmtpSettings {
  host: string;
  port: number;
  secure: boolean;
  /** STARTTLS or nothing (`?tls=required`). */
  requireTLS: boolean;
  auth: { user: string; pass: string } | null;
}

const smtpUrl = z.string().transform((value, ctx): SmtpSettings => {
  const parsed = URL.canParse(value) ? new URL(value) : null;
  if (!parsed || !["smtp:", "smtps:"].includes(parsed.protocol) || !parsed.hostname) {
    ctx.addIssue({ code: "custom", message: "must be smtp://[user:password@]host[:port] or smtps://…" });
    return z.NEVER;
  }
  const secure = parsed.protocol === "smtps:";
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ""),
    port: parsed.port ? Number(parsed.port) : secure ? 465 : 587,
    secure,
    requireTLS: parsed.searchParams.get("tls") === "required",
    auth: parsed.username
      ? { user: decodeURIComponent(parsed.username), pass: decodeURIComponent(parsed.password) }
      : null,
  };
});

const redisPrefix = z
  .string()
  .regex(/^[a-zA-Z0-9:_-]+$/, "letters, digits, ':', '_' and '-' only")
  .default("rl");

const envSchema = z
  .object({
    // No default: a production process that forgot it would serve free dev payments.
    NODE_ENV: z.enum(["development", "production", "test"]),
    HOST: z.string().default("127.0.0.1"),
    PORT: nonNegativeInt.max(65_535).default(3000),
    API_WORKERS: positiveInt.max(64).default(1),
    PUBLIC_URL: url(["http", "https"]).optional(),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    DATABASE_URL: url(["postgres", "postgresql"]),
    DATABASE_POOL_SIZE: positiveInt.default(10),
    REDIS_URL: url(["redis", "rediss"]),
    REDIS_PREFIX: redisPrefix,
    CHAIN_RPC_URL: url(["http", "https", "ws", "wss"]),
    DEPLOYMENTS_DIR: z.string().default("deployments"),
    RELAYER_PRIVATE_KEY: hex32,
    IPFS_API_URL: url(["http", "https"]).optional(),
    IPFS_DIR: z.string().default(".data/ipfs"),
    SESSION_SECRET: z.string().min(32, "must be at least 32 characters"),
    CONTENT_KEYS: contentKeys.optional(),
    CODE_KEY: key32.optional(),
    CLAIM_KEY: key32.optional(),
    SESSION_TTL_SECONDS: positiveInt.default(3600),
    SIWE_DOMAIN: z.string().optional(),
    ADMIN_ADDRESSES: z
      .string()
      .default("")
      .transform((v) =>
        v
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean),
      )
      .pipe(z.array(address)),
    UPLOAD_MAX_BYTES: positiveInt.default(100 * 1024 * 1024),
    UPLOAD_QUOTA_BYTES: positiveInt.default(1024 * MiB),
    UPLOAD_STAGING_DIR: z.string().optional(),
    PREVIEW_MAX_BYTES: positiveInt.default(16 * MiB),
    DELIVERY_LINK_TTL_SECONDS: positiveInt.max(86_400).default(900),
    DELIVERY_FINALITY: z.enum(["pending", "safe", "final"]).default("safe"),
    WATERMARK_MAX_BYTES: positiveInt.default(32 * MiB),
    UPLOAD_COLLECT_AFTER_SECONDS: positiveInt.default(24 * 3600),
    UPLOAD_COLLECT_EVERY_SECONDS: positiveInt.default(3600),
    VERIFY_MAX_BYTES: positiveInt.default(8 * MiB),
    VERIFY_MAX_ENTRIES: positiveInt.default(64),
    VERIFY_MAX_ENTRY_BYTES: positiveInt.default(16 * MiB),
    VERIFY_MAX_INFLATED_BYTES: positiveInt.default(24 * MiB),
    VERIFY_MAX_RATIO: positiveInt.default(200),
    VERIFY_CONCURRENCY: positiveInt.default(2),
    NOTARIZE_MODE: z.enum(["direct", "batch"]).default("direct"),
    BATCH_MAX_WORKS: positiveInt.default(1000),
    BATCH_FLUSH_SECONDS: positiveInt.default(10),
    RATE_LIMIT_PER_MINUTE: positiveInt.default(600),
    TRUST_PROXY: trustProxy.optional(),
    OPERATOR_TOKEN: z.string().min(32, "must be at least 32 characters").optional(),
    SSE_MAX_PER_IP: positiveInt.default(20),
    SSE_MAX_PER_ORDER: positiveInt.default(5),
    WEB_DIR: z.string().default("dist/web"),
    PAYMENTS_PROVIDER: z.enum(["stripe", "dev"]).optional(),
    STRIPE_SECRET_KEY: z
      .string()
      .regex(/^(sk|rk)_/, "must be a Stripe secret key (sk_… or rk_…)")
      .optional(),
    STRIPE_WEBHOOK_SECRET: z
      .string()
      .regex(/^whsec_/, "must be a Stripe webhook secret (whsec_…)")
      .optional(),
    STRIPE_API_HOST: z.string().optional(),
    STRIPE_API_PORT: positiveInt.max(65_535).optional(),
    STRIPE_API_PROTOCOL: z.enum(["http", "https"]).optional(),
    REVOKER_PRIVATE_KEY: hex32.optional(),
    ORDER_TTL_SECONDS: positiveInt.max(86_400).default(1800),
    CHECKOUT_HOLD_SECONDS: positiveInt.default(300),
    ORDER_SWEEP_SECONDS: positiveInt.default(30),
    CAPTURE_FINALITY: z.enum(["safe", "final"]).default("safe"),
    CHECKOUT_RETURN_URL: url(["http", "https"]).optional(),
    CHECKOUT_LIMIT_PER_WALLET_PER_OFFER: positiveInt.default(5),
    CHECKOUT_LIMIT_PER_IP_PER_OFFER: positiveInt.default(20),
    CHECKOUT_VELOCITY_PER_MINUTE: positiveInt.default(10),
    CLAIM_LINK_TTL_SECONDS: positiveInt.default(2_592_000),
    ORDER_LOOKUP_PER_MINUTE: positiveInt.default(10),
    CHECKOUT_HOLDS_PER_WALLET_PER_OFFER: positiveInt.default(2),
    CHECKOUT_HOLDS_PER_WALLET: positiveInt.default(5),
    CHECKOUT_HOLDS_PER_IP_PER_OFFER: positiveInt.default(3),
    CHECKOUT_HOLDS_PER_IP: positiveInt.default(10),
    CARD_MIN_PRICE: positiveInt.default(100),
    REFUND_WINDOW_SECONDS: positiveInt.default(14 * 86_400),
    SETTLEMENT_HOLDBACK_SECONDS: z.coerce.number().int().min(0).optional(),
    SETTLEMENT_EVERY_SECONDS: positiveInt.default(3600),
    SETTLEMENT_CURRENCY: z
      .string()
      .regex(/^[a-z]{3}$/, "must be a lower-case ISO 4217 code")
      .default("usd"),
    SETTLEMENT_MAX_PAYEES: positiveInt.max(200).default(100),
    SETTLEMENT_MAX_PAYMENT_REFS: positiveInt.max(5000).default(2000),
    RELAYER_GAS_PER_WALLET_PER_DAY: positiveInt.default(5_000_000),
    RELAYER_GAS_PER_DAY: positiveInt.default(500_000_000),
    GAS_PER_REGISTRATION: positiveInt.default(125_000),
    GAS_PER_OFFER: positiveInt.default(250_000),
    GAS_PER_CARD_MINT: positiveInt.default(160_000),
    GAS_PER_REFERRER: positiveInt.default(90_000),
    GAS_PER_SPLIT: positiveInt.default(150_000),
    GAS_PER_SPLIT_RECIPIENT: positiveInt.default(50_000),
    EVIDENCE_SIGNER_KEY: hex32.optional(),
    TSA_URL: url(["http", "https"]).optional(),
    TSA_CA_FILE: z.string().optional(),
    EVIDENCE_MIN_CONFIRMATIONS: positiveInt.optional(),
    EVIDENCE_DIR: z.string().default(".data/evidence"),
    EVIDENCE_QUOTA_BYTES: positiveInt.default(1024 * MiB),
    EVIDENCE_PENDING_MAX: positiveInt.default(5),
    DISPUTE_EVIDENCE_DIR: z.string().default(".data/disputes"),
    DISPUTE_EVIDENCE_MAX_BYTES: positiveInt.default(5 * MiB),
    DISPUTE_EVIDENCE_QUOTA_BYTES: positiveInt.default(20 * MiB),
    DISPUTE_EVIDENCE_MAX_PIECES: positiveInt.max(1000).default(20),
    STUCK_AFTER_SECONDS: positiveInt.default(DEFAULT_STUCK_AFTER_SECONDS),
    SMTP_URL: smtpUrl.optional(),
    MAIL_FROM: z.email("must be an email address").optional(),
    MAIL_SEND_TIMEOUT_SECONDS: positiveInt.max(600).default(60),
    EXPIRY_REMINDER_DAYS: positiveInt.max(365).default(7),
    EXPIRY_REMINDER_EVERY_SECONDS: positiveInt.default(3600),
    PLATFORM_NAME: z.string().trim().min(1).max(200).default("Rights Ledger"),
    PLATFORM_ADDRESS: z.string().trim().max(500).optional(),
    PLATFORM_TAX_ID: z.string().trim().max(100).optional(),
    CRASH_POINTS: z
      .string()
      .transform((spec, ctx): ArmedCrash[] => {
        const armed = parseCrashPoints(spec);
        if (armed) return armed;
        ctx.addIssue({ code: "custom", message: "must list crash points as point[@hit], comma-separated" });
        return z.NEVER;
      })
      .optional(),
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV === "production" && env.EVIDENCE_SIGNER_KEY === undefined) {
      ctx.addIssue({ code: "custom", path: ["EVIDENCE_SIGNER_KEY"], message: "is required in production" });
    }
    if (env.TSA_CA_FILE !== undefined && env.TSA_URL === undefined) {
      ctx.addIssue({ code: "custom", path: ["TSA_CA_FILE"], message: "needs TSA_URL" });
    }
    const production = env.NODE_ENV === "production";
    const provider = env.PAYMENTS_PROVIDER ?? (production ? "stripe" : "dev");
    if (provider === "stripe" && !env.STRIPE_SECRET_KEY) {
      ctx.addIssue({
        code: "custom",
        path: ["STRIPE_SECRET_KEY"],
        message: "is required when PAYMENTS_PROVIDER is stripe",
      });
    }
    if (env.CHECKOUT_HOLD_SECONDS > env.ORDER_TTL_SECONDS) {
      ctx.addIssue({
        code: "custom",
        path: ["CHECKOUT_HOLD_SECONDS"],
        message: "must not exceed ORDER_TTL_SECONDS (an order holds its unit only while it can be paid)",
      });
    }
    if (env.CRASH_POINTS !== undefined && env.NODE_ENV !== "test") {
      ctx.addIssue({ code: "custom", path: ["CRASH_POINTS"], message: "is for tests only (NODE_ENV=test)" });
    }
    if (production && env.PAYMENTS_PROVIDER === "dev") {
      ctx.addIssue({
        code: "custom",
        path: ["PAYMENTS_PROVIDER"],
        message: "dev (free licenses) is refused in production",
      });
    }
    if (!production && !isLoopbackUrl(env.CHAIN_RPC_URL)) {
      ctx.addIssue({
        code: "custom",
        path: ["CHAIN_RPC_URL"],
        message: `must be the local chain (a loopback address) with NODE_ENV=${env.NODE_ENV}, which serves the dev RPC routes and dev payments`,
      });
    }
    if (production && !env.STRIPE_WEBHOOK_SECRET) {
      ctx.addIssue({ code: "custom", path: ["STRIPE_WEBHOOK_SECRET"], message: "is required in production" });
    }
    if (production && !env.CONTENT_KEYS) {
      ctx.addIssue({ code: "custom", path: ["CONTENT_KEYS"], message: "is required in production" });
    }
    if (production && !env.SMTP_URL) {
      ctx.addIssue({ code: "custom", path: ["SMTP_URL"], message: "is required in production" });
    }
    if (production && !env.MAIL_FROM) {
      ctx.addIssue({ code: "custom", path: ["MAIL_FROM"], message: "is required in production" });
    }
    if (production && !env.CODE_KEY) {
      ctx.addIssue({ code: "custom", path: ["CODE_KEY"], message: "is required in production" });
    }
    if (production && !env.CLAIM_KEY) {
      ctx.addIssue({ code: "custom", path: ["CLAIM_KEY"], message: "is required in production" });
    }
  })
  .transform((env) => ({
    env: env.NODE_ENV,
    http: {
      host: env.HOST,
      port: env.PORT,
      publicUrl: env.PUBLIC_URL ?? `http://${env.HOST}:${env.PORT}`,
      trustProxy: env.TRUST_PROXY ?? false,
      operatorToken: env.OPERATOR_TOKEN,
      streams: { maxPerClient: env.SSE_MAX_PER_IP, maxPerOrder: env.SSE_MAX_PER_ORDER },
      rateLimitPerMinute: env.RATE_LIMIT_PER_MINUTE,
      workers: env.API_WORKERS,
    },
    logLevel: env.LOG_LEVEL,
    database: { url: env.DATABASE_URL, poolSize: env.DATABASE_POOL_SIZE },
    redis: { url: env.REDIS_URL, prefix: env.REDIS_PREFIX },
    chain: {
      rpcUrl: env.CHAIN_RPC_URL,
      deploymentsDir: env.DEPLOYMENTS_DIR,
      relayerPrivateKey: env.RELAYER_PRIVATE_KEY,
    },
    ipfs: { apiUrl: env.IPFS_API_URL, dir: env.IPFS_DIR },
    content: { keys: env.CONTENT_KEYS ?? devContentKeys(env.SESSION_SECRET) },
    codes: { key: env.CODE_KEY ?? devCodeKey(env.SESSION_SECRET) },
    delivery: {
      linkTtlSeconds: env.DELIVERY_LINK_TTL_SECONDS,
      minFinality: env.DELIVERY_FINALITY,
      watermarkMaxBytes: env.WATERMARK_MAX_BYTES,
    },
    auth: {
      sessionSecret: env.SESSION_SECRET,
      sessionTtlSeconds: env.SESSION_TTL_SECONDS,
      // Never the request's Host: a phishing site could send its own.
      siweDomain: env.SIWE_DOMAIN ?? new URL(env.PUBLIC_URL ?? `http://${env.HOST}:${env.PORT}`).host,
      adminAddresses: env.ADMIN_ADDRESSES.map((a) => a.toLowerCase()),
    },
    uploads: {
      maxBytes: env.UPLOAD_MAX_BYTES,
      quotaBytes: env.UPLOAD_QUOTA_BYTES,
      stagingDir: env.UPLOAD_STAGING_DIR ?? path.join(tmpdir(), "rl-uploads"),
      previewMaxBytes: env.PREVIEW_MAX_BYTES,
      collectAfterSeconds: env.UPLOAD_COLLECT_AFTER_SECONDS,
      collectEverySeconds: env.UPLOAD_COLLECT_EVERY_SECONDS,
    },
    verify: {
      maxBytes: env.VERIFY_MAX_BYTES,
      concurrency: env.VERIFY_CONCURRENCY,
      zipLimits: {
        maxEntries: env.VERIFY_MAX_ENTRIES,
        maxEntryBytes: env.VERIFY_MAX_ENTRY_BYTES,
        maxTotalBytes: env.VERIFY_MAX_INFLATED_BYTES,
        maxRatio: env.VERIFY_MAX_RATIO,
        // Entries up to 1 MiB (manifests, receipts, headers) may compress as well as JSON does.
        ratioFloorBytes: MiB,
      },
    },
    web: { dir: env.WEB_DIR },
    notarize: {
      mode: env.NOTARIZE_MODE,
      batchMaxWorks: env.BATCH_MAX_WORKS,
      batchFlushSeconds: env.BATCH_FLUSH_SECONDS,
    },
    payments: {
      provider: env.PAYMENTS_PROVIDER ?? (env.NODE_ENV === "production" ? "stripe" : "dev"),
      stripeSecretKey: env.STRIPE_SECRET_KEY,
      webhookSecret: env.STRIPE_WEBHOOK_SECRET ?? devWebhookSecret(env.SESSION_SECRET),
      stripeApi: { host: env.STRIPE_API_HOST, port: env.STRIPE_API_PORT, protocol: env.STRIPE_API_PROTOCOL },
      revokerPrivateKey: env.REVOKER_PRIVATE_KEY,
    },
    checkout: {
      orderTtlSeconds: env.ORDER_TTL_SECONDS,
      holdSeconds: env.CHECKOUT_HOLD_SECONDS,
      sweepSeconds: env.ORDER_SWEEP_SECONDS,
      captureFinality: env.CAPTURE_FINALITY,
      returnUrl:
        env.CHECKOUT_RETURN_URL ?? `${env.PUBLIC_URL ?? `http://${env.HOST}:${env.PORT}`}/checkout/return`,
      minFiatPrice: env.CARD_MIN_PRICE,
      limits: {
        perWalletPerOffer: env.CHECKOUT_LIMIT_PER_WALLET_PER_OFFER,
        perIpPerOffer: env.CHECKOUT_LIMIT_PER_IP_PER_OFFER,
        velocityPerMinute: env.CHECKOUT_VELOCITY_PER_MINUTE,
        lookupPerMinute: env.ORDER_LOOKUP_PER_MINUTE,
      },
      claimTtlSeconds: env.CLAIM_LINK_TTL_SECONDS,
      claimKey: env.CLAIM_KEY ?? devClaimKey(env.SESSION_SECRET),
      holds: {
        perWalletPerOffer: env.CHECKOUT_HOLDS_PER_WALLET_PER_OFFER,
        perWallet: env.CHECKOUT_HOLDS_PER_WALLET,
        perIpPerOffer: env.CHECKOUT_HOLDS_PER_IP_PER_OFFER,
        perIp: env.CHECKOUT_HOLDS_PER_IP,
      },
    },
    payouts: {
      refundWindowSeconds: env.REFUND_WINDOW_SECONDS,
      // Card revenue is paid out only once it can no longer be refunded in the ordinary way.
      holdbackSeconds: env.SETTLEMENT_HOLDBACK_SECONDS ?? env.REFUND_WINDOW_SECONDS,
      settleEverySeconds: env.SETTLEMENT_EVERY_SECONDS,
      currency: env.SETTLEMENT_CURRENCY,
      maxPayees: env.SETTLEMENT_MAX_PAYEES,
      maxPaymentRefs: env.SETTLEMENT_MAX_PAYMENT_REFS,
    },
    gasBudget: {
      perWalletPerDay: env.RELAYER_GAS_PER_WALLET_PER_DAY,
      perDay: env.RELAYER_GAS_PER_DAY,
      gasPerUse: {
        registration: env.GAS_PER_REGISTRATION,
        offer: env.GAS_PER_OFFER,
        cardMint: env.GAS_PER_CARD_MINT,
        referrer: env.GAS_PER_REFERRER,
        split: env.GAS_PER_SPLIT,
      },
      gasPerItem: { split: env.GAS_PER_SPLIT_RECIPIENT },
    },
    operations: { stuckAfterSeconds: env.STUCK_AFTER_SECONDS },
    platform: {
      name: env.PLATFORM_NAME,
      postalAddress: env.PLATFORM_ADDRESS ?? null,
      taxId: env.PLATFORM_TAX_ID ?? null,
      publicUrl: env.PUBLIC_URL ?? `http://${env.HOST}:${env.PORT}`,
    },
    mail: {
      smtp: env.SMTP_URL ?? null,
      from: { name: env.PLATFORM_NAME, address: env.MAIL_FROM ?? "mail@rights-ledger.localhost" },
      sendTimeoutMs: env.MAIL_SEND_TIMEOUT_SECONDS * 1000,
      expiryReminderDays: env.EXPIRY_REMINDER_DAYS,
      expiryReminderEveryMs: env.EXPIRY_REMINDER_EVERY_SECONDS * 1000,
    },
    crashPoints: env.CRASH_POINTS ?? [],
    evidence: {
      signerKey: env.EVIDENCE_SIGNER_KEY ?? DEV_EVIDENCE_SIGNER_KEY,
      tsaUrl: env.TSA_URL,
      tsaCaFile: env.TSA_CA_FILE,
      // A development chain mines only when asked, so waiting for 12 blocks there would never end.
      minConfirmations:
        env.EVIDENCE_MIN_CONFIRMATIONS ?? (env.NODE_ENV === "production" ? PRODUCTION_MIN_CONFIRMATIONS : 1),
      dir: env.EVIDENCE_DIR,
      quotaBytes: env.EVIDENCE_QUOTA_BYTES,
      pendingMax: env.EVIDENCE_PENDING_MAX,
    },
    disputes: {
      dir: env.DISPUTE_EVIDENCE_DIR,
      limits: {
        maxFileBytes: env.DISPUTE_EVIDENCE_MAX_BYTES,
        quotaBytes: env.DISPUTE_EVIDENCE_QUOTA_BYTES,
        maxPieces: env.DISPUTE_EVIDENCE_MAX_PIECES,
      },
    },
  }));

/**
 * Outside production the webhook secret may be left unset: it is derived from the session secret,
 * so every API process of one deployment signs and verifies the local checkout's events alike.
 */
function devWebhookSecret(sessionSecret: string): string {
  return `whsec_dev_${createHmac("sha256", sessionSecret).update("stripe-webhook").digest("hex")}`;
}

/** Whether `url` names this machine: the only place a development chain runs. */
function isLoopbackUrl(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || (isIP(host) === 4 && host.startsWith("127."));
}

/** The validated server configuration, read once at start-up and passed down. */
export type Config = z.output<typeof envSchema>;

function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv): z.output<S> {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = schema.safeParse(cleaned);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const name = String(issue.path[0] ?? "configuration");
  const problem =
    (issue.code === "invalid_type" || issue.code === "invalid_value") && cleaned[name] === undefined
      ? "is required"
      : issue.message;
  throw new ConfigError(`invalid configuration: ${name} ${problem}`);
}

/**
 * Start-up checks that need the chain: outside production (dev RPC routes, dev payments) it must be
 * the local chain; in production the workers must hold the deployment's revoker key (its own, or
 * the relayer's when the relayer is the revoker), or refunded card licenses would stay valid.
 */
export function checkChain(config: Config, chain: { chainId: number; revoker: string }): void {
  if (config.env !== "production" && chain.chainId !== LOCAL_CHAIN_ID) {
    throw new ConfigError(
      `invalid configuration: CHAIN_RPC_URL serves chain ${chain.chainId}, not the local chain ${LOCAL_CHAIN_ID} that NODE_ENV=${config.env} needs`,
    );
  }
  const revoker = chain.revoker.toLowerCase();
  const key = config.payments.revokerPrivateKey;
  if (key !== undefined && computeAddress(key).toLowerCase() !== revoker) {
    throw new ConfigError(
      `invalid configuration: REVOKER_PRIVATE_KEY is not the key of the deployment's revoker ${getAddress(revoker)}`,
    );
  }
  if (
    config.env === "production" &&
    key === undefined &&
    computeAddress(config.chain.relayerPrivateKey).toLowerCase() !== revoker
  ) {
    throw new ConfigError(
      `invalid configuration: REVOKER_PRIVATE_KEY is required in production: the deployment's revoker ${getAddress(revoker)} is not the relayer`,
    );
  }
}

/** Reads and validates the configuration from environment variables. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return parseEnv(envSchema, env);
}

const operatorSchema = z
  .object({
    DATABASE_URL: url(["postgres", "postgresql"]),
    REDIS_URL: url(["redis", "rediss"]),
    REDIS_PREFIX: redisPrefix,
    STUCK_AFTER_SECONDS: positiveInt.default(DEFAULT_STUCK_AFTER_SECONDS),
  })
  .transform((env) => ({
    database: { url: env.DATABASE_URL },
    redis: { url: env.REDIS_URL, prefix: env.REDIS_PREFIX },
    operations: { stuckAfterSeconds: env.STUCK_AFTER_SECONDS },
  }));

const contentKeysSchema = z
  .object({
    NODE_ENV: z.enum(["development", "production", "test"]),
    DATABASE_URL: url(["postgres", "postgresql"]),
    SESSION_SECRET: z.string().min(32, "must be at least 32 characters"),
    CONTENT_KEYS: contentKeys.optional(),
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV === "production" && !env.CONTENT_KEYS) {
      ctx.addIssue({ code: "custom", path: ["CONTENT_KEYS"], message: "is required in production" });
    }
  })
  .transform((env) => ({
    database: { url: env.DATABASE_URL },
    content: { keys: env.CONTENT_KEYS ?? devContentKeys(env.SESSION_SECRET) },
  }));

/** What `npm run rotate-content-keys` needs: the database and the key-encryption keys. */
export type ContentKeysConfig = z.output<typeof contentKeysSchema>;

export function loadContentKeysConfig(env: NodeJS.ProcessEnv = process.env): ContentKeysConfig {
  return parseEnv(contentKeysSchema, env);
}

/** What operator commands need (`npm run stuck`): the database, Redis and the stuck thresholds. */
export type OperatorConfig = z.output<typeof operatorSchema>;

export function loadOperatorConfig(env: NodeJS.ProcessEnv = process.env): OperatorConfig {
  return parseEnv(operatorSchema, env);
}

/** What `load` reads, or exit with its one-line error: for process entry points. */
export function configOrExit<C>(load: () => C): C {
  try {
    return load();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    process.exit(1);
  }
}

/** The configuration, or exit with its one-line error: for process entry points. */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): Config {
  return configOrExit(() => loadConfig(env));
}
