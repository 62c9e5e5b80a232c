import type { Pool } from "pg";
import { finalityOf, type ChainHeads } from "../../lib/finality.ts";
import { checksum } from "../../lib/address.ts";
import type { Page } from "../../lib/api/primitives.ts";
import type { License, LicenseEvent, ListLicensesQuery } from "../../lib/api/licenses.ts";

export interface ValidLicense {
  tokenId: string;
  /** Unix seconds; 0 for perpetual. */
  expiresAt: number;
  /** Block of the license's latest change (mint, renewal, transfer). */
  updatedBlock: number;
}

/** One license as every request for its file judges it. */
export interface LicenseState {
  tokenId: string;
  workId: string;
  /** Lower case. */
  holder: string;
  revoked: boolean;
  /** Unix seconds; 0 for perpetual. */
  expiresAt: number;
  /** Block of the license's latest change (mint, renewal, transfer). */
  updatedBlock: number;
}

interface LicenseRow {
  token_id: string;
  offer_id: string;
  work_id: string;
  holder: string;
  payer: string;
  payment_ref: string | null;
  expires_at: string;
  revoked: boolean;
  revoked_reason: string | null;
  renewals: number;
  block_number: string;
  updated_block: string;
  tx_hash: string;
}

// The columns keep their names as text: ORDER BY names the table's columns (licenses.token_id), or it
// sorts the text ("99" after "100") and no index serves it.
const SELECT = `SELECT token_id::text, offer_id::text, work_id::text, holder, payer, payment_ref, expires_at::text,
  revoked, revoked_reason, renewals, block_number::text, updated_block::text, tx_hash FROM licenses`;

export function toLicense(row: LicenseRow, heads: ChainHeads, nowSeconds: number): License {
  const expires = Number(row.expires_at);
  return {
    tokenId: row.token_id,
    offerId: row.offer_id,
    workId: row.work_id,
    holder: checksum(row.holder)!,
    payer: checksum(row.payer)!,
    paymentRef: row.payment_ref,
    expiresAt: expires === 0 ? null : new Date(expires * 1000).toISOString(),
    perpetual: expires === 0,
    valid: !row.revoked && (expires === 0 || expires > nowSeconds),
    revoked: row.revoked,
    revokedReason: row.revoked_reason,
    renewals: row.renewals,
    blockNumber: row.block_number,
    txHash: row.tx_hash,
    finality: finalityOf(row.updated_block, heads),
  };
}

/** Reads the indexer's licenses. */
export class LicensesRepository {
  constructor(private readonly db: Pool) {}

  /** The holder's valid license to the work that lasts longest (perpetual first), or null. */
  async bestValid(workId: string, holder: string, nowSeconds: number): Promise<ValidLicense | null> {
    const { rows } = await this.db.query<{ token_id: string; expires_at: string; updated_block: string }>(
      `SELECT token_id::text, expires_at::text, updated_block::text FROM licenses
        WHERE holder = $1 AND work_id = $2 AND NOT revoked AND (expires_at = 0 OR expires_at > $3)
        ORDER BY (expires_at = 0) DESC, licenses.expires_at DESC, licenses.token_id
        LIMIT 1`,
      [holder, workId, nowSeconds],
    );
    const row = rows[0];
    return row
      ? { tokenId: row.token_id, expiresAt: Number(row.expires_at), updatedBlock: Number(row.updated_block) }
      : null;
  }

  /** The state of license `tokenId`, or null when the indexer holds no such license. */
  async state(tokenId: string): Promise<LicenseState | null> {
    const { rows } = await this.db.query<{
      work_id: string;
      holder: string;
      revoked: boolean;
      expires_at: string;
      updated_block: string;
    }>(
      `SELECT work_id::text, holder, revoked, expires_at::text, updated_block::text FROM licenses WHERE token_id = $1`,
      [tokenId],
    );
    const row = rows[0];
    return row
      ? {
          tokenId,
          workId: row.work_id,
          holder: row.holder,
          revoked: row.revoked,
          expiresAt: Number(row.expires_at),
          updatedBlock: Number(row.updated_block),
        }
      : null;
  }

  async byToken(tokenId: string, heads: ChainHeads, nowSeconds: number): Promise<License | null> {
    const { rows } = await this.db.query<LicenseRow>(`${SELECT} WHERE token_id = $1`, [tokenId]);
    return rows[0] ? toLicense(rows[0], heads, nowSeconds) : null;
  }

  /** A holder's licenses, newest first; `cursor` is the last token id of the previous page. */
  async byHolder(query: ListLicensesQuery, heads: ChainHeads, nowSeconds: number): Promise<Page<License>> {
    const params: unknown[] = [query.holder];
    let where = "holder = $1";
    if (query.workId) {
      params.push(query.workId);
      where += ` AND work_id = $${params.length}`;
    }
    if (query.cursor) {
      params.push(query.cursor);
      where += ` AND token_id < $${params.length}`;
    }
    params.push(query.limit + 1);
    const { rows } = await this.db.query<LicenseRow>(
      `${SELECT} WHERE ${where} ORDER BY licenses.token_id DESC LIMIT $${params.length}`,
      params,
    );
    const more = rows.length > query.limit;
    if (more) rows.pop();
    return {
      items: rows.map((r) => toLicense(r, heads, nowSeconds)),
      nextCursor: more ? rows.at(-1)!.token_id : null,
    };
  }

  async history(tokenId: string): Promise<LicenseEvent[]> {
    const { rows } = await this.db.query<{
      kind: string;
      block_number: string;
      tx_hash: string;
      detail: Record<string, string>;
    }>(
      `SELECT kind, block_number::text, tx_hash, detail FROM (
         SELECT 'renewed' AS kind, block_number, log_index, tx_hash,
                jsonb_build_object('payer', payer, 'expiresAt', expires_at::text) AS detail
           FROM license_renewals WHERE token_id = $1
         UNION ALL
         SELECT 'transferred', block_number, log_index, tx_hash, jsonb_build_object('from', from_address, 'to', to_address)
           FROM license_transfers WHERE token_id = $1
       ) events ORDER BY block_number, log_index`,
      [tokenId],
    );
    return rows.map((r) => ({
      kind: r.kind,
      blockNumber: r.block_number,
      txHash: r.tx_hash,
      detail: r.detail,
    }));
  }
}
