import { Router } from "express";
import { z } from "zod";
import { requireAdmin } from "../auth/middleware.ts";
import type { HotRoute } from "../http/hot-route.ts";
import type { OpenApiRegistry } from "../http/openapi.ts";
import { route } from "../http/route.ts";
import { idSchema } from "../../lib/api/primitives.ts";
import {
  listingPageSchema,
  marketPageSchema,
  marketQuery,
  marketSettingsSchema,
  sellerParams,
  sellerReputationSchema,
  setCommissionBody,
} from "../../lib/api/market.ts";
import { transactionRequestsSchema } from "../../lib/api/transactions.ts";
import type { MarketService } from "../market/market.ts";
import type { TradesService } from "../services/trades.ts";

const idParams = z.object({ id: idSchema });

/** GET /v1/market/listings: the Market page's searches, served ahead of Express (see hot-route.ts) and by the router. */
export function marketListingsRoute(market: MarketService): HotRoute<typeof marketQuery> {
  return {
    path: "/v1/market/listings",
    query: marketQuery,
    answer: (query) => market.listings(query),
    logged: true,
  };
}

/** The market: open listings of every player, a listing's page, sellers' records, and its settings. */
export function marketRouter(
  market: MarketService,
  listings: HotRoute<typeof marketQuery>,
  trades: TradesService,
  registry: OpenApiRegistry,
): Router {
  const router = Router();

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/market/settings",
      summary:
        "The commission new listings are made at, the escrow's windows, and the currencies the app knows",
      tags: ["market"],
      responses: { 200: { description: "Market settings", schema: marketSettingsSchema } },
    },
    async () => market.settings(),
  );

  route(
    router,
    registry,
    {
      method: "get",
      path: listings.path,
      summary:
        "Open listings of every player (not bought, not past their deadline): searched by item name, filtered by item, seller, currency and price, sorted, keyset-paged",
      tags: ["market"],
      query: marketQuery,
      responses: { 200: { description: "A page of open listings", schema: marketPageSchema } },
    },
    async ({ query, res }) => listings.answer(query, res),
  );

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/market/listings/:id",
      summary:
        "A listing in any state: the item, what a sale pays the seller after commission, its history, the seller's record and the item's provenance",
      tags: ["market"],
      params: idParams,
      responses: { 200: { description: "Listing", schema: listingPageSchema } },
    },
    async ({ params }) => market.listingPage(params.id),
  );

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/market/sellers/:address",
      summary: "A wallet's record as a trader: trades completed, disputes lost, won and lapsed",
      tags: ["market"],
      params: sellerParams,
      responses: { 200: { description: "Reputation", schema: sellerReputationSchema } },
    },
    async ({ params }) => market.reputation(params.address),
  );

  route(
    router,
    registry,
    {
      method: "post",
      path: "/v1/admin/market/commission",
      summary: "The commission of new listings (at most 15%), for the admin's wallet to sign",
      tags: ["admin"],
      security: ["session", "apiKey"],
      body: setCommissionBody,
      responses: { 200: { description: "Transactions to sign", schema: transactionRequestsSchema } },
    },
    async ({ body, req }) => {
      requireAdmin(req);
      return { transactions: trades.prepareSetCommission(body.commissionBps) };
    },
  );

  return router;
}
