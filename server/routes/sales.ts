import { Router } from "express";
import { z } from "zod";
import { requireSession } from "../auth/middleware.ts";
import type { OpenApiRegistry } from "../http/openapi.ts";
import { route } from "../http/route.ts";
import { idSchema } from "../../lib/api/primitives.ts";
import { createSaleBody, saleSchema, salesSchema } from "../../lib/api/promotions.ts";
import type { SalesService } from "../promotions/sales.ts";

/** Sale windows of an offer: its creator, signed in, sets and ends them; everyone reads them. */
export function salesRouter(sales: SalesService, registry: OpenApiRegistry): Router {
  const router = Router();

  route(
    router,
    registry,
    {
      method: "post",
      path: "/v1/offers/:id/sales",
      summary:
        "Set a sale window on the signed-in creator's offer: a card price below its own from startsAt to endsAt, a number of orders per wallet and, optionally, in all",
      tags: ["promotions"],
      security: ["session"],
      params: z.object({ id: idSchema }),
      body: createSaleBody,
      responses: {
        201: { description: "The sale", schema: saleSchema },
        400: { description: "A malformed sale, a price not below the card price or below the floor" },
        403: { description: "An offer of another creator" },
        404: { description: "An unknown offer" },
        409: { description: "The window overlaps another sale of the offer, or the offer has no card price" },
      },
    },
    async ({ params, body, req }) => sales.create(params.id, requireSession(req).address, body),
  );

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/offers/:id/sales",
      summary: "The offer's sale windows on now or still to come, soonest first",
      tags: ["promotions"],
      params: z.object({ id: idSchema }),
      responses: {
        200: { description: "Sales", schema: salesSchema },
        404: { description: "An unknown offer" },
      },
    },
    async ({ params }) => sales.list(params.id),
  );

  route(
    router,
    registry,
    {
      method: "delete",
      path: "/v1/offers/:id/sales/:saleId",
      summary:
        "End a sale now (its orders keep their price), or remove one still to come; the offer's creator, signed in",
      tags: ["promotions"],
      security: ["session"],
      params: z.object({ id: idSchema, saleId: z.uuid() }),
      responses: {
        200: { description: "The sale as it ended", schema: saleSchema },
        403: { description: "An offer of another creator" },
        404: { description: "An unknown offer or sale" },
        409: { description: "The sale has ended already" },
      },
    },
    async ({ params, req }) => sales.end(params.id, params.saleId, requireSession(req).address),
  );

  return router;
}
