import { Router } from "express";
import { z } from "zod";
import type { OpenApiRegistry } from "../http/openapi.ts";
import { route } from "../http/route.ts";
import { addressSchema, finalitySchema } from "../../lib/api/primitives.ts";
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
      query: z.object({ owner: addressSchema }),
      responses: {
        200: {
          description: "Holdings",
          schema: z.object({
            items: z.array(
              z
                .object({
                  token: z.string(),
                  itemId: z.string(),
                  balance: z.string(),
                  uri: z.string().nullable(),
                  maxSupply: z.string().nullable().describe("0 for uncapped"),
                  finality: finalitySchema,
                })
                .meta({ id: "ItemHolding" }),
            ),
          }),
        },
      },
    },
    async ({ query }) => service.items(query.owner),
  );

  return router;
}
