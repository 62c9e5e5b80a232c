import { Router } from "express";
import { z } from "zod";
import { notFound } from "../errors.ts";
import type { OpenApiRegistry } from "../http/openapi.ts";
import { route } from "../http/route.ts";
import { addressSchema, finalitySchema, idSchema, limitSchema } from "../../lib/api/primitives.ts";
import type { LicensesRepository } from "../repositories/licenses.ts";
import type { WorksRepository } from "../repositories/works.ts";
import type { ChainClock } from "../chain/chain-clock.ts";
import type { LicenseVerifier } from "../services/license-verifier.ts";

export const licenseSchema = z
  .object({
    tokenId: z.string(),
    offerId: z.string(),
    workId: z.string(),
    holder: z.string(),
    payer: z.string(),
    paymentRef: z.string().nullable(),
    expiresAt: z.string().nullable().describe("ISO 8601; null for perpetual licenses"),
    perpetual: z.boolean(),
    valid: z.boolean(),
    revoked: z.boolean(),
    revokedReason: z.string().nullable(),
    renewals: z.number(),
    blockNumber: z.string(),
    txHash: z.string(),
    finality: finalitySchema,
  })
  .meta({ id: "License" });

const verifySchema = z
  .object({
    valid: z.boolean(),
    tokenId: z.string().nullable(),
    validUntil: z.string().nullable().describe("ISO 8601; null when perpetual or invalid"),
    perpetual: z.boolean(),
    finality: finalitySchema.nullable(),
  })
  .meta({ id: "LicenseCheck" });

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
      query: z.object({ workId: idSchema, holder: addressSchema }),
      responses: { 200: { description: "Answer", schema: verifySchema } },
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
      query: z.object({
        holder: addressSchema,
        workId: idSchema.optional(),
        cursor: idSchema.optional(),
        limit: limitSchema,
      }),
      responses: {
        200: {
          description: "A page of licenses",
          schema: z.object({ items: z.array(licenseSchema), nextCursor: z.string().nullable() }),
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
          schema: licenseSchema.extend({
            history: z.array(
              z.object({
                kind: z.string(),
                blockNumber: z.string(),
                txHash: z.string(),
                detail: z.record(z.string(), z.string()),
              }),
            ),
          }),
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
