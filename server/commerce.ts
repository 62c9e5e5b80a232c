import type { Router } from "express";
import type { marketQuery } from "../lib/api/market.ts";
import type { Redis } from "ioredis";
import type { Pool } from "pg";
import type { Logger } from "pino";
import { SplitFactory__factory } from "../types/typechain/index.ts";
import type { Chain } from "./chain/chain.ts";
import { ChainHeadsCache } from "./chain/chain-heads.ts";
import type { ChangeFeed } from "./chain/change-feed.ts";
import type { Config } from "./config.ts";
import type { GasBudget } from "./services/gas-budget.ts";
import type { IpfsStore } from "./ipfs/store.ts";
import { DisputeStore } from "./market/dispute-store.ts";
import { DisputesService } from "./market/disputes.ts";
import { EvidenceFiles } from "./market/evidence-files.ts";
import { MarketStore } from "./market/market-store.ts";
import { MarketService } from "./market/market.ts";
import { MetadataStore } from "./market/metadata-store.ts";
import { NotificationStore } from "./market/notification-store.ts";
import { NotificationsService } from "./market/notifications.ts";
import { TradeEvents } from "./market/trade-events.ts";
import { TradeStreams } from "./market/trade-streams.ts";
import { disputesRouter } from "./routes/disputes.ts";
import { marketListingsRoute, marketRouter } from "./routes/market.ts";
import { notificationsRouter } from "./routes/notifications.ts";
import { isWithheld } from "./services/uploads.ts";
import type { Checkpoint } from "./crash-points.ts";
import type { HotPath, HotRoute } from "./http/hot-route.ts";
import type { OpenApiRegistry } from "./http/openapi.ts";
import type { Outbox } from "./queues/outbox.ts";
import type { Queues } from "./queues/queues.ts";
import { OrderSecrets } from "./auth/order-secrets.ts";
import { ApiKeys } from "./auth/api-keys.ts";
import type { ChainClock } from "./chain/chain-clock.ts";
import { createPaymentProvider } from "./payments/create-provider.ts";
import { DevPaymentProvider } from "./payments/dev.ts";
import { OrderBatches } from "./orders/batches.ts";
import { TradesRepository } from "./repositories/trades.ts";
import { WorksRepository } from "./repositories/works.ts";
import { checkoutRouter } from "./routes/checkout.ts";
import { claimsRouter } from "./routes/claims.ts";
import { ClaimsService } from "./orders/claims.ts";
import { clientOf } from "./http/client-address.ts";
import { RateLimit } from "./http/rate-limit.ts";
import { codesRouter } from "./routes/codes.ts";
import { couponsRouter } from "./routes/coupons.ts";
import { CouponsService } from "./promotions/coupons.ts";
import { salesRouter } from "./routes/sales.ts";
import { SalesService } from "./promotions/sales.ts";
import { CodeCipher } from "./codes/code-cipher.ts";
import { CodesService } from "./codes/codes.ts";
import { devCheckoutRouter } from "./routes/dev-checkout.ts";
import { itemsRouter } from "./routes/items.ts";
import { offersRouter } from "./routes/offers.ts";
import { ordersRouter } from "./routes/orders.ts";
import { referrersRouter } from "./routes/referrers.ts";
import { splitsRouter } from "./routes/splits.ts";
import { tradesRouter } from "./routes/trades.ts";
import { webhookPath, webhooksRouter } from "./routes/webhooks.ts";
import { CheckoutService } from "./orders/checkout.ts";
import { OffersService } from "./services/offers.ts";
import { ReferrersService } from "./services/referrers.ts";
import { OrderEvents } from "./orders/events.ts";
import { OrderStreams } from "./orders/streams.ts";
import { OrdersService } from "./orders/orders.ts";
import { SplitsService } from "./services/splits.ts";
import { TradesService } from "./services/trades.ts";
import { WebhookService } from "./orders/webhooks.ts";
import { RefundsService } from "./refunds/refunds.ts";
import { refundsRouter } from "./routes/refunds.ts";

export interface CommerceDeps {
  config: Config;
  db: Pool;
  redis: Redis;
  chain: Chain;
  queues: Queues;
  outbox: Outbox;
  feed: ChangeFeed;
  logger: Logger;
  checkpoint: Checkpoint;
  gasBudget: GasBudget;
  clock: ChainClock;
  ipfs: IpfsStore;
}

export interface CommerceRouters {
  /** Payment webhooks: mount before any body parser (their signatures cover the raw body). */
  webhooks: Router;
  /** The payment webhooks' route, for the API to answer ahead of Express as well (see hot-route.ts). */
  webhookPath: HotPath<true>;
  /** Offers and their referrers, splits, checkout, orders, trades, the market, disputes, items, notifications, redemption codes, and the local checkout page in dev mode. */
  api: Router[];
  /** Card orders as their buyers read them, for the routes that serve buyers beyond commerce (delivery). */
  orders: OrdersService;
  /** The market's listings search, for the API to answer ahead of Express (see hot-route.ts). */
  marketListings: HotRoute<typeof marketQuery>;
}

/** The commerce part of the API: offers, card checkout, orders and escrowed trades. */
export function commerceRouters(deps: CommerceDeps, registry: OpenApiRegistry): CommerceRouters {
  const { config, db, redis, chain, queues, outbox, feed, logger, checkpoint, gasBudget, clock, ipfs } = deps;
  const { deployment, chainId, provider } = chain;
  const payments = createPaymentProvider(config, db);
  const events = new OrderEvents(redis, config.redis.prefix, logger);
  const secrets = new OrderSecrets(config.auth.sessionSecret);
  const works = new WorksRepository(db, chainId);
  const chainHeads = new ChainHeadsCache(() => works.heads(), feed, chainId);
  const heads = () => chainHeads.heads();
  const licenseTokenAddress = deployment.contracts.LicenseToken.address;

  const refunds = new RefundsService({
    db,
    outbox,
    events,
    secrets,
    clock,
    platformWindowSeconds: config.payouts.refundWindowSeconds,
    logger,
  });
  const webhooks = new WebhookService({
    refunds,
    db,
    orders: new OrderBatches(db, chainId, outbox),
    outbox,
    payments,
    events,
    queues,
    logger,
    checkpoint,
  });
  const checkout = new CheckoutService({
    db,
    redis,
    redisPrefix: config.redis.prefix,
    payments,
    events,
    settings: config.checkout,
    gasBudget,
    secrets,
    unpayable: new Set(
      [...Object.values(deployment.contracts).map((c) => c.address), deployment.settlementToken].map((a) =>
        a.toLowerCase(),
      ),
    ),
  });
  const orders = new OrdersService({
    db,
    heads,
    chainId,
    licenseTokenAddress,
    revokerAddress: deployment.roles.revoker,
    secrets,
    issuer: config.platform,
  });
  const offers = new OffersService({
    db,
    outbox,
    works,
    chainId,
    licenseTokenAddress,
    gasBudget,
    clock,
    minFiatPrice: config.checkout.minFiatPrice,
  });
  const referrers = new ReferrersService({
    db,
    outbox,
    works,
    chainId,
    licenseTokenAddress,
    gasBudget,
    clock,
    unpayable: [deployment.contracts.PayoutSettlement.address, deployment.roles.settlementTreasury],
  });
  const splits = new SplitsService({
    db,
    outbox,
    factory: SplitFactory__factory.connect(deployment.contracts.SplitFactory.address, provider),
    chainId,
    gasBudget,
    clock,
  });
  const codes = new CodesService({
    db,
    apiKeys: new ApiKeys(db),
    outbox,
    cipher: new CodeCipher(config.codes.key),
    heads,
    chainId,
    commitmentsAddress: deployment.contracts.CodeCommitments.address,
  });
  const indexedTrades = new TradesRepository(db);
  const trades = new TradesService({
    provider,
    deployment,
    chainId,
    trades: indexedTrades,
    heads,
  });
  const market = new MarketService({
    provider,
    deployment,
    market: new MarketStore(db, deployment.contracts.GameItems.address.toLowerCase()),
    metadata: new MetadataStore(db),
    sources: { ipfs, isPrivate: (cid) => isWithheld(db, cid) },
    clock,
    heads,
  });
  const marketListings = marketListingsRoute(market);
  const tradeEvents = new TradeEvents(redis, config.redis.prefix, logger);
  const disputes = new DisputesService({
    store: new DisputeStore(db),
    trades,
    indexed: indexedTrades,
    files: new EvidenceFiles(config.disputes.dir),
    events: tradeEvents,
    limits: config.disputes.limits,
    admin: deployment.roles.admin.toLowerCase(),
    heads,
  });
  const tradeStreams = new TradeStreams({
    read: (id) => disputes.trade(id),
    activity: (id) => disputes.activity(id),
    feed,
    events: tradeEvents,
    limits: { maxPerClient: config.http.streams.maxPerClient, maxPerTrade: config.http.streams.maxPerOrder },
    logger,
  });

  // The route counts each lookup by its client and by its email address (RateLimit.admit).
  const lookupLimit = (rule: string) =>
    new RateLimit({
      redis,
      prefix: config.redis.prefix,
      rule,
      limit: config.checkout.limits.lookupPerMinute,
      windowSeconds: 60,
      key: clientOf,
    });
  const api = [
    offersRouter(offers, registry),
    referrersRouter(referrers, registry),
    splitsRouter(splits, registry),
    checkoutRouter(checkout, orders, secrets, registry),
    ordersRouter(
      {
        orders,
        streams: new OrderStreams({ orders, events, feed, limits: config.http.streams, logger }),
        lookupLimits: {
          perClient: lookupLimit("order-lookup-per-ip"),
          perEmail: lookupLimit("order-lookup-per-email"),
        },
      },
      registry,
    ),
    claimsRouter(
      new ClaimsService({
        db,
        outbox,
        events,
        settings: { ttlSeconds: config.checkout.claimTtlSeconds, key: config.checkout.claimKey },
      }),
      orders,
      registry,
    ),
    tradesRouter(trades, tradeStreams, registry),
    disputesRouter(disputes, registry),
    marketRouter(market, marketListings, trades, registry),
    itemsRouter(market, registry),
    notificationsRouter(new NotificationsService(new NotificationStore(db)), registry),
    codesRouter({ codes, orders }, registry),
    refundsRouter(refunds, registry),
    couponsRouter(new CouponsService(db), registry),
    salesRouter(new SalesService({ db, minFiatPrice: config.checkout.minFiatPrice }), registry),
  ];
  if (payments instanceof DevPaymentProvider) api.push(devCheckoutRouter(payments, secrets));
  return {
    webhooks: webhooksRouter(webhooks, registry),
    webhookPath: webhookPath(webhooks),
    api,
    orders,
    marketListings,
  };
}
