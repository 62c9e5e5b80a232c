import { Router } from "express";
import { z } from "zod";
import { requireSession } from "../auth/middleware.ts";
import type { OpenApiRegistry } from "../http/openapi.ts";
import { route } from "../http/route.ts";
import { idSchema } from "../../lib/api/primitives.ts";
import {
  offerReferrersSchema,
  referrerParams,
  referrerRequestSchema,
  setReferrerBody,
} from "../../lib/api/referrers.ts";
import type { ReferrersService } from "../services/referrers.ts";

/** Referral approvals of an offer: its creator, signed in, approves referrers and reads them. */
export function referrersRouter(service: ReferrersService, registry: OpenApiRegistry): Router {
  const router = Router();

  route(
    router,
    registry,
    {
      method: "put",
      path: "/v1/offers/:id/referrers/:address",
      summary:
        "Approve or withdraw a referrer of an offer (its creator, signed in, with an EIP-712 SetReferrer signature); the relayer sends setReferrerFor",
      tags: ["offers"],
      security: ["session"],
      params: referrerParams,
      body: setReferrerBody,
      responses: {
        202: {
          description: "Accepted; GET /v1/offers/:id/referrers shows it",
          schema: referrerRequestSchema,
        },
        403: { description: "Another creator's offer, or a signature by another wallet" },
        404: { description: "No such offer" },
        409: { description: "The nonce was used for another approval or an offer" },
        429: { description: "The creator's or the day's gas budget is spent" },
      },
    },
    async ({ params, body, req }) =>
      service.set(params.id, params.address, requireSession(req).address, body),
  );

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/offers/:id/referrers",
      summary: "An offer's referrer approvals and the approvals on their way (its creator, signed in)",
      tags: ["offers"],
      security: ["session"],
      params: z.object({ id: idSchema }),
      responses: {
        200: { description: "Approvals", schema: offerReferrersSchema },
        403: { description: "Another creator's offer" },
        404: { description: "No such offer" },
      },
    },
    async ({ params, req }) => service.list(params.id, requireSession(req).address),
  );

  return router;
}
