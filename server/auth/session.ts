import { randomBytes } from "node:crypto";
import { SignJWT, jwtVerify, errors as joseErrors } from "jose";
import { AppError } from "../errors.ts";

export interface Session {
  /** Lower-case wallet address. */
  address: string;
  isAdmin: boolean;
  expiresAt: number;
  /** The token's own id (JWT `jti`), what a logout puts on the deny list. */
  tokenId: string;
  /** When the token was issued, in seconds. */
  issuedAt: number;
}

const ISSUER = "rights-ledger";
const AUDIENCE = "rights-ledger-api";

/** Issues and checks short-lived HS256 session tokens after Sign-In with Ethereum. */
export class SessionTokens {
  readonly #key: Uint8Array;

  constructor(
    secret: string,
    readonly ttlSeconds: number,
  ) {
    this.#key = new TextEncoder().encode(secret);
  }

  async issue(address: string, isAdmin: boolean): Promise<{ token: string; expiresAt: number }> {
    const expiresAt = Math.floor(Date.now() / 1000) + this.ttlSeconds;
    const token = await new SignJWT({ adm: isAdmin })
      .setJti(randomBytes(16).toString("hex"))
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(address.toLowerCase())
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(expiresAt)
      .sign(this.#key);
    return { token, expiresAt };
  }

  async verify(token: string): Promise<Session> {
    try {
      const { payload } = await jwtVerify(token, this.#key, {
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: ["HS256"],
      });
      if (
        typeof payload.sub !== "string" ||
        !/^0x[0-9a-f]{40}$/.test(payload.sub) ||
        payload.exp === undefined ||
        payload.iat === undefined ||
        typeof payload.jti !== "string"
      ) {
        throw new AppError("INVALID_SESSION", 401, "session token is malformed");
      }
      return {
        address: payload.sub,
        isAdmin: payload.adm === true,
        expiresAt: payload.exp,
        tokenId: payload.jti,
        issuedAt: payload.iat,
      };
    } catch (err) {
      if (err instanceof AppError) throw err;
      if (err instanceof joseErrors.JWTExpired)
        throw new AppError("SESSION_EXPIRED", 401, "session expired; sign in again");
      throw new AppError("INVALID_SESSION", 401, "session token is invalid");
    }
  }
}
