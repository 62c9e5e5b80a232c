import type { Pool } from "pg";
import type { Logger } from "pino";
import type { IpfsStore } from "../ipfs/store.ts";

export interface CollectUploadsDeps {
  db: Pool;
  ipfs: IpfsStore;
  logger: Logger;
  /** How long an upload may wait for its registration before it is collected. */
  collectAfterSeconds: number;
}

// Uploads per statement: a long backlog is collected over several runs rather than in one transaction.
const BATCH = 1000;

/**
 * Forgets uploads older than `collectAfterSeconds` that nobody registered (no registration request,
 * no indexed work, no account uploading them again since), with their metadata documents and the
 * accounts' charges, then has the store delete the blocks no remaining root reaches. Idempotent: a
 * run repeated or interrupted leaves the same state as one that finished.
 */
export async function collectUploads(
  deps: CollectUploadsDeps,
): Promise<{ uploads: number; blocks: number; bytes: number }> {
  const { db, ipfs } = deps;
  const cutoff = new Date(Date.now() - deps.collectAfterSeconds * 1000);
  const removed: string[] = [];
  let uploads = 0;
  for (;;) {
    const { rows } = await db.query<{ cid: string; metadata_uris: string[] }>(
      `WITH expired AS (
         SELECT u.content_hash FROM uploads u
          WHERE u.created_at < $1
            AND NOT EXISTS (SELECT 1 FROM registration_requests r WHERE r.content_hash = u.content_hash)
            AND NOT EXISTS (SELECT 1 FROM works w WHERE w.content_hash = u.content_hash)
            AND NOT EXISTS (
              SELECT 1 FROM upload_charges c WHERE c.content_hash = u.content_hash AND c.created_at >= $1)
          LIMIT $2
          FOR UPDATE OF u SKIP LOCKED
       ), charges AS (
         DELETE FROM upload_charges c USING expired e WHERE c.content_hash = e.content_hash
       ), metadata AS (
         DELETE FROM work_metadata m USING expired e WHERE m.content_hash = e.content_hash
         RETURNING m.content_hash, m.metadata_uri
       )
       DELETE FROM uploads u USING expired e WHERE u.content_hash = e.content_hash
       RETURNING u.cid, ARRAY(SELECT metadata_uri FROM metadata WHERE metadata.content_hash = u.content_hash)
         AS metadata_uris`,
      [cutoff, BATCH],
    );
    for (const row of rows) removed.push(row.cid, ...row.metadata_uris);
    uploads += rows.length;
    if (rows.length < BATCH) break;
  }
  // Charges of uploads that never got stored (a process died between charge and record).
  await db.query(
    `DELETE FROM upload_charges c WHERE c.created_at < $1
        AND NOT EXISTS (SELECT 1 FROM uploads u WHERE u.content_hash = c.content_hash)`,
    [cutoff],
  );
  const { blocks, bytes } = await ipfs.collect({ removed, live: () => liveRoots(db), olderThan: cutoff });
  if (uploads > 0 || blocks > 0)
    deps.logger.info({ uploads, blocks, bytes }, "collected unregistered uploads");
  return { uploads, blocks, bytes };
}

/** Every root the platform still serves or anchors: uploads, previews, metadata documents, works and batch manifests. */
async function* liveRoots(db: Pool): AsyncGenerator<string> {
  const { rows } = await db.query<{ root: string }>(
    `SELECT cid AS root FROM uploads
     UNION SELECT cid FROM work_previews
     UNION SELECT metadata_uri FROM work_metadata
     UNION SELECT cid FROM works
     UNION SELECT metadata_uri FROM works
     UNION SELECT manifest_cid FROM notarization_batches`,
  );
  for (const row of rows) yield row.root;
}
