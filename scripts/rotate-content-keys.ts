/**
 * `npm run rotate-content-keys`: re-wraps the data key of every private original under the first
 * key of CONTENT_KEYS. Rotate by putting a new key first (`new:…,old:…`), restarting the API and
 * workers, running this, and only then dropping the old key. Reads DATABASE_URL, CONTENT_KEYS and
 * (outside production, for the derived development key) SESSION_SECRET.
 */
import pg from "pg";
import { ContentKeys } from "../server/content/content-keys.ts";
import { rotateContentKeys } from "../server/content/rotate-keys.ts";
import { keyUsage } from "../server/content/store.ts";
import { configOrExit, loadContentKeysConfig } from "../server/config.ts";

const config = configOrExit(() => loadContentKeysConfig());
const db = new pg.Pool({ connectionString: config.database.url, max: 2 });
try {
  const keys = new ContentKeys(config.content.keys);
  const rewrapped = await rotateContentKeys(db, keys);
  console.log(`re-wrapped ${rewrapped} data keys under ${keys.current}`);
  for (const [id, n] of Object.entries(await keyUsage(db))) console.log(`  ${id}: ${n} data keys`);
} finally {
  await db.end();
}
