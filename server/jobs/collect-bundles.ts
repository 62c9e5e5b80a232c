import type { Pool } from "pg";
import type { Logger } from "pino";
import type { EvidenceBundleStore } from "../evidence/bundle-store.ts";

export interface CollectBundlesDeps {
  db: Pool;
  bundles: EvidenceBundleStore;
  logger: Logger;
  /** How old an unrecorded bundle file must be before it is deleted: longer than any build takes. */
  collectAfterSeconds: number;
}

/**
 * Deletes evidence bundle files no request records: a worker that died between writing a bundle and
 * recording it, or a build refused over quota after its write, leaves one behind, and those count
 * against no quota. Only files older than `collectAfterSeconds` go, so a build finishing now keeps its file.
 */
export async function collectBundles(deps: CollectBundlesDeps): Promise<number> {
  const before = new Date(Date.now() - deps.collectAfterSeconds * 1000);
  const removed = await deps.bundles.collect(before, async (locations) => {
    const { rows } = await deps.db.query<{ location: string }>(
      `SELECT bundle_location AS location FROM evidence_requests WHERE bundle_location = ANY($1::text[])`,
      [locations],
    );
    return new Set(rows.map((r) => r.location));
  });
  if (removed > 0) deps.logger.info({ removed }, "collected evidence bundle files no request records");
  return removed;
}
