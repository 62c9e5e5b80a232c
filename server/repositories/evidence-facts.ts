import type { Pool } from "pg";
import { findOriginal, type OriginalRecord } from "../content/store.ts";
import { listLicenseRows, type LicenseListing, type LicenseRow } from "../evidence/license-listing.ts";

/** A directly registered work as the indexer mirrored it, with the title given at upload. */
export interface WorkRecord {
  workId: string;
  contentHash: string;
  /** Lower case. */
  creator: string;
  parentId: string | null;
  rootId: string;
  title: string | null;
  cid: string;
  metadataUri: string;
  coAuthors: string[];
  txHash: string;
  blockNumber: string;
  /** Block time of the registration; null for events indexed before block times were kept. */
  registeredAt: Date | null;
  /** The earlier claim of the same hash that holds the work, or null when this claim holds it. */
  supersededBy: string | null;
}

/** A work anchored in a Merkle batch: the server's proof and the indexer's BatchAnchored event. */
export interface BatchRecord {
  contentHash: string;
  /** Lower case. */
  creator: string;
  title: string | null;
  cid: string;
  metadataUri: string;
  batchId: string;
  merkleRoot: string;
  leaf: string;
  leafIndex: number;
  registrationDigest: string;
  /** The work id the leaf reserved: the batch's first plus the leaf index. */
  workId: string;
  proof: string[];
  txHash: string;
  blockNumber: string;
}

interface WorkRow {
  work_id: string;
  content_hash: string;
  creator: string;
  parent_id: string | null;
  root_id: string;
  title: string | null;
  cid: string;
  metadata_uri: string;
  co_authors: string[];
  tx_hash: string;
  block_number: string;
  block_time: Date | null;
  superseded_by: string | null;
}

// Block times come from the indexer's event_blocks view.
const WORK_SELECT = `SELECT w.work_id::text, w.content_hash, w.creator, w.parent_id::text, w.root_id::text, m.title,
  w.cid, w.metadata_uri, w.co_authors, w.tx_hash, w.block_number::text,
  coalesce(to_timestamp(w.registered_at::double precision), e.block_time) AS block_time, w.superseded_by::text
  FROM works w
  LEFT JOIN event_blocks e ON e.block_number = w.block_number AND e.log_index = w.log_index
  LEFT JOIN work_metadata m ON m.metadata_uri = w.metadata_uri`;

function toWork(row: WorkRow): WorkRecord {
  return {
    workId: row.work_id,
    contentHash: row.content_hash.toLowerCase(),
    creator: row.creator.toLowerCase(),
    parentId: row.parent_id,
    rootId: row.root_id,
    title: row.title,
    cid: row.cid,
    metadataUri: row.metadata_uri,
    coAuthors: row.co_authors,
    txHash: row.tx_hash,
    blockNumber: row.block_number,
    registeredAt: row.block_time,
    supersededBy: row.superseded_by,
  };
}

/** Reads what an evidence bundle states about a work from the indexer's tables and the server's own. */
export class EvidenceFactsRepository {
  constructor(private readonly db: Pool) {}

  async workById(workId: string): Promise<WorkRecord | null> {
    const { rows } = await this.db.query<WorkRow>(`${WORK_SELECT} WHERE w.work_id = $1`, [workId]);
    return rows[0] ? toWork(rows[0]) : null;
  }

  /** The claim of `contentHash` that holds the work: the earliest, superseded by none. */
  async workByHash(contentHash: string): Promise<WorkRecord | null> {
    const { rows } = await this.db.query<WorkRow>(
      `${WORK_SELECT} WHERE w.content_hash = $1 ORDER BY w.superseded_by IS NOT NULL, w.work_id LIMIT 1`,
      [contentHash.toLowerCase()],
    );
    return rows[0] ? toWork(rows[0]) : null;
  }

  /** The versions `work` descends from, oldest first, ending with `work` itself. */
  async ancestry(work: WorkRecord): Promise<WorkRecord[]> {
    const { rows } = await this.db.query<WorkRow>(`${WORK_SELECT} WHERE w.root_id = $1`, [work.rootId]);
    const byId = new Map(rows.map((row) => [row.work_id, toWork(row)]));
    const chain = [work];
    for (let parent = work.parentId; parent !== null;) {
      const version = byId.get(parent);
      // A parent from before the indexer's start block is not mirrored; the chain starts after it.
      if (!version) break;
      chain.unshift(version);
      parent = version.parentId;
    }
    return chain;
  }

  /** The batch registration of `contentHash`, once the indexer has seen its batch anchored. */
  async anchoredBatch(contentHash: string): Promise<BatchRecord | null> {
    const { rows } = await this.db.query<{
      content_hash: string;
      creator: string;
      title: string | null;
      cid: string;
      metadata_uri: string;
      batch_id: string;
      merkle_root: string;
      leaf: string;
      leaf_index: number;
      registration_digest: string;
      work_id: string;
      proof: string[];
      tx_hash: string;
      block_number: string;
    }>(
      `SELECT r.content_hash, r.creator, m.title, r.cid, r.metadata_uri, b.batch_id::text, b.merkle_root, r.leaf,
              r.leaf_index, r.registration_digest, (b.first_work_id + r.leaf_index)::text AS work_id,
              r.proof, b.tx_hash, b.block_number::text
         FROM registration_requests r
         LEFT JOIN work_metadata m ON m.metadata_uri = r.metadata_uri
         JOIN notarization_batches nb ON nb.id = r.batch_id
         JOIN batches b ON b.merkle_root = nb.merkle_root
        WHERE r.content_hash = $1 AND r.mode = 'batch' AND r.leaf IS NOT NULL AND r.proof IS NOT NULL
          AND r.leaf_index IS NOT NULL AND b.first_work_id IS NOT NULL
        ORDER BY b.batch_id
        LIMIT 1`,
      [contentHash.toLowerCase()],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      contentHash: row.content_hash.toLowerCase(),
      creator: row.creator.toLowerCase(),
      title: row.title,
      cid: row.cid,
      metadataUri: row.metadata_uri,
      batchId: row.batch_id,
      merkleRoot: row.merkle_root,
      leaf: row.leaf,
      leafIndex: row.leaf_index,
      registrationDigest: row.registration_digest,
      workId: row.work_id,
      proof: row.proof,
      txHash: row.tx_hash,
      blockNumber: row.block_number,
    };
  }

  /**
   * Every license issued for the work, revoked and expired ones included, in token order, listed as
   * manifest.json states them. PostgreSQL hands each license over as one text row of its columns, so
   * a work's 100,000 licenses are read without parsing 700,000 values or making 100,000 objects.
   * @throws LicenseShapeError when a stored license is not one a manifest can state.
   */
  async licenseListing(workId: string): Promise<LicenseListing> {
    // The work's offers are few: read apart and matched in the listing, the licenses come in index
    // order from an index-only scan of licenses_work_idx, with no join to sort.
    const { rows: offers } = await this.db.query<{
      offer_id: string;
      commercial_use: boolean;
      territory: string;
    }>(`SELECT offer_id::text, commercial_use, territory FROM offers WHERE work_id = $1`, [workId]);
    const { rows } = await this.db.query<[LicenseRow]>({
      // Numbers and times are checked here against the range the manifest's license schema accepts
      // (a safe-integer expiry, a four-digit issue year); the holder and hash where they are written.
      text: `SELECT CASE
                      WHEN l.token_id >= 0 AND l.offer_id >= 0 AND l.expires_at BETWEEN 0 AND 9007199254740991
                       AND coalesce(l.issued_at BETWEEN '0001-01-01 00:00:00+00 BC' AND '9999-12-31 23:59:59.999999+00', true)
                      THEN concat_ws(',', l.token_id, l.offer_id, l.holder, l.expires_at, l.revoked,
                                     coalesce(floor(extract(epoch FROM l.issued_at) * 1000)::text, ''), l.tx_hash)
                      ELSE '!' || l.token_id
                    END
               FROM licenses l
              WHERE l.work_id = $1
              ORDER BY l.token_id`,
      values: [workId],
      rowMode: "array",
    });
    return listLicenseRows(
      rows.map(([row]) => row),
      new Map(offers.map((o) => [o.offer_id, { commercialUse: o.commercial_use, territory: o.territory }])),
    );
  }

  /** The upload of the work's file, if it went through this platform: how its original is stored. */
  upload(contentHash: string): Promise<OriginalRecord | null> {
    return findOriginal(this.db, contentHash);
  }
}
