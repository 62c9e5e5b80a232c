import { Router } from "express";
import { z } from "zod";
import { notFound } from "../errors.ts";
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
import type { LicensesRepository } from "../repositories/licenses.ts";
import type { WorksRepository } from "../repositories/works.ts";
import type { ChainClock } from "../chain/chain-clock.ts";
import type { LicenseVerifier } from "../services/license-verifier.ts";

/** Licenses: the read side, including the hot verify path. */
export function licensesRouter(
  licenses: LicensesRepository,
  works: WorksRepository,
  verifier: LicenseVerifier,
  clock: ChainClock,
  registry: OpenApiRegistry,
): Router {
  const router = Router();
  const now = () => clock.nowSeconds();

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/licenses/verify",
      summary: "Whether a wallet holds a valid license to a work, right now",
      tags: ["licenses"],
      query: verifyLicenseQuery,
      responses: { 200: { description: "Answer", schema: licenseCheckSchema } },
    },
    async ({ query, res }) => {
      res.setHeader("Cache-Control", "no-store");
      return verifier.verify(query.workId, query.holder);
    },
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
    async ({ query }) => licenses.byHolder(query, await works.heads(), await now()),
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
    async ({ params }) => {
      const license = await licenses.byToken(params.tokenId, await works.heads(), await now());
      if (!license) throw notFound("license", { tokenId: params.tokenId });
      return { ...license, history: await licenses.history(params.tokenId) };
    },
  );

  return router;
}
