import { randomBytes } from "node:crypto";
import { Router } from "express";
import type { Redis } from "ioredis";
import type { Provider } from "ethers";
import { SiweMessage } from "siwe";
import { z } from "zod";
import { AppError } from "../errors.ts";
import type { OpenApiRegistry } from "../http/openapi.ts";
import { route } from "../http/route.ts";
import { checksum } from "../../lib/address.ts";
import type { SessionTokens } from "../auth/session.ts";

const NONCE_TTL_SECONDS = 300;

export interface AuthRouteDeps {
  redis: Redis;
  redisPrefix: string;
  tokens: SessionTokens;
  provider: Provider;
  chainId: number;
  /** Expected `domain` of SIWE messages: the site users sign in to. */
  domain: string;
  isAdmin(address: string): boolean;
}

const sessionSchema = z
  .object({
    token: z.string(),
    address: z.string(),
    isAdmin: z.boolean(),
    expiresAt: z.string().describe("ISO 8601"),
  })
  .meta({ id: "Session" });

/** Sign-In with Ethereum (EIP-4361): a one-time nonce, then a signed message for a session token. */
export function authRouter(deps: AuthRouteDeps, registry: OpenApiRegistry): Router {
  const router = Router();
  const nonceKey = (nonce: string) => `${deps.redisPrefix}:siwe:nonce:${nonce}`;

  route(
    router,
    registry,
    {
      method: "post",
      path: "/v1/auth/nonce",
      summary: "Get a one-time nonce for a Sign-In with Ethereum message",
      tags: ["auth"],
      responses: {
        201: { description: "Nonce", schema: z.object({ nonce: z.string(), expiresIn: z.number() }) },
      },
    },
    async () => {
      const nonce = randomBytes(16).toString("hex");
      await deps.redis.set(nonceKey(nonce), "1", "EX", NONCE_TTL_SECONDS);
      return { nonce, expiresIn: NONCE_TTL_SECONDS };
    },
  );

  route(
    router,
    registry,
    {
      method: "post",
      path: "/v1/auth/verify",
      summary: "Exchange a signed EIP-4361 message for a session token",
      tags: ["auth"],
      body: z.object({
        message: z.string().min(1).max(4096),
        signature: z.string().regex(/^0x[0-9a-fA-F]+$/, "must be 0x-prefixed hex"),
      }),
      responses: { 200: { description: "Session", schema: sessionSchema } },
    },
    async ({ body }) => {
      let message: SiweMessage;
      try {
        message = new SiweMessage(body.message);
      } catch (err) {
        throw new AppError("INVALID_SIWE_MESSAGE", 400, "message is not a valid EIP-4361 message", {
          reason: err instanceof Error ? err.message : String(err),
        });
      }
      const domain = deps.domain;
      if (message.domain !== domain) {
        throw new AppError("SIWE_DOMAIN_MISMATCH", 401, `message is for ${message.domain}, not ${domain}`);
      }
      if (message.chainId !== deps.chainId) {
        throw new AppError(
          "SIWE_CHAIN_MISMATCH",
          401,
          `message is for chain ${message.chainId}, not ${deps.chainId}`,
        );
      }
      const consumed = await deps.redis.getdel(nonceKey(message.nonce));
      if (!consumed)
        throw new AppError("SIWE_NONCE_INVALID", 401, "nonce is unknown, expired or already used");
      const result = await message
        .verify(
          { signature: body.signature, domain, nonce: message.nonce },
          { provider: deps.provider, suppressExceptions: true },
        )
        .catch(() => null);
      if (!result?.success)
        throw new AppError("SIWE_SIGNATURE_INVALID", 401, "signature does not match the message");
      const address = message.address.toLowerCase();
      const isAdmin = deps.isAdmin(address);
      const { token, expiresAt } = await deps.tokens.issue(address, isAdmin);
      return {
        token,
        address: checksum(address)!,
        isAdmin,
        expiresAt: new Date(expiresAt * 1000).toISOString(),
      };
    },
  );

  return router;
}
