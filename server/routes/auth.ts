import { randomBytes } from "node:crypto";
import { Router } from "express";
import type { Redis } from "ioredis";
import type { Provider } from "ethers";
import { SiweMessage } from "siwe";
import { AppError } from "../errors.ts";
import type { OpenApiRegistry } from "../http/openapi.ts";
import { route } from "../http/route.ts";
import { checksum } from "../../lib/address.ts";
import { requireAdmin, requireSession } from "../auth/middleware.ts";
import type { SessionTokens } from "../auth/session.ts";
import type { SessionDenyList } from "../auth/session-deny-list.ts";
import {
  nonceSchema,
  revokedSchema,
  revokeSessionsBody,
  sessionSchema,
  signedOutSchema,
  verifySiweBody,
} from "../../lib/api/auth.ts";

const NONCE_TTL_SECONDS = 300;

/** Whether `uri` is an http(s) address on `host` (the SIWE domain: host and port). */
function sameHost(uri: string, host: string): boolean {
  try {
    const url = new URL(uri);
    return (url.protocol === "https:" || url.protocol === "http:") && url.host === host;
  } catch {
    return false;
  }
}

export interface AuthRouteDeps {
  redis: Redis;
  redisPrefix: string;
  tokens: SessionTokens;
  denied: SessionDenyList;
  provider: Provider;
  chainId: number;
  /** Expected `domain` of SIWE messages: the site users sign in to. */
  domain: string;
  isAdmin(address: string): boolean;
}

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
        201: { description: "Nonce", schema: nonceSchema },
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
      body: verifySiweBody,
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
      if (!sameHost(message.uri, domain)) {
        throw new AppError("SIWE_URI_MISMATCH", 401, `message URI must be on ${domain}`);
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

  route(
    router,
    registry,
    {
      method: "post",
      path: "/v1/auth/logout",
      summary: "End this session: its token is refused from now on, by every API process",
      tags: ["auth"],
      security: ["session"],
      responses: { 200: { description: "Signed out", schema: signedOutSchema } },
    },
    async ({ req }) => {
      await deps.denied.logout(requireSession(req));
      return { signedOut: true as const };
    },
  );

  route(
    router,
    registry,
    {
      method: "post",
      path: "/v1/admin/sessions/revoke",
      summary: "Revoke every session token a wallet holds now (a stolen token, a departed admin)",
      tags: ["admin"],
      security: ["session", "apiKey"],
      body: revokeSessionsBody,
      responses: { 200: { description: "Revoked", schema: revokedSchema } },
    },
    async ({ req, body }) => {
      requireAdmin(req);
      await deps.denied.revokeWallet(body.address.toLowerCase());
      return { revoked: true as const };
    },
  );

  return router;
}
