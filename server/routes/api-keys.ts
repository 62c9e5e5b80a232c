import { Router } from "express";
import { z } from "zod";
import { API_KEY_SCOPES, type ApiKeys } from "../auth/api-keys.ts";
import { requireAdmin } from "../auth/middleware.ts";
import { notFound } from "../errors.ts";
import type { OpenApiRegistry } from "../http/openapi.ts";
import { route } from "../http/route.ts";

const apiKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    scopes: z.array(z.enum(API_KEY_SCOPES)),
    organisation: z.string(),
    createdAt: z.string(),
    revokedAt: z.string().nullable(),
  })
  .meta({ id: "ApiKey" });

/** API keys for integrators and legal teams; admin only. */
export function apiKeysRouter(apiKeys: ApiKeys, registry: OpenApiRegistry): Router {
  const router = Router();

  route(
    router,
    registry,
    {
      method: "post",
      path: "/v1/admin/api-keys",
      summary: "Create an API key; the key is shown once",
      tags: ["admin"],
      security: ["session", "apiKey"],
      body: z.object({
        name: z.string().trim().min(1).max(100),
        scopes: z.array(z.enum(API_KEY_SCOPES)).min(1).max(API_KEY_SCOPES.length),
        organisation: z
          .string()
          .trim()
          .min(1)
          .max(100)
          .optional()
          .describe("keys of one organisation share their evidence requests; by default one of its own"),
      }),
      responses: {
        201: { description: "Created", schema: z.object({ key: z.string(), apiKey: apiKeySchema }) },
      },
    },
    async ({ body, req }) => {
      requireAdmin(req);
      return apiKeys.create(body.name, [...new Set(body.scopes)], body.organisation);
    },
  );

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/admin/api-keys",
      summary: "List API keys (never the secrets)",
      tags: ["admin"],
      security: ["session", "apiKey"],
      responses: { 200: { description: "Keys", schema: z.object({ items: z.array(apiKeySchema) }) } },
    },
    async ({ req }) => {
      requireAdmin(req);
      return { items: await apiKeys.list() };
    },
  );

  route(
    router,
    registry,
    {
      method: "delete",
      path: "/v1/admin/api-keys/:id",
      summary: "Revoke an API key",
      tags: ["admin"],
      security: ["session", "apiKey"],
      params: z.object({ id: z.string().regex(/^[0-9a-f]{16}$/, "must be a key id") }),
      responses: { 200: { description: "Revoked", schema: z.object({ revoked: z.literal(true) }) } },
    },
    async ({ params, req }) => {
      requireAdmin(req);
      if (!(await apiKeys.revoke(params.id))) throw notFound("active API key", { id: params.id });
      return { revoked: true as const };
    },
  );

  return router;
}
