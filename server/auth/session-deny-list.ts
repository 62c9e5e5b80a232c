import type { Redis } from "ioredis";
import type { Session } from "./session.ts";

/**
 * Session tokens revoked before they expire, in Redis so every API process sees a logout at once:
 * one token by its id (logout), or every token of a wallet issued up to a moment (revoke). Each
 * entry lives only as long as the tokens it refuses could.
 */
export class SessionDenyList {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
  ) {}

  #tokenKey = (tokenId: string) => `${this.prefix}:session:denied:${tokenId}`;
  #walletKey = (address: string) => `${this.prefix}:session:denied-before:${address}`;

  /** Refuses this one token from now on. */
  async logout(session: Session): Promise<void> {
    const left = Math.max(1, session.expiresAt - Math.floor(Date.now() / 1000));
    await this.redis.set(this.#tokenKey(session.tokenId), "1", "EX", left);
  }

  /** Refuses every token of `address` issued until now. */
  async revokeWallet(address: string): Promise<void> {
    const now = Math.floor(Date.now() / 1000);
    await this.redis.set(this.#walletKey(address), String(now), "EX", this.ttlSeconds);
  }

  /** Whether the session's token was logged out or revoked; one round trip. */
  async denies(session: Session): Promise<boolean> {
    const [token, before] = await this.redis.mget(
      this.#tokenKey(session.tokenId),
      this.#walletKey(session.address),
    );
    return token !== null || (before !== null && session.issuedAt <= Number(before));
  }
}
