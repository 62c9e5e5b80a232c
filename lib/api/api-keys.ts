/** API keys on the wire: what an admin creates, lists and revokes (never a secret, except once at creation). */
import { z } from "zod";

export const API_KEY_SCOPES = ["legal", "admin"] as const;

export const apiKeyScopeSchema = z.enum(API_KEY_SCOPES);

export const apiKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    scopes: z.array(apiKeyScopeSchema),
    organisation: z
      .string()
      .describe("keys of one organisation read each other's evidence requests, and nobody else's"),
    createdAt: z.string(),
    revokedAt: z.string().nullable(),
  })
  .meta({ id: "ApiKey" });

export const createApiKeyBody = z.object({
  name: z.string().trim().min(1).max(100),
  scopes: z.array(apiKeyScopeSchema).min(1).max(API_KEY_SCOPES.length),
  organisation: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .optional()
    .describe("keys of one organisation share their evidence requests; by default one of its own"),
});

export const createdApiKeySchema = z.object({ key: z.string(), apiKey: apiKeySchema });

export const apiKeysSchema = z.object({ items: z.array(apiKeySchema) });

export const apiKeyParams = z.object({ id: z.string().regex(/^[0-9a-f]{16}$/, "must be a key id") });

export type ApiKeyScope = z.infer<typeof apiKeyScopeSchema>;
export type ApiKey = z.infer<typeof apiKeySchema>;
export type CreatedApiKey = z.infer<typeof createdApiKeySchema>;
