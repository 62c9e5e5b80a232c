import type { Pool } from "pg";
import type { Preview } from "../../lib/api/works.ts";
import type { WrappedKey } from "./content-keys.ts";
import type { StoredOriginal, Visibility } from "./originals.ts";

/** An original as recorded with its upload: how it is stored, and what the uploader called it. */
export interface OriginalRecord extends StoredOriginal {
  filename: string | null;
  contentType: string | null;
}

interface OriginalRow {
  content_hash: string;
  cid: string;
  size: string;
  filename: string | null;
  content_type: string | null;
  visibility: Visibility;
  key_id: string | null;
  wrapped_key: Buffer | null;
  seal_header: Buffer | null;
}

const COLUMNS = `content_hash, cid, size::text, filename, content_type, visibility, key_id, wrapped_key, seal_header`;

function toRecord(row: OriginalRow): OriginalRecord {
  return {
    contentHash: row.content_hash,
    cid: row.cid,
    size: Number(row.size),
    filename: row.filename,
    contentType: row.content_type,
    visibility: row.visibility,
    sealing:
      row.key_id !== null && row.wrapped_key !== null && row.seal_header !== null
        ? { key: { keyId: row.key_id, wrapped: row.wrapped_key }, header: row.seal_header }
        : null,
  };
}

/** The original uploaded with `contentHash`, or null when nobody uploaded it here. */
export async function findOriginal(db: Pool, contentHash: string): Promise<OriginalRecord | null> {
  const { rows } = await db.query<OriginalRow>(`SELECT ${COLUMNS} FROM uploads WHERE content_hash = $1`, [
    contentHash.toLowerCase(),
  ]);
  return rows[0] ? toRecord(rows[0]) : null;
}

/**
 * Records an original once per content hash and answers the one recorded: when two uploads of the
 * same bytes race, the first recorded wins and the other's stored copy is left for collection.
 */
export async function recordOriginal(db: Pool, original: OriginalRecord): Promise<OriginalRecord> {
  const { rows } = await db.query<OriginalRow>(
    `WITH inserted AS (
       INSERT INTO uploads (content_hash, cid, size, filename, content_type, visibility, key_id, wrapped_key, seal_header)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (content_hash) DO NOTHING
       RETURNING ${COLUMNS}
     )
     SELECT * FROM inserted
     UNION ALL SELECT ${COLUMNS} FROM uploads WHERE content_hash = $1 AND NOT EXISTS (SELECT 1 FROM inserted)`,
    [
      original.contentHash,
      original.cid,
      original.size,
      original.filename,
      original.contentType,
      original.visibility,
      original.sealing?.key.keyId ?? null,
      original.sealing?.key.wrapped ?? null,
      original.sealing?.header ?? null,
    ],
  );
  return toRecord(rows[0]!);
}

/** Up to `limit` data keys wrapped under another KEK than `currentKeyId`, locked until the transaction ends. */
export async function keysToRewrap(
  db: Pick<Pool, "query">,
  currentKeyId: string,
  limit: number,
): Promise<{ contentHash: string; key: WrappedKey }[]> {
  const { rows } = await db.query<{ content_hash: string; key_id: string; wrapped_key: Buffer }>(
    `SELECT content_hash, key_id, wrapped_key FROM uploads
      WHERE key_id IS NOT NULL AND key_id <> $1
      ORDER BY content_hash LIMIT $2
      FOR UPDATE SKIP LOCKED`,
    [currentKeyId, limit],
  );
  return rows.map((r) => ({ contentHash: r.content_hash, key: { keyId: r.key_id, wrapped: r.wrapped_key } }));
}

/** Replaces the wrapped data key of an upload. */
export async function storeWrappedKey(
  db: Pick<Pool, "query">,
  contentHash: string,
  key: WrappedKey,
): Promise<void> {
  await db.query(`UPDATE uploads SET key_id = $2, wrapped_key = $3 WHERE content_hash = $1`, [
    contentHash,
    key.keyId,
    key.wrapped,
  ]);
}

/** How many data keys each KEK wraps. */
export async function keyUsage(db: Pool): Promise<Record<string, number>> {
  const { rows } = await db.query<{ key_id: string; n: number }>(
    `SELECT key_id, count(*)::int AS n FROM uploads WHERE key_id IS NOT NULL GROUP BY key_id`,
  );
  return Object.fromEntries(rows.map((r) => [r.key_id, r.n]));
}

/**
 * Who may speak for an upload: the creator of the work that holds its hash (the earliest claim no
 * other supersedes), else the creator named by its registration request; null when nobody
 * registered it yet. `uploaded` says whether the upload exists at all.
 */
export async function uploadCreator(
  db: Pool,
  contentHash: string,
): Promise<{ uploaded: boolean; creator: string | null }> {
  const { rows } = await db.query<{ uploaded: boolean; creator: string | null }>(
    `SELECT EXISTS (SELECT 1 FROM uploads WHERE content_hash = $1) AS uploaded,
            COALESCE(
              (SELECT creator FROM works WHERE content_hash = $1 AND superseded_by IS NULL ORDER BY work_id LIMIT 1),
              (SELECT creator FROM registration_requests WHERE content_hash = $1)
            ) AS creator`,
    [contentHash.toLowerCase()],
  );
  return rows[0]!;
}

/** Records (or replaces) the public preview of the upload of `contentHash`. */
export async function recordPreview(
  db: Pool,
  contentHash: string,
  preview: Omit<Preview, "url">,
): Promise<void> {
  await db.query(
    `INSERT INTO work_previews (content_hash, cid, size, filename, content_type) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (content_hash) DO UPDATE
       SET cid = excluded.cid, size = excluded.size, filename = excluded.filename,
           content_type = excluded.content_type, created_at = now()`,
    [contentHash.toLowerCase(), preview.cid, preview.size, preview.filename, preview.contentType],
  );
}
