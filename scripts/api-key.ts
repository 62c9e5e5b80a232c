/**
 * Creates an API key straight in the database, for bootstrapping (the first legal or admin key):
 *   DATABASE_URL=… npm run api-key -- --name "Legal team" --scope legal [--scope admin] [--organisation "Firm"]
 * Prints the key once.
 */
import { parseArgs } from "node:util";
import pg from "pg";
import { API_KEY_SCOPES, type ApiKeyScope } from "../lib/api/api-keys.ts";
import { ApiKeys } from "../server/auth/api-keys.ts";
import { migrateServerSchema } from "../server/schema.ts";

const { values } = parseArgs({
  options: {
    name: { type: "string" },
    scope: { type: "string", multiple: true },
    organisation: { type: "string" },
  },
});
const scopes = values.scope ?? [];
if (
  !values.name ||
  scopes.length === 0 ||
  scopes.some((s) => !(API_KEY_SCOPES as readonly string[]).includes(s))
) {
  console.error(
    `usage: npm run api-key -- --name <name> --scope <${API_KEY_SCOPES.join("|")}> [--scope …] [--organisation <name>]`,
  );
  process.exit(2);
}
if (!process.env.DATABASE_URL) {
  console.error("DATABASE_URL is required");
  process.exit(2);
}
const db = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 1 });
try {
  await migrateServerSchema(db);
  const { key, apiKey } = await new ApiKeys(db).create(
    values.name,
    scopes as ApiKeyScope[],
    values.organisation?.trim() || undefined,
  );
  console.log(
    `${key}\n(id ${apiKey.id}, organisation ${apiKey.organisation}, scopes ${apiKey.scopes.join(", ")}; shown once)`,
  );
} finally {
  await db.end();
}
