import { Router } from "express";
import type { OpenApiRegistry } from "../http/openapi.ts";
import { route } from "../http/route.ts";
import {
  holdingsSchema,
  itemHistoryQuery,
  itemHistorySchema,
  itemParams,
  itemSchema,
  itemsQuery,
} from "../../lib/api/items.ts";
import type { MarketService } from "../market/market.ts";

/** Game items: what a wallet holds, each item type with its metadata, and an item's provenance. */
export function itemsRouter(market: MarketService, registry: OpenApiRegistry): Router {
  const router = Router();

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/items",
      summary:
        "Game items a wallet holds with their metadata (items in escrow belong to the escrow until the trade ends)",
      tags: ["trades"],
      query: itemsQuery,
      responses: { 200: { description: "Holdings", schema: holdingsSchema } },
    },
    async ({ query }) => market.holdings(query.owner),
  );

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/items/:itemId",
      summary: "An item type: its metadata from its ERC-1155 URI, supply, holders and open listings",
      tags: ["trades"],
      params: itemParams,
      responses: { 200: { description: "Item", schema: itemSchema } },
    },
    async ({ params }) => market.item(params.itemId),
  );

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/items/:itemId/history",
      summary: "An item's provenance, newest first: mints, transfers, burns and escrow events, with finality",
      tags: ["trades"],
      params: itemParams,
      query: itemHistoryQuery,
      responses: { 200: { description: "A page of provenance steps", schema: itemHistorySchema } },
    },
    async ({ params, query }) => market.itemHistory(params.itemId, query),
  );

  return router;
}
