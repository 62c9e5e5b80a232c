/** API keys on the wire: what an admin creates, lists and revokes (never a secret, except once at creation). */
import { z } from "zod";

/** The scopes an admin grants. */
export const API_KEY_SCOPES = ["legal", "admin"] as const;
/** The scope of a creator's own key for their systems: it redeems that creator's codes only. */
export const REDEEM_SCOPE = "redeem";

export const apiKeyScopeSchema = z.enum([...API_KEY_SCOPES, REDEEM_SCOPE]);

export const apiKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    scopes: z.array(apiKeyScopeSchema),
    organisation: z
      .string()
      .describe("keys of one organisation read each other's evidence requests, and nobody else's"),
    creator: z.string().nullable().describe("the creator a redemption key belongs to"),
    createdAt: z.string(),
    revokedAt: z.string().nullable(),
  })
  .meta({ id: "ApiKey" });

export const createApiKeyBody = z.object({
  name: z.string().trim().min(1).max(100),
  scopes: z.array(z.enum(API_KEY_SCOPES)).min(1).max(API_KEY_SCOPES.length),
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
