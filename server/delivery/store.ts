import type { Pool } from "pg";
import { checksum } from "../../lib/address.ts";
import type { Delivery, DeliveryTerms, ListDeliveriesQuery } from "../../lib/api/deliveries.ts";
import { NO_DELIVERY_LIMITS } from "../../lib/api/deliveries.ts";
import type { Page } from "../../lib/api/primitives.ts";
import { withTransaction } from "../../lib/transaction.ts";

/** What delivery needs of a license besides its validity: its offer and when it was bought. */
export interface LicenseFacts {
  tokenId: string;
  offerId: string;
  workId: string;
  holder: string;
  /** Unix seconds of the mint's block. */
  issuedAt: number;
}

export interface Usage {
  downloads: number;
  devices: { keyHash: string; label: string | null; registeredAt: Date }[];
}

/** A delivery to record, once the limits it is counted against allow it. */
export interface NewDelivery {
  id: string;
  tokenId: string;
  offerId: string;
  workId: string;
  holder: string;
  via: "wallet" | "order";
  deviceHash: string | null;
  deviceLabel: string | null;
  watermarked: boolean;
}

export type RecordOutcome =
  | { kind: "recorded"; usage: Usage }
  | { kind: "download-limit"; used: number }
  | { kind: "device-limit"; used: number };

export async function findTerms(db: Pool, offerId: string): Promise<DeliveryTerms> {
  const { rows } = await db.query<{
    max_downloads: number | null;
    max_devices: number | null;
    window_seconds: string | null;
    watermark: boolean;
  }>(
    `SELECT max_downloads, max_devices, window_seconds::text, watermark FROM delivery_terms WHERE offer_id = $1`,
    [offerId],
  );
  const row = rows[0];
  if (!row) return NO_DELIVERY_LIMITS;
  return {
    maxDownloads: row.max_downloads,
    maxDevices: row.max_devices,
    windowSeconds: row.window_seconds === null ? null : Number(row.window_seconds),
    watermark: row.watermark,
  };
}

export async function storeTerms(db: Pool, offerId: string, terms: DeliveryTerms): Promise<void> {
  await db.query(
    `INSERT INTO delivery_terms (offer_id, max_downloads, max_devices, window_seconds, watermark)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (offer_id) DO UPDATE
       SET max_downloads = excluded.max_downloads, max_devices = excluded.max_devices,
           window_seconds = excluded.window_seconds, watermark = excluded.watermark, updated_at = now()`,
    [offerId, terms.maxDownloads, terms.maxDevices, terms.windowSeconds, terms.watermark],
  );
}

/** The license's offer, work, holder and mint time (from the indexer's event blocks), or null. */
export async function findLicenseFacts(db: Pool, tokenId: string): Promise<LicenseFacts | null> {
  const { rows } = await db.query<{
    token_id: string;
    offer_id: string;
    work_id: string;
    holder: string;
    issued_at: Date;
  }>(
    `SELECT l.token_id::text, l.offer_id::text, l.work_id::text, l.holder, e.block_time AS issued_at
       FROM licenses l JOIN event_blocks e ON e.block_number = l.block_number AND e.log_index = l.log_index
      WHERE l.token_id = $1`,
    [tokenId],
  );
  const row = rows[0];
  return row
    ? {
        tokenId: row.token_id,
        offerId: row.offer_id,
        workId: row.work_id,
        holder: row.holder,
        issuedAt: Math.floor(row.issued_at.getTime() / 1000),
      }
    : null;
}

/** Every license `holder` holds or held to `workId`: whether revoked and when it expires (0: never). */
export async function licensesOfHolder(
  db: Pool,
  workId: string,
  holder: string,
): Promise<{ tokenId: string; revoked: boolean; expiresAt: number }[]> {
  const { rows } = await db.query<{ token_id: string; revoked: boolean; expires_at: string }>(
    `SELECT token_id::text, revoked, expires_at::text FROM licenses WHERE work_id = $1 AND holder = $2
      ORDER BY token_id DESC`,
    [workId, holder],
  );
  return rows.map((r) => ({ tokenId: r.token_id, revoked: r.revoked, expiresAt: Number(r.expires_at) }));
}

export async function usageOf(db: Pick<Pool, "query">, tokenId: string): Promise<Usage> {
  const { rows } = await db.query<{
    downloads: number | null;
    key_hash: string | null;
    label: string | null;
    created_at: Date | null;
  }>(
    `SELECT u.downloads, d.key_hash, d.label, d.created_at
       FROM (SELECT $1::numeric AS token_id) t
       LEFT JOIN license_usage u ON u.token_id = t.token_id
       LEFT JOIN license_devices d ON d.token_id = t.token_id
      ORDER BY d.created_at`,
    [tokenId],
  );
  return {
    downloads: rows[0]?.downloads ?? 0,
    devices: rows
      .filter((r) => r.key_hash !== null)
      .map((r) => ({ keyHash: r.key_hash!, label: r.label, registeredAt: r.created_at! })),
  };
}

/**
 * Counts a download against the license's limits and records the delivery, in one transaction
 * holding the license's usage row, so concurrent requests never pass a limit together. A device
 * the license has not used yet is registered when the device limit leaves room for it.
 */
export async function recordDelivery(
  db: Pool,
  delivery: NewDelivery,
  terms: DeliveryTerms,
): Promise<RecordOutcome> {
  return withTransaction(db, async (client) => {
    await client.query(`INSERT INTO license_usage (token_id) VALUES ($1) ON CONFLICT DO NOTHING`, [
      delivery.tokenId,
    ]);
    const { rows } = await client.query<{ downloads: number }>(
      `SELECT downloads FROM license_usage WHERE token_id = $1 FOR UPDATE`,
      [delivery.tokenId],
    );
    const downloads = rows[0]!.downloads;
    if (terms.maxDownloads !== null && downloads >= terms.maxDownloads) {
      return { kind: "download-limit", used: downloads };
    }
    const usage = await usageOf(client, delivery.tokenId);
    if (delivery.deviceHash !== null && !usage.devices.some((d) => d.keyHash === delivery.deviceHash)) {
      if (terms.maxDevices !== null && usage.devices.length >= terms.maxDevices) {
        return { kind: "device-limit", used: usage.devices.length };
      }
      await client.query(`INSERT INTO license_devices (token_id, key_hash, label) VALUES ($1, $2, $3)`, [
        delivery.tokenId,
        delivery.deviceHash,
        delivery.deviceLabel,
      ]);
    }
    await client.query(`UPDATE license_usage SET downloads = downloads + 1 WHERE token_id = $1`, [
      delivery.tokenId,
    ]);
    await client.query(
      `INSERT INTO deliveries (id, token_id, offer_id, work_id, holder, via, device_hash, watermarked)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        delivery.id,
        delivery.tokenId,
        delivery.offerId,
        delivery.workId,
        delivery.holder,
        delivery.via,
        delivery.deviceHash,
        delivery.watermarked,
      ],
    );
    return { kind: "recorded", usage: await usageOf(client, delivery.tokenId) };
  });
}

/** A recorded delivery: whose, and when. */
export async function findDelivery(
  db: Pool,
  id: string,
): Promise<{ tokenId: string; holder: string; watermarked: boolean; createdAt: Date } | null> {
  const { rows } = await db.query<{
    token_id: string;
    holder: string;
    watermarked: boolean;
    created_at: Date;
  }>(`SELECT token_id::text, holder, watermarked, created_at FROM deliveries WHERE id = $1`, [id]);
  const row = rows[0];
  return row
    ? { tokenId: row.token_id, holder: row.holder, watermarked: row.watermarked, createdAt: row.created_at }
    : null;
}

/** The deliveries of a work, newest first; `cursor` is the last `seq` of the previous page. */
export async function listDeliveries(
  db: Pool,
  workId: string,
  query: ListDeliveriesQuery,
): Promise<Page<Delivery>> {
  const { rows } = await db.query<{
    seq: string;
    id: string;
    token_id: string;
    offer_id: string;
    work_id: string;
    holder: string;
    via: "wallet" | "order";
    label: string | null;
    watermarked: boolean;
    created_at: Date;
  }>(
    `SELECT d.seq::text, d.id, d.token_id::text, d.offer_id::text, d.work_id::text, d.holder, d.via, v.label,
            d.watermarked, d.created_at
       FROM deliveries d
       LEFT JOIN license_devices v ON v.token_id = d.token_id AND v.key_hash = d.device_hash
      WHERE d.work_id = $1 AND ($2::bigint IS NULL OR d.seq < $2::bigint)
      ORDER BY d.seq DESC LIMIT $3`,
    [workId, query.cursor ?? null, query.limit + 1],
  );
  const more = rows.length > query.limit;
  if (more) rows.pop();
  return {
    items: rows.map((r) => ({
      id: r.id,
      tokenId: r.token_id,
      offerId: r.offer_id,
      workId: r.work_id,
      holder: checksum(r.holder)!,
      via: r.via,
      device: r.label,
      watermarked: r.watermarked,
      at: r.created_at.toISOString(),
    })),
    nextCursor: more ? rows.at(-1)!.seq : null,
  };
}
