import type { Pool } from "pg";
import { withTransaction } from "../../lib/transaction.ts";
import type { ContentKeys } from "./content-keys.ts";
import { keysToRewrap, storeWrappedKey } from "./store.ts";

const BATCH = 500;

/**
 * Re-wraps every data key that another key-encryption key than the current one wraps, in batches
 * of one transaction each (rows locked, skipped by a concurrent run). Files are not touched: their
 * data keys stay the same. Safe to run again or alongside the API; answers how many it re-wrapped.
 */
export async function rotateContentKeys(db: Pool, keys: ContentKeys): Promise<number> {
  let rewrapped = 0;
  for (;;) {
    const done = await withTransaction(db, async (client) => {
      const batch = await keysToRewrap(client, keys.current, BATCH);
      for (const { contentHash, key } of batch) {
        await storeWrappedKey(client, contentHash, keys.rewrap(key, contentHash));
      }
      return batch.length;
    });
    rewrapped += done;
    if (done < BATCH) return rewrapped;
  }
}
