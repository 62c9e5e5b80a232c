/**
 * `npm run quarantine`: the logs the indexer could not index (a known event whose data does not decode,
 * or rows PostgreSQL refused), with the error and the block. Exits 1 when there are any.
 *   npm run quarantine [-- --json]      list them
 *   npm run quarantine -- --retry       re-apply them after a fix; those still failing stay listed
 * Reads DATABASE_URL as the indexer does.
 */
import { parseArgs } from "node:util";
import pg from "pg";
import { z } from "zod";
import { quarantined, type QuarantineRow } from "../indexer/db/quarantine.ts";
import { reapplyQuarantined } from "../indexer/quarantine.ts";
import { migrateIndexerSchema } from "../indexer/schema.ts";

const { values } = parseArgs({ options: { json: { type: "boolean" }, retry: { type: "boolean" } } });
const env = z
  .object({ DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, error: "must be a postgres:// URL" }) })
  .safeParse(process.env);
if (!env.success) {
  console.error(`DATABASE_URL ${env.error.issues[0]?.message ?? "is required"}`);
  process.exit(2);
}
const db = new pg.Pool({ connectionString: env.data.DATABASE_URL, max: 2 });

function print(rows: QuarantineRow[]): void {
  if (values.json) {
    console.log(
      JSON.stringify(
        rows.map((r) => ({ ...r, data: `0x${(r.data as Buffer).toString("hex")}` })),
        null,
        2,
      ),
    );
    return;
  }
  if (rows.length === 0) {
    console.log("nothing quarantined");
    return;
  }
  const lines = rows.map((r) => [
    String(r.chain_id),
    `${r.block_number}/${r.log_index}`,
    `${r.contract_name}.${r.event_name}`,
    r.reason,
    r.error_code ?? "",
    JSON.stringify(r.error.slice(0, 120)),
  ]);
  const header = ["chain", "block/log", "event", "reason", "code", "error"];
  const widths = header.map((h, c) => Math.max(h.length, ...lines.map((l) => l[c]!.length)));
  for (const line of [header, ...lines])
    console.log(line.map((cell, c) => cell.padEnd(widths[c]!)).join("  "));
}

try {
  await migrateIndexerSchema(db);
  const { rows: chains } = await db.query<{ chain_id: number }>(
    "SELECT DISTINCT chain_id::int FROM indexer_quarantine ORDER BY 1",
  );
  const remaining: QuarantineRow[] = [];
  for (const { chain_id: chainId } of chains) {
    if (values.retry) {
      const { applied, kept } = await reapplyQuarantined(db, chainId);
      if (!values.json)
        console.log(`chain ${chainId}: ${applied.length} re-applied, ${kept.length} still quarantined`);
      remaining.push(...kept);
    } else {
      remaining.push(...(await quarantined(db, chainId)));
    }
  }
  print(remaining);
  process.exitCode = remaining.length > 0 ? 1 : 0;
} finally {
  await db.end();
}
