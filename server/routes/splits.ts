import { Router } from "express";
import type { OpenApiRegistry } from "../http/openapi.ts";
import { route } from "../http/route.ts";
import { prepareSplitBody, preparedSplitSchema } from "../../lib/api/splits.ts";
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

  return router;
}
