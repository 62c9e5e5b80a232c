import { Router } from "express";
import type { OpenApiRegistry } from "../http/openapi.ts";
import { route } from "../http/route.ts";
import { holdingsSchema, itemsQuery } from "../../lib/api/items.ts";
import type { TradesService } from "../services/trades.ts";

/** Game items a wallet holds, as indexed. */
export function itemsRouter(service: TradesService, registry: OpenApiRegistry): Router {
  const router = Router();

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/items",
      summary: "Game items a wallet holds (items in escrow belong to the escrow until the trade ends)",
      tags: ["trades"],
      query: itemsQuery,
      responses: {
        200: {
          description: "Holdings",
          schema: holdingsSchema,
        },
      },
    },
    async ({ query }) => service.items(query.owner),
  );

  return router;
}
