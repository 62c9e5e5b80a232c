import type { Pool, PoolClient } from "pg";

/** Where a statement can run: the pool, or a connection holding a transaction. */
export type Queryable = Pool | PoolClient;

/**
 * Runs `work` in one transaction on a connection of its own: COMMIT when it resolves, ROLLBACK when
 * it throws. A connection whose transaction failed is discarded rather than returned to the pool,
 * since a connection that broke mid-statement cannot be trusted with the next one.
 */
export async function withTransaction<T>(db: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await db.connect();
  let failed = false;
  try {
    return await inTransaction(client, work);
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    client.release(failed);
  }
}

/** Runs `work` in one transaction on a connection the caller holds (and releases). */
export async function inTransaction<C extends Pick<PoolClient, "query">, T>(
  client: C,
  work: (client: C) => Promise<T>,
): Promise<T> {
  await client.query("BEGIN");
  try {
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  }
}
