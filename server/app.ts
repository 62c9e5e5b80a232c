import express, { type Express } from "express";
import helmet from "helmet";
import type { Redis } from "ioredis";
import type { Pool } from "pg";
import type { Logger } from "pino";
import { Registry, collectDefaultMetrics, Histogram } from "prom-client";
import { computeAddress, JsonRpcApiProvider } from "ethers";
import { httpRpc, type RpcSender } from "../lib/evidence/rpc.ts";
import { ApiKeys } from "./auth/api-keys.ts";
import { authenticate } from "./auth/middleware.ts";
import { commerceRouters } from "./commerce.ts";
import { SessionTokens } from "./auth/session.ts";
import { SessionDenyList } from "./auth/session-deny-list.ts";
import type { Config } from "./config.ts";
import { noCrashes, type Checkpoint } from "./crash-points.ts";
import { errorHandler, routeNotFound } from "./errors.ts";
import { clientOf } from "./http/client-address.ts";
import { OpenApiRegistry } from "./http/openapi.ts";
import { registerOperationsMetrics } from "./http/operations-metrics.ts";
import { answerAheadOfExpress, serveAheadOfExpress } from "./http/hot-route.ts";
import { RateLimit } from "./http/rate-limit.ts";
import { registerPayoutMetrics } from "./http/payout-metrics.ts";
import { useRequestLog } from "./http/request-log.ts";
import type { IpfsStore } from "./ipfs/store.ts";
import { ContentKeys } from "./content/content-keys.ts";
import { DeliveryService } from "./delivery/deliveries.ts";
import { DownloadLinks } from "./delivery/links.ts";
import { Watermarks } from "./delivery/watermarks.ts";
import { deliveriesRouter, downloadPath } from "./routes/deliveries.ts";
import { Originals } from "./content/originals.ts";
import { apiKeysRouter } from "./routes/api-keys.ts";
import { authRouter } from "./routes/auth.ts";
import { chainRouter } from "./routes/chain.ts";
import { devRouter } from "./routes/dev.ts";
import { devMailRouter, type CaughtMailbox } from "./routes/dev-mail.ts";
import { docsRouter } from "./routes/docs.ts";
import { evidenceVerifyRouter } from "./routes/evidence-verify.ts";
import { earningsRouter } from "./routes/earnings.ts";
import { evidenceRouter } from "./routes/evidence.ts";
import { healthRouter } from "./routes/health.ts";
import { ipfsRouter } from "./routes/ipfs.ts";
import { licensesRouter, verifyRoute } from "./routes/licenses.ts";
import { LicensesService } from "./services/licenses.ts";
import { WorkLookup } from "./services/work-lookup.ts";
import { webRouter } from "./routes/web.ts";
import { worksRouter } from "./routes/works.ts";
import { ChainClock } from "./chain/chain-clock.ts";
import type { ChangeFeed } from "./chain/change-feed.ts";
import { Outbox } from "./queues/outbox.ts";
import type { Queues } from "./queues/queues.ts";
import { Recoveries } from "./recoveries.ts";
import { EvidenceFactsRepository } from "./repositories/evidence-facts.ts";
import type { Chain } from "./chain/chain.ts";
import { EvidenceRequestsRepository } from "./repositories/evidence-requests.ts";
import { EvidenceBundleStore } from "./evidence/bundle-store.ts";
import { LicensesRepository } from "./repositories/licenses.ts";
import { WorksRepository } from "./repositories/works.ts";
import { EvidenceService } from "./services/evidence.ts";
import { EarningsService } from "./payouts/earnings.ts";
import { SplitBalances } from "./payouts/split-balances.ts";
import { GasBudget } from "./services/gas-budget.ts";
import { LicenseVerifier } from "./services/license-verifier.ts";
import { PLATFORM_STEP_SECONDS } from "./services/stuck-items.ts";
import { isWithheld } from "./services/uploads.ts";
import { WorksService } from "./services/works.ts";

export interface AppDeps {
  config: Config;
  db: Pool;
  redis: Redis;
  chain: Chain;
  ipfs: IpfsStore;
  queues: Queues;
  feed: ChangeFeed;
  logger: Logger;
  /** Crash points the API passes (tests only). */
  checkpoint?: Checkpoint;
  /** The development stack's SMTP catcher, shown at /dev/mail (never in production). */
  caughtMail?: CaughtMailbox;
}

/** Builds the HTTP API with explicit dependencies; nothing connects here. */
export function createApp(deps: AppDeps): Express {
  const { config, db, redis, chain, ipfs, queues, feed, logger } = deps;
  const checkpoint = deps.checkpoint ?? noCrashes;
  const recoveries = new Recoveries(redis, config.redis.prefix, logger);
  // Jobs promised by changes the API commits, queued right after each commit.
  const outbox = new Outbox({ db, queues, logger, recoveries, checkpoint });
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", config.http.trustProxy);
  app.set("query parser", "simple");
  // API answers are computed per request; hashing each body for an ETag would only cost time.
  app.set("etag", false);

  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });
  const httpDuration = new Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request duration by route and status",
    labelNames: ["method", "route", "status"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [metrics],
  });
  registerOperationsMetrics(metrics, {
    db,
    redis,
    redisPrefix: config.redis.prefix,
    queues,
    thresholds: { platformSeconds: PLATFORM_STEP_SECONDS, chainSeconds: config.operations.stuckAfterSeconds },
  });
  let decimals: Promise<number> | null = null;
  registerPayoutMetrics(metrics, {
    db,
    currency: config.payouts.currency,
    decimals: () =>
      (decimals ??= chain.settlementToken
        .decimals()
        .then(Number)
        .catch((err: unknown) => {
          decimals = null;
          throw err;
        })),
  });

  useRequestLog(app, {
    logger,
    duration: httpDuration,
    quiet: (req) =>
      req.url === "/healthz" || req.url === "/metrics" || req.url.startsWith("/v1/licenses/verify?"),
  });
  const securityHeaders = helmet({
    contentSecurityPolicy: {
      directives: {
        "connect-src": ["'self'"],
        // Plain-HTTP development servers on a LAN address must not have their requests upgraded.
        "upgrade-insecure-requests": config.env === "production" ? [] : null,
      },
    },
  });
  app.use(securityHeaders);
  app.use(
    healthRouter({
      db,
      redis,
      provider: chain.provider,
      ipfs,
      metrics,
      logger,
      operatorToken: config.http.operatorToken,
    }),
  );
  const registry = new OpenApiRegistry();
  const gasBudget = new GasBudget(redis, config.redis.prefix, config.gasBudget, metrics);
  const clock = new ChainClock(chain.provider);
  const commerce = commerceRouters(
    { config, db, redis, chain, queues, outbox, feed, logger, checkpoint, gasBudget, clock, ipfs },
    registry,
  );
  app.use(commerce.webhooks);
  const perClient = new RateLimit({
    redis,
    prefix: config.redis.prefix,
    rule: "per-ip",
    limit: config.http.rateLimitPerMinute,
    windowSeconds: 60,
    key: clientOf,
  });
  app.use(perClient.middleware());
  app.use(express.json({ limit: "256kb" }));

  const tokens = new SessionTokens(config.auth.sessionSecret, config.auth.sessionTtlSeconds);
  const apiKeys = new ApiKeys(db);
  const admins = new Set([...config.auth.adminAddresses, chain.deployment.roles.admin.toLowerCase()]);
  const denied = new SessionDenyList(redis, config.redis.prefix, config.auth.sessionTtlSeconds);
  app.use(authenticate(tokens, apiKeys, denied));

  const works = new WorksRepository(db, chain.chainId);
  const licenses = new LicensesRepository(db);
  const verifier = new LicenseVerifier(licenses, works, feed, clock);
  const verify = verifyRoute(verifier);
  // The verify, market search and webhook hot paths are answered ahead of Express; what they pass on is routed as usual.
  const hotDeps = { logger, duration: httpDuration, securityHeaders, limit: perClient };
  serveAheadOfExpress(app, hotDeps, verify);
  serveAheadOfExpress(app, hotDeps, commerce.marketListings);
  answerAheadOfExpress(app, hotDeps, commerce.webhookPath);
  app.use(licensesRouter(new LicensesService(licenses, works, clock), verify, registry));

  app.use(
    authRouter(
      {
        redis,
        redisPrefix: config.redis.prefix,
        tokens,
        denied,
        provider: chain.provider,
        chainId: chain.chainId,
        domain: config.auth.siweDomain,
        isAdmin: (address) => admins.has(address),
      },
      registry,
    ),
  );
  app.use(apiKeysRouter(apiKeys, registry));
  app.use(ipfsRouter(ipfs, (cid) => isWithheld(db, cid)));
  app.use(chainRouter(chain.chainId, chain.deployment, registry));
  const rpc: RpcSender =
    chain.provider instanceof JsonRpcApiProvider ? chain.provider : httpRpc(config.chain.rpcUrl);
  if (config.env !== "production")
    app.use(devRouter({ send: (m, p) => rpc.send(m, p), chainId: chain.chainId }, registry));
  if (config.env !== "production" && deps.caughtMail) app.use(devMailRouter(deps.caughtMail, registry));

  const originals = new Originals(ipfs, new ContentKeys(config.content.keys));
  const worksService = new WorksService({
    db,
    ipfs,
    originals,
    queues,
    outbox,
    batchCounter: { add: () => redis.incr(`${config.redis.prefix}:notarize:batch-counter`) },
    works,
    chainId: chain.chainId,
    registryAddress: chain.deployment.contracts.WorkRegistry.address,
    clock,
    uploads: {
      maxUploadBytes: config.uploads.maxBytes,
      quotaBytes: config.uploads.quotaBytes,
      stagingDir: config.uploads.stagingDir,
      previewMaxBytes: config.uploads.previewMaxBytes,
    },
    mode: config.notarize.mode,
    batchMaxWorks: config.notarize.batchMaxWorks,
    gasBudget,
  });
  app.use(worksRouter(worksService, new WorkLookup(works), registry));
  const deliveries = new DeliveryService({
    db,
    works,
    verifier,
    orders: commerce.orders,
    links: new DownloadLinks(config.auth.sessionSecret),
    clock,
    watermarks: new Watermarks(config.auth.sessionSecret),
    ...config.delivery,
  });
  const download = downloadPath(deliveries, originals);
  // Signed downloads are answered ahead of Express too; what the hot path passes on is routed below.
  answerAheadOfExpress(app, hotDeps, download);
  app.use(
    deliveriesRouter(
      deliveries,
      download,
      { stagingDir: config.uploads.stagingDir, maxBytes: config.delivery.watermarkMaxBytes },
      registry,
    ),
  );
  const evidence = new EvidenceService({
    requests: new EvidenceRequestsRepository(db),
    facts: new EvidenceFactsRepository(db),
    ipfs,
    outbox,
    bundles: new EvidenceBundleStore(config.evidence.dir),
    quotaBytes: config.evidence.quotaBytes,
    pendingMax: config.evidence.pendingMax,
  });
  app.use(evidenceRouter(evidence, registry));
  app.use(...commerce.api);
  app.use(
    earningsRouter(
      new EarningsService({
        db,
        balances: new SplitBalances(chain.provider),
        settlementToken: chain.deployment.settlementToken.toLowerCase(),
        clock,
      }),
      registry,
    ),
  );
  app.use(
    evidenceVerifyRouter(
      {
        provider: rpc,
        expectedSigner: computeAddress(config.evidence.signerKey),
        minConfirmations: config.evidence.minConfirmations,
        ...config.verify,
      },
      registry,
    ),
  );
  app.use(
    docsRouter(() =>
      registry.document(
        {
          title: "Rights Ledger API",
          version: "1",
          description: "Register works, sell and verify licenses, trade items, export evidence.",
        },
        config.http.publicUrl,
      ),
    ),
  );

  app.use(webRouter(config.web.dir));
  app.use(routeNotFound);
  app.use(errorHandler(logger));
  return app;
}
