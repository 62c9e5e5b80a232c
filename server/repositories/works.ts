import type { Pool } from "pg";
import { finalityOf, headsOf, NO_HEADS, type ChainHeads } from "../../lib/finality.ts";
import type { ValueNotes } from "../../lib/api/primitives.ts";
import type { ListWorksQuery, Visibility, Work } from "../../lib/api/works.ts";
import { checksum } from "../../lib/address.ts";

/**
 * Works read newest first for a term of one or two characters before the older ones are looked up in
 * work_search_short_terms: a term found in one work in a hundred fills a page within them, and one
 * rarer than that matches few enough works for the index to fetch them all.
 */
const SHORT_TERM_SCAN = 2000;

/** Stored notes (by column) keyed by the API's field names instead. */
function valueNotesOf(stored: ValueNotes | null, fields: Record<string, string>): ValueNotes {
  if (!stored) return {};
  return Object.fromEntries(
    Object.entries(fields)
      .filter(([column]) => stored[column])
      .map(([column, field]) => [field, stored[column]!]),
  );
}

interface WorkRow {
  work_id: string;
  content_hash: string;
  creator: string;
  parent_id: string | null;
  root_id: string;
  version: number;
  title: string | null;
  cid: string;
  metadata_uri: string;
  visibility: Visibility | null;
  preview_cid: string | null;
  preview_size: string | null;
  preview_filename: string | null;
  preview_content_type: string | null;
  co_authors: string[];
  registered_at: string | null;
  superseded_by: string | null;
  value_notes: ValueNotes | null;
  block_time: Date;
  block_number: string;
  block_hash: string;
  tx_hash: string;
  log_index: number;
  head: string | null;
  safe: string | null;
  finalized: string | null;
}

/** `text` for LIKE, its %, _ and \\ taken literally. */
function likeEscaped(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function whereOf(conditions: string[]): string {
  return conditions.length ? `WHERE ${conditions.join(" AND ")}` : "";
}

// The registration's block hash and time come from the indexer's event_blocks view, the heads from chain_heads.
const SELECT = `SELECT w.work_id::text, w.content_hash, w.creator, w.parent_id::text, w.root_id::text, w.version,
  m.title, w.cid, w.metadata_uri, u.visibility, p.cid AS preview_cid, p.size::text AS preview_size,
  p.filename AS preview_filename, p.content_type AS preview_content_type, w.co_authors, w.value_notes, w.registered_at::text, w.superseded_by::text, e.block_time, w.block_number::text, e.block_hash, w.tx_hash, w.log_index,
  s.head_block::text AS head, s.safe_block::text AS safe, s.finalized_block::text AS finalized
  FROM works w
  JOIN event_blocks e ON e.block_number = w.block_number AND e.log_index = w.log_index
  LEFT JOIN work_metadata m ON m.metadata_uri = w.metadata_uri
  LEFT JOIN uploads u ON u.content_hash = w.content_hash AND u.cid = w.cid
  LEFT JOIN work_previews p ON p.content_hash = u.content_hash
  LEFT JOIN chain_heads s ON s.chain_id = $1`;

/** Reads the indexer's works and batches tables. */
export class WorksRepository {
  constructor(
    private readonly db: Pool,
    private readonly chainId: number,
    private readonly shortTermScan = SHORT_TERM_SCAN,
  ) {}

  async heads(): Promise<ChainHeads> {
    const { rows } = await this.db.query<{ head: string; safe: string; finalized: string }>(
      `SELECT head_block::text AS head, safe_block::text AS safe, finalized_block::text AS finalized
         FROM chain_heads WHERE chain_id = $1`,
      [this.chainId],
    );
    return rows[0] ? headsOf(rows[0]) : NO_HEADS;
  }

  #toWork(row: WorkRow): Work {
    const heads = headsOf(row);
    return {
      workId: row.work_id,
      contentHash: row.content_hash,
      creator: checksum(row.creator)!,
      parentId: row.parent_id,
      rootId: row.root_id,
      version: row.version,
      title: row.title,
      cid: row.cid,
      metadataURI: row.metadata_uri,
      visibility: row.visibility,
      preview:
        row.preview_cid === null
          ? null
          : {
              cid: row.preview_cid,
              url: `/ipfs/${row.preview_cid}`,
              size: Number(row.preview_size),
              filename: row.preview_filename,
              contentType: row.preview_content_type,
            },
      coAuthors: row.co_authors.map((a) => checksum(a)!),
      valueNotes: valueNotesOf(row.value_notes, { cid: "cid", metadata_uri: "metadataURI" }),
      registeredAt: (row.registered_at === null
        ? row.block_time
        : new Date(Number(row.registered_at) * 1000)
      ).toISOString(),
      supersededBy: row.superseded_by,
      blockNumber: row.block_number,
      blockHash: row.block_hash,
      txHash: row.tx_hash,
      logIndex: row.log_index,
      finality: finalityOf(row.block_number, heads),
    };
  }

  /** Runs a query built on SELECT; `params` start at $2 ($1 is the chain id). */
  async #many(sql: string, params: unknown[]): Promise<Work[]> {
    const { rows } = await this.db.query<WorkRow>(sql, [this.chainId, ...params]);
    return rows.map((row) => this.#toWork(row));
  }

  /** The work of a content hash: its earliest claim, which no other claim supersedes. */
  async findByHash(contentHash: string): Promise<Work | null> {
    return (
      (
        await this.#many(
          `${SELECT} WHERE w.content_hash = $2 ORDER BY w.superseded_by IS NOT NULL, w.work_id LIMIT 1`,
          [contentHash],
        )
      )[0] ?? null
    );
  }

  async findById(workId: string): Promise<Work | null> {
    return (await this.#many(`${SELECT} WHERE w.work_id = $2`, [workId]))[0] ?? null;
  }

  /** Newest first; `cursor` is the last work id of the previous page. */
  async list(query: ListWorksQuery): Promise<{ items: Work[]; nextCursor: string | null }> {
    const params: unknown[] = [this.chainId];
    const term = query.q;
    // A search reads work_search (case-folded text by work id), the term folded the same way in
    // SQL; one creator's works are found through works, by its creator index.
    const id = term && !query.creator ? "s.work_id" : "w.work_id";
    const from = !term
      ? "works w"
      : query.creator
        ? "works w JOIN work_search s ON s.work_id = w.work_id"
        : "work_search s";
    const where: string[] = [];
    if (query.creator) where.push(`w.creator = $${params.push(query.creator)}`);
    if (query.cursor) where.push(`${id} < $${params.push(query.cursor)}`);
    const limit = `$${params.push(query.limit + 1)}`;
    let page: string;
    if (!term) {
      page = `SELECT w.work_id FROM works w ${whereOf(where)} ORDER BY w.work_id DESC LIMIT ${limit}`;
    } else if ([...term].length <= 2) {
      const like = `lower(upper($${params.push(`%${likeEscaped(term)}%`)}))`;
      const key = `ARRAY[lower(upper($${params.push(term)}))]`;
      const newest = `SELECT ${id} AS work_id, s.title, s.description FROM ${from} ${whereOf(where)}
                      ORDER BY ${id} DESC LIMIT $${params.push(this.shortTermScan)}`;
      // The newest works first, in order; the older ones holding the term from the index, which
      // Append reads only when the newest hold less than a page. Their order is an expression (+ 0)
      // so that the planner cannot read the older works newest first instead, computing
      // short_terms for each (for minutes when the term is absent).
      page = `SELECT work_id FROM (
                (SELECT n.work_id FROM (${newest}) n
                  WHERE n.title LIKE ${like} OR n.description LIKE ${like}
                  ORDER BY n.work_id DESC LIMIT ${limit})
                UNION ALL
                (SELECT ${id} FROM ${from}
                  ${whereOf([...where, `short_terms(s.title, s.description) @> ${key}`, `${id} < (SELECT min(work_id) FROM (${newest}) n)`])}
                  ORDER BY ${id} + 0 DESC LIMIT ${limit})
              ) found LIMIT ${limit}`;
    } else {
      // Trigram indexes on both columns answer the LIKEs.
      const like = `lower(upper($${params.push(`%${likeEscaped(term)}%`)}))`;
      page = `SELECT ${id} FROM ${from}
              ${whereOf([...where, `(s.title LIKE ${like} OR s.description LIKE ${like})`])}
              ORDER BY ${id} DESC LIMIT ${limit}`;
    }
    // The page is chosen from the works and their text alone; only its works are then joined with
    // their blocks and the heads.
    const { rows } = await this.db.query<WorkRow>(
      `${SELECT} JOIN (${page}) page ON page.work_id = w.work_id ORDER BY w.work_id DESC`,
      params,
    );
    const items = rows.map((row) => this.#toWork(row));
    const more = items.length > query.limit;
    if (more) items.pop();
    return { items, nextCursor: more ? items.at(-1)!.workId : null };
  }

  /** Every version in the chain the work belongs to, oldest first. */
  async versions(workId: string): Promise<Work[]> {
    return this.#many(
      `${SELECT} WHERE w.root_id = (SELECT root_id FROM works WHERE work_id = $2) ORDER BY w.version, w.work_id`,
      [workId],
    );
  }

  /** The anchored batch a registration request was put in, by its Merkle root. */
  async findBatchForRequest(batchId: string): Promise<{ merkleRoot: string; anchored: boolean } | null> {
    const { rows } = await this.db.query<{ merkle_root: string; anchored: boolean }>(
      `SELECT nb.merkle_root, EXISTS (SELECT 1 FROM batches b WHERE b.merkle_root = nb.merkle_root) AS anchored
         FROM notarization_batches nb WHERE nb.id = $1`,
      [batchId],
    );
    return rows[0] ? { merkleRoot: rows[0].merkle_root, anchored: rows[0].anchored } : null;
  }
}
