import type { NextFunction, Request, RequestHandler, Response } from "express";
import { AppError } from "../errors.ts";
import type { ApiKey, ApiKeyScope } from "../../lib/api/api-keys.ts";
import type { ApiKeys } from "./api-keys.ts";
import type { Session, SessionTokens } from "./session.ts";
import type { SessionDenyList } from "./session-deny-list.ts";

export type Auth =
  { kind: "session"; session: Session } | { kind: "apiKey"; apiKey: ApiKey } | { kind: "anonymous" };

declare module "express-serve-static-core" {
  interface Request {
    auth?: Auth;
  }
}

/** Reads a bearer session token or an `X-Api-Key`; invalid credentials are refused, absent ones are anonymous. */
export function authenticate(
  tokens: SessionTokens,
  apiKeys: ApiKeys,
  denied: SessionDenyList,
): RequestHandler {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const header = req.get("authorization");
    const key = req.get("x-api-key");
    if (header) {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match)
        throw new AppError("INVALID_SESSION", 401, "Authorization must be 'Bearer <session token>'");
      const session = await tokens.verify(match[1]!);
      if (await denied.denies(session)) {
        throw new AppError("SESSION_REVOKED", 401, "this session was signed out or revoked; sign in again");
      }
      req.auth = { kind: "session", session };
    } else if (key) {
      const apiKey = await apiKeys.verify(key);
      if (!apiKey) throw new AppError("INVALID_API_KEY", 401, "API key is invalid or revoked");
      req.auth = { kind: "apiKey", apiKey };
    } else {
      req.auth = { kind: "anonymous" };
    }
    next();
  };
}

/** The signed-in wallet, or a 401. */
export function requireSession(req: Request): Session {
  if (req.auth?.kind !== "session") {
    throw new AppError("AUTH_REQUIRED", 401, "sign in with Ethereum first (POST /v1/auth/verify)");
  }
  return req.auth.session;
}

/** An admin session or an API key with the admin scope, or a 401/403. */
export function requireAdmin(req: Request): void {
  if (req.auth?.kind === "apiKey" && req.auth.apiKey.scopes.includes("admin")) return;
  const session = requireSession(req);
  if (!session.isAdmin) throw new AppError("FORBIDDEN", 403, "admin only");
}

/** Whether the request carries an API key with `scope`. */
export function hasScope(req: Request, scope: ApiKeyScope): boolean {
  return req.auth?.kind === "apiKey" && req.auth.apiKey.scopes.includes(scope);
}
