import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Pool } from "pg";
import type { ApiKey, ApiKeyScope, CreatedApiKey } from "../../lib/api/api-keys.ts";

interface ApiKeyRow {
  id: string;
  name: string;
  secret_hash: Buffer;
  scopes: ApiKeyScope[];
  organisation: string;
  creator: string | null;
  created_at: Date;
  revoked_at: Date | null;
}

const COLUMNS = "id, name, secret_hash, scopes, organisation, creator, created_at, revoked_at";
const KEY_PATTERN = /^rlk_([0-9a-f]{16})_([0-9A-Za-z_-]{43})$/;

function hashSecret(secret: string): Buffer {
  return createHash("sha256").update(secret).digest();
}

function toApiKey(row: ApiKeyRow): ApiKey {
  return {
    id: row.id,
    name: row.name,
    scopes: row.scopes,
    organisation: row.organisation,
    creator: row.creator,
    createdAt: row.created_at.toISOString(),
    revokedAt: row.revoked_at?.toISOString() ?? null,
  };
}

/** API keys for integrators and legal teams; only a SHA-256 of each secret is stored. */
export class ApiKeys {
  constructor(private readonly db: Pool) {}

  /**
   * Creates a key of `organisation` (by default an organisation of its own) and returns it once,
   * in full; it cannot be shown again.
   */
  async create(name: string, scopes: ApiKeyScope[], organisation?: string): Promise<CreatedApiKey> {
    const id = randomBytes(8).toString("hex");
    const secret = randomBytes(32).toString("base64url");
    const { rows } = await this.db.query<ApiKeyRow>(
      `INSERT INTO api_keys (id, name, secret_hash, scopes, organisation)
       VALUES ($1, $2, $3, $4, COALESCE($5, $1))
       RETURNING ${COLUMNS}`,
      [id, name, hashSecret(secret), scopes, organisation ?? null],
    );
    return { key: `rlk_${id}_${secret}`, apiKey: toApiKey(rows[0]!) };
  }

  /** Creates a creator's redemption key (scope `redeem`, an organisation of its own), returned once in full. */
  async createRedeemKey(name: string, creator: string): Promise<CreatedApiKey> {
    const id = randomBytes(8).toString("hex");
    const secret = randomBytes(32).toString("base64url");
    const { rows } = await this.db.query<ApiKeyRow>(
      `INSERT INTO api_keys (id, name, secret_hash, scopes, organisation, creator)
       VALUES ($1, $2, $3, '{redeem}', $1, $4)
       RETURNING ${COLUMNS}`,
      [id, name, hashSecret(secret), creator],
    );
    return { key: `rlk_${id}_${secret}`, apiKey: toApiKey(rows[0]!) };
  }

  /** The creator's redemption keys, oldest first. */
  async redeemKeysOf(creator: string): Promise<ApiKey[]> {
    const { rows } = await this.db.query<ApiKeyRow>(
      `SELECT ${COLUMNS} FROM api_keys WHERE creator = $1 ORDER BY created_at`,
      [creator],
    );
    return rows.map(toApiKey);
  }

  /** Revokes a redemption key of `creator`; false when it has no such live key. */
  async revokeRedeemKey(id: string, creator: string): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND creator = $2 AND revoked_at IS NULL`,
      [id, creator],
    );
    return rowCount === 1;
  }

  /** The active key matching `key`, or null. */
  async verify(key: string): Promise<ApiKey | null> {
    const match = KEY_PATTERN.exec(key);
    if (!match) return null;
    const [, id, secret] = match;
    const { rows } = await this.db.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE id = $1`, [id]);
    const row = rows[0];
    if (!row || row.revoked_at) return null;
    return timingSafeEqual(row.secret_hash, hashSecret(secret!)) ? toApiKey(row) : null;
  }

  async revoke(id: string): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`,
      [id],
    );
    return rowCount === 1;
  }

  async list(): Promise<ApiKey[]> {
    const { rows } = await this.db.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys ORDER BY created_at`);
    return rows.map(toApiKey);
  }
}
