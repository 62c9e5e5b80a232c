import pg, { type CustomTypesConfig, type PoolClient } from "pg";

/** PostgreSQL int8 (block numbers) read as JS numbers; numeric stays a decimal string. */
const INT8_OID = 20;
const types: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8_OID ? Number : pg.types.getTypeParser(oid, format)) as CustomTypesConfig["getTypeParser"],
};

/**
 * A table whose rows hold the current state of something (a license, a balance): changed in place by
 * later events, and restored from the undo log on a reorg.
 */
export interface CurrentTable<R> {
  readonly kind: "current";
  readonly name: string;
  readonly key: readonly (keyof R & string)[];
}

/** A table of rows that are only ever appended, one per event (or per id of a batch event). */
export interface HistoryTable<R> {
  readonly kind: "history";
  readonly name: string;
  /** Marks the row type; never set. */
  readonly row?: R;
}

export function currentTable<R>(name: string, key: readonly (keyof R & string)[]): CurrentTable<R> {
  return { kind: "current", name, key };
}

export function historyTable<R>(name: string): HistoryTable<R> {
  return { kind: "history", name };
}

/** The columns a row takes from the event it came from. */
export interface Origin {
  block_number: number;
  log_index: number;
  tx_hash: string;
}

function keyMatch<R>(table: CurrentTable<R>, left: string, right: string): string {
  return table.key.map((column) => `${left}.${column} = ${right}.${column}`).join(" AND ");
}

/** The current rows for `keys` (objects holding the key columns). */
export async function loadRows<R>(
  client: PoolClient,
  table: CurrentTable<R>,
  keys: Partial<R>[],
): Promise<R[]> {
  if (keys.length === 0) return [];
  const { rows } = await client.query<R & object>({
    text: `SELECT t.* FROM ${table.name} t
           JOIN jsonb_populate_recordset(NULL::${table.name}, $1::jsonb) k ON ${keyMatch(table, "t", "k")}`,
    values: [JSON.stringify(keys)],
    types,
  });
  return rows;
}

/** Appends rows; every column must be present. */
export async function insertRows<R>(client: PoolClient, table: HistoryTable<R> | CurrentTable<R>, rows: R[]) {
  if (rows.length === 0) return;
  await client.query(
    `INSERT INTO ${table.name} SELECT * FROM jsonb_populate_recordset(NULL::${table.name}, $1::jsonb)`,
    [JSON.stringify(rows)],
  );
}

/** Deletes the rows with these keys. */
export async function deleteRows<R>(client: PoolClient, table: CurrentTable<R>, keys: Partial<R>[]) {
  if (keys.length === 0) return;
  await client.query(
    `DELETE FROM ${table.name} t USING jsonb_populate_recordset(NULL::${table.name}, $1::jsonb) k
     WHERE ${keyMatch(table, "t", "k")}`,
    [JSON.stringify(keys)],
  );
}

/** Deletes the rows of blocks above `block`. */
export async function deleteAbove(client: PoolClient, table: HistoryTable<unknown>, block: number) {
  await client.query(`DELETE FROM ${table.name} WHERE block_number > $1`, [block]);
}

/**
 * Restores a current-state table to how it was at the end of block `block`: every row changed above
 * it gets the image recorded before its first change above it, or is removed if it did not exist.
 */
export async function restoreFromUndo<R>(client: PoolClient, table: CurrentTable<R>, block: number) {
  const firsts = `SELECT DISTINCT ON (row_key) row_key, prior FROM indexer_undo
                  WHERE table_name = $1 AND block_number > $2 ORDER BY row_key, block_number, seq`;
  await client.query(
    `DELETE FROM ${table.name} t USING (${firsts}) f, jsonb_populate_record(NULL::${table.name}, f.row_key) k
     WHERE ${keyMatch(table, "t", "k")}`,
    [table.name, block],
  );
  await client.query(
    `INSERT INTO ${table.name}
     SELECT (jsonb_populate_record(NULL::${table.name}, f.prior)).* FROM (${firsts}) f WHERE f.prior IS NOT NULL`,
    [table.name, block],
  );
}
