import { Router } from "express";
import { z } from "zod";
import type { OpenApiRegistry } from "../http/openapi.ts";
import { route } from "../http/route.ts";
import { addressSchema } from "../../lib/api/primitives.ts";
import { transactionRequestSchema } from "../../lib/api/transactions.ts";
import type { SplitsService } from "../services/splits.ts";

/** Revenue splits: creators need one (its address) before they publish an offer. */
export function splitsRouter(service: SplitsService, registry: OpenApiRegistry): Router {
  const router = Router();

  route(
    router,
    registry,
    {
      method: "post",
      path: "/v1/splits",
      summary: "The split address for these shares, and the createSplit transaction if it does not exist yet",
      tags: ["offers"],
      body: z.object({
        recipients: z.array(addressSchema).min(1).max(50),
        sharesBps: z.array(z.number().int().min(1).max(10_000)).min(1).max(50),
        from: addressSchema
          .optional()
          .describe("wallet that will send createSplit; the first recipient by default"),
      }),
      responses: {
        200: {
          description: "Predicted split",
          schema: z
            .object({
              split: z.string(),
              exists: z.boolean(),
              transaction: transactionRequestSchema.nullable(),
            })
            .meta({ id: "PreparedSplit" }),
        },
      },
    },
    async ({ body }) => service.prepare(body.from ?? body.recipients[0]!, body.recipients, body.sharesBps),
  );

  return router;
}
