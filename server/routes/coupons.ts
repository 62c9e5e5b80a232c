import { Router } from "express";
import { requireSession } from "../auth/middleware.ts";
import type { OpenApiRegistry } from "../http/openapi.ts";
import { route } from "../http/route.ts";
import { couponSchema, couponsSchema, createCouponBody } from "../../lib/api/promotions.ts";
import type { CouponsService } from "../promotions/coupons.ts";

/** Coupons: a signed-in creator gives them for their offers and reads their uses. */
export function couponsRouter(coupons: CouponsService, registry: OpenApiRegistry): Router {
  const router = Router();

  route(
    router,
    registry,
    {
      method: "post",
      path: "/v1/coupons",
      summary:
        "Give a coupon for some of the signed-in creator's offers: a percentage or a fixed amount off the card price, with total and per-buyer limits and a validity window",
      tags: ["promotions"],
      security: ["session"],
      body: createCouponBody,
      responses: {
        201: { description: "The coupon", schema: couponSchema },
        403: { description: "An offer of another creator" },
        404: { description: "An unknown offer" },
        409: { description: "The creator has a coupon of that code already" },
      },
    },
    async ({ body, req }) => coupons.create(requireSession(req).address, body),
  );

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/coupons",
      summary: "The signed-in creator's coupons with their uses",
      tags: ["promotions"],
      security: ["session"],
      responses: { 200: { description: "Coupons", schema: couponsSchema } },
    },
    async ({ req }) => coupons.list(requireSession(req).address),
  );

  return router;
}
