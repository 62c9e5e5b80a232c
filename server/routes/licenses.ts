import type { ServerResponse } from "node:http";
import { Router } from "express";
import { z } from "zod";
import type { HotRoute } from "../http/hot-route.ts";
import type { OpenApiRegistry } from "../http/openapi.ts";
import { route } from "../http/route.ts";
import { idSchema, pageOf } from "../../lib/api/primitives.ts";
import {
  licenseCheckSchema,
  licenseSchema,
  licenseWithHistorySchema,
  listLicensesQuery,
  verifyLicenseQuery,
} from "../../lib/api/licenses.ts";
import type { LicenseVerifier } from "../services/license-verifier.ts";
import type { LicensesService } from "../services/licenses.ts";

/** GET /v1/licenses/verify: the hot path, served ahead of Express (see hot-route.ts) and by the router. */
export function verifyRoute(verifier: LicenseVerifier): HotRoute<typeof verifyLicenseQuery> {
  return {
    path: "/v1/licenses/verify",
    query: verifyLicenseQuery,
    async answer(query, res: ServerResponse) {
      res.setHeader("Cache-Control", "no-store");
      return verifier.verify(query.workId, query.holder);
    },
  };
}

/** Licenses: the read side, including the verify path for the requests its hot route passes on. */
export function licensesRouter(
  licenses: LicensesService,
  verify: HotRoute<typeof verifyLicenseQuery>,
  registry: OpenApiRegistry,
): Router {
  const router = Router();

  route(
    router,
    registry,
    {
      method: "get",
      path: verify.path,
      summary: "Whether a wallet holds a valid license to a work, right now",
      tags: ["licenses"],
      query: verifyLicenseQuery,
      responses: { 200: { description: "Answer", schema: licenseCheckSchema } },
    },
    ({ query, res }) => verify.answer(query, res),
  );

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/licenses",
      summary: "Licenses held by a wallet, newest first",
      tags: ["licenses"],
      query: listLicensesQuery,
      responses: {
        200: {
          description: "A page of licenses",
          schema: pageOf(licenseSchema),
        },
      },
    },
    async ({ query }) => licenses.byHolder(query),
  );

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/licenses/:tokenId",
      summary: "A license with its renewals and transfers",
      tags: ["licenses"],
      params: z.object({ tokenId: idSchema }),
      responses: {
        200: {
          description: "License",
          schema: licenseWithHistorySchema,
        },
      },
    },
    async ({ params }) => licenses.withHistory(params.tokenId),
  );

  return router;
}
