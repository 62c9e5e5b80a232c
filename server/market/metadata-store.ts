import type { Pool } from "pg";
import type { ItemMetadata } from "../../lib/api/items.ts";

/** A failed read is tried again after this long: the store or the document may have come back. */
export const RETRY_FAILED_SECONDS = 600;

/** SQL: whether the item_metadata row `m` is still valid, `seconds` binding RETRY_FAILED_SECONDS. */
export const keptMetadata = (m: string, seconds: string) =>
  `(${m}.status <> 'failed' OR ${m}.resolved_at > now() - make_interval(secs => ${seconds}))`;

export interface ItemUri {
  itemId: string;
  uri: string;
}

/** An item type's current URI and the metadata kept for it, if any is still valid (`status` null if none). */
export interface CurrentMetadataRow {
  item_id: string;
  uri: string;
  status: ItemMetadata["status"] | null;
  name: string | null;
  description: string | null;
  image: string | null;
}

/** The current URI of item types, and the kept metadata of those URIs that have some (keyed `itemId uri`). */
export interface CurrentMetadata {
  uris: ItemUri[];
  kept: Map<string, ItemMetadata>;
}

/** CurrentMetadata of rows, each item type once. */
export function currentMetadataOf(rows: CurrentMetadataRow[]): CurrentMetadata {
  const uris = new Map<string, ItemUri>();
  const kept = new Map<string, ItemMetadata>();
  for (const r of rows) {
    uris.set(r.item_id, { itemId: r.item_id, uri: r.uri });
    if (r.status !== null) {
      kept.set(`${r.item_id} ${r.uri}`, {
        status: r.status,
        name: r.name,
        description: r.description,
        image: r.image,
      });
    }
  }
  return { uris: [...uris.values()], kept };
}

/** Item metadata read from the items' URIs, kept per (item, URI). */
export class MetadataStore {
  constructor(private readonly db: Pool) {}

  /** The kept metadata of each (item, URI) asked for that has some still valid, keyed `itemId uri`. */
  async find(items: ItemUri[]): Promise<Map<string, ItemMetadata>> {
    if (items.length === 0) return new Map();
    const { rows } = await this.db.query<{
      item_id: string;
      uri: string;
      status: ItemMetadata["status"];
      name: string | null;
      description: string | null;
      image: string | null;
    }>(
      `SELECT m.item_id::text, m.uri, m.status, m.name, m.description, m.image
         FROM item_metadata m
         JOIN unnest($1::numeric[], $2::text[]) AS k (item_id, uri) ON k.item_id = m.item_id AND k.uri = m.uri
        WHERE ${keptMetadata("m", "$3")}`,
      [items.map((i) => i.itemId), items.map((i) => i.uri), RETRY_FAILED_SECONDS],
    );
    return new Map(
      rows.map((r) => [
        `${r.item_id} ${r.uri}`,
        { status: r.status, name: r.name, description: r.description, image: r.image },
      ]),
    );
  }

  async save(item: ItemUri, metadata: ItemMetadata): Promise<void> {
    await this.db.query(
      `INSERT INTO item_metadata (item_id, uri, status, name, description, image) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (item_id, uri) DO UPDATE SET status = EXCLUDED.status, name = EXCLUDED.name,
         description = EXCLUDED.description, image = EXCLUDED.image, resolved_at = now()`,
      [item.itemId, item.uri, metadata.status, metadata.name, metadata.description, metadata.image],
    );
  }

  /** Item types (current URI) whose metadata was never read, or whose read failed a while ago. */
  async unresolved(limit: number): Promise<ItemUri[]> {
    const { rows } = await this.db.query<{ item_id: string; uri: string }>(
      `SELECT g.item_id::text, g.uri FROM game_items g
        WHERE NOT EXISTS (
          SELECT 1 FROM item_metadata m WHERE m.item_id = g.item_id AND m.uri = g.uri
             AND ${keptMetadata("m", "$2")})
        ORDER BY g.item_id LIMIT $1`,
      [limit, RETRY_FAILED_SECONDS],
    );
    return rows.map((r) => ({ itemId: r.item_id, uri: r.uri }));
  }

  /** Ids of item types whose current name contains every word of `q`, case-insensitively (at most `limit`). */
  async idsNamed(q: string, limit: number): Promise<string[]> {
    const patterns = q
      .toLowerCase()
      .split(/\s+/)
      .filter(Boolean)
      .map((word) => `%${word.replace(/[\\%_]/g, "\\$&")}%`);
    const { rows } = await this.db.query<{ item_id: string }>(
      `SELECT g.item_id::text FROM game_items g
         JOIN item_metadata m ON m.item_id = g.item_id AND m.uri = g.uri
        WHERE lower(m.name) LIKE ALL($1::text[])
        ORDER BY g.item_id LIMIT $2`,
      [patterns, limit],
    );
    return rows.map((r) => r.item_id);
  }

  /**
   * The current URI of each item type asked for, and the kept metadata of those URIs that have some
   * still valid (keyed `itemId uri`), in one read.
   */
  async current(itemIds: string[]): Promise<CurrentMetadata> {
    if (itemIds.length === 0) return { uris: [], kept: new Map() };
    const { rows } = await this.db.query<CurrentMetadataRow>(
      `SELECT g.item_id::text, g.uri, m.status, m.name, m.description, m.image
         FROM game_items g
         LEFT JOIN item_metadata m ON m.item_id = g.item_id AND m.uri = g.uri AND ${keptMetadata("m", "$2")}
        WHERE g.item_id = ANY($1::numeric[])`,
      [itemIds, RETRY_FAILED_SECONDS],
    );
    return currentMetadataOf(rows);
  }
}
