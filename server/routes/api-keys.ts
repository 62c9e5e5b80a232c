import { Router } from "express";
import type { ApiKeys } from "../auth/api-keys.ts";
import { revokedSchema } from "../../lib/api/auth.ts";
import {
  apiKeyParams,
  apiKeysSchema,
  createApiKeyBody,
  createdApiKeySchema,
} from "../../lib/api/api-keys.ts";
import { requireAdmin } from "../auth/middleware.ts";
import { notFound } from "../errors.ts";
import type { OpenApiRegistry } from "../http/openapi.ts";
import { route } from "../http/route.ts";

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
      body: createApiKeyBody,
      responses: {
        201: { description: "Created", schema: createdApiKeySchema },
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
      responses: { 200: { description: "Keys", schema: apiKeysSchema } },
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
      params: apiKeyParams,
      responses: { 200: { description: "Revoked", schema: revokedSchema } },
    },
    async ({ params, req }) => {
      requireAdmin(req);
      if (!(await apiKeys.revoke(params.id))) throw notFound("active API key", { id: params.id });
      return { revoked: true as const };
    },
  );

  return router;
}
