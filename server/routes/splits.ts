import { Router } from "express";
import type { OpenApiRegistry } from "../http/openapi.ts";
import { route } from "../http/route.ts";
import {
  createSplitBody,
  prepareSplitBody,
  preparedSplitSchema,
  splitParams,
  splitRequestSchema,
} from "../../lib/api/splits.ts";
import type { SplitsService } from "../services/splits.ts";

/** Revenue splits: creators need one (its address) before they publish an offer; the relayer creates it. */
export function splitsRouter(service: SplitsService, registry: OpenApiRegistry): Router {
  const router = Router();

  route(
    router,
    registry,
    {
      method: "post",
      path: "/v1/splits",
      summary:
        "The split address for these shares, and the CreateSplit to sign (or the createSplit transaction) if it does not exist yet",
      tags: ["offers"],
      body: prepareSplitBody,
      responses: {
        200: {
          description: "Predicted split",
          schema: preparedSplitSchema,
        },
      },
    },
    async ({ body }) => service.prepare(body.from ?? body.recipients[0]!, body.recipients, body.sharesBps),
  );

  route(
    router,
    registry,
    {
      method: "post",
      path: "/v1/splits/requests",
      summary:
        "Have the relayer create a split, signed by the wallet whose gas budget pays for it (EIP-712 CreateSplit); sent once per split",
      tags: ["offers"],
      body: createSplitBody,
      responses: {
        202: {
          description:
            "Accepted; poll GET /v1/splits/requests/:split (created at once when the split exists)",
          schema: splitRequestSchema,
        },
        403: { description: "Not signed by the wallet it names" },
        429: { description: "The wallet's or the day's gas budget is spent" },
      },
    },
    async ({ body }) => service.request(body),
  );

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/splits/requests/:split",
      summary: "Progress of a split's creation: pending → submitted → created",
      tags: ["offers"],
      params: splitParams,
      responses: {
        200: { description: "Split request", schema: splitRequestSchema },
        404: { description: "Nobody asked for the split and it does not exist" },
      },
    },
    async ({ params }) => service.status(params.split),
  );

  return router;
}
