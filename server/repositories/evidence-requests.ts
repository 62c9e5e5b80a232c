import { Readable } from "node:stream";
import type { Pool } from "pg";
import type { EvidenceStatus, Infringement } from "../../lib/api/evidence.ts";
import { withTransaction } from "../../lib/transaction.ts";
import { outboxJobs, recordJobsSql, type OutboxJob } from "../queues/outbox.ts";
import { QUEUE_NAMES } from "../queues/queues.ts";

export type Requester =
  { kind: "apiKey"; keyId: string; organisation?: string } | { kind: "address"; address: string };

/** A request as stored: the requester, the raw bundle columns and dates (the API answers an `EvidenceRequest`). */
export interface EvidenceRequestRecord {
  id: string;
  workId: string | null;
  contentHash: string;
  /** Lower case. */
  creator: string;
  requestedBy: Requester;
  infringement: Infringement;
  includeOriginal: boolean;
  status: EvidenceStatus;
  error: string | null;
  bundleSha256: string | null;
  bundleSize: number | null;
  /** Where in the bundle store the bundle is; null for one built before bundles left PostgreSQL's rows. */
  bundleLocation: string | null;
  createdAt: Date;
  completedAt: Date | null;
}

export type NewEvidenceRequest = Pick<
  EvidenceRequestRecord,
  "id" | "workId" | "contentHash" | "creator" | "requestedBy" | "infringement" | "includeOriginal"
>;

interface Row {
  id: string;
  work_id: string | null;
  content_hash: string;
  creator: string;
  requested_by_key: string | null;
  requested_by_address: string | null;
  requested_by_organisation?: string;
  infringement: Infringement;
  include_original: boolean;
  status: EvidenceStatus;
  error: string | null;
  bundle_sha256: string | null;
  bundle_size: string | null;
  bundle_location: string | null;
  created_at: Date;
  completed_at: Date | null;
}

const COLUMNS = `id::text, work_id::text, content_hash, creator, requested_by_key, requested_by_address, infringement,
  include_original, status, error, bundle_sha256, bundle_size::text, bundle_location, created_at, completed_at`;

/** Who a request's stored bundles count against: the organisation of its API key, or its wallet. */
const OWNER = `COALESCE('org:' || (SELECT k.organisation FROM api_keys k WHERE k.id = r.requested_by_key),
  'wallet:' || r.requested_by_address)`;

/** SQL condition on a request aliased `r`: `$1` (an OWNER value) made it, through one of its keys or its wallet. */
const OWNED_BY = `(r.requested_by_key IN (SELECT k.id FROM api_keys k
                        WHERE k.organisation = CASE WHEN $1 LIKE 'org:%' THEN substr($1, 5) END)
  OR r.requested_by_address = CASE WHEN $1 LIKE 'wallet:%' THEN substr($1, 8) END)`;

/** Bytes the ready bundles of `owner` take, found through the indexes of ready requests. */
const USED_BYTES = `SELECT COALESCE(sum(r.bundle_size), 0)::text AS used FROM evidence_requests r
  WHERE r.status = 'ready' AND ${OWNED_BY}`;

/** Most bytes a bundle kept in its row (built before bundles left PostgreSQL) is read in at once. */
const ROW_CHUNK_BYTES = 1024 * 1024;

/** What storing a finished bundle came to. */
export type Completion =
  | { kind: "stored" }
  /** Another run stored its bundle first. */
  | { kind: "ready-already" }
  /** The requester's stored bundles and this one would exceed its quota. */
  | { kind: "over-quota"; usedBytes: number };

/** The owner key of a requester, as OWNER computes it for its requests. */
export function ownerOf(requester: Requester): string {
  return requester.kind === "apiKey"
    ? `org:${requester.organisation ?? requester.keyId}`
    : `wallet:${requester.address}`;
}

function toRequest(row: Row): EvidenceRequestRecord {
  return {
    id: row.id,
    workId: row.work_id,
    contentHash: row.content_hash,
    creator: row.creator,
    requestedBy:
      row.requested_by_key !== null
        ? { kind: "apiKey", keyId: row.requested_by_key, organisation: row.requested_by_organisation }
        : { kind: "address", address: row.requested_by_address! },
    infringement: row.infringement,
    includeOriginal: row.include_original,
    status: row.status,
    error: row.error,
    bundleSha256: row.bundle_sha256,
    bundleSize: row.bundle_size === null ? null : Number(row.bundle_size),
    bundleLocation: row.bundle_location,
    createdAt: row.created_at,
    completedAt: row.completed_at,
  };
}

/** The server's evidence_requests table: requests, their progress and the finished bundles. */
export class EvidenceRequestsRepository {
  constructor(private readonly db: Pool) {}

  /** Records a request, and with `queue` the `evidence` job that builds it (in the outbox); answers both. */
  async insert(
    r: NewEvidenceRequest,
    { queue }: { queue: boolean },
  ): Promise<{ request: EvidenceRequestRecord; jobs: OutboxJob[] }> {
    const { rows } = await this.db.query<Row & { outbox_jobs: OutboxJob[] }>(
      `WITH inserted AS (
         INSERT INTO evidence_requests (id, work_id, content_hash, creator, requested_by_key, requested_by_address,
           infringement, include_original, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued')
         RETURNING *
       ), queued AS (
         ${recordJobsSql(`SELECT $9, 'evidence-' || id, jsonb_build_object('requestId', id) FROM inserted WHERE $10`)}
       )
       SELECT ${COLUMNS}, ${outboxJobs("queued")} FROM inserted`,
      [
        r.id,
        r.workId,
        r.contentHash,
        r.creator,
        r.requestedBy.kind === "apiKey" ? r.requestedBy.keyId : null,
        r.requestedBy.kind === "address" ? r.requestedBy.address : null,
        JSON.stringify(r.infringement),
        r.includeOriginal,
        QUEUE_NAMES.evidence,
        queue,
      ],
    );
    return { request: toRequest(rows[0]!), jobs: rows[0]!.outbox_jobs };
  }

  async find(id: string): Promise<EvidenceRequestRecord | null> {
    const { rows } = await this.db.query<Row>(
      `SELECT ${COLUMNS},
         (SELECT k.organisation FROM api_keys k WHERE k.id = requested_by_key) AS requested_by_organisation
       FROM evidence_requests WHERE id = $1`,
      [id],
    );
    return rows[0] ? toRequest(rows[0]) : null;
  }

  /** Bytes the ready bundles of a requester's organisation (or wallet) take. */
  async usedBytes(requester: Requester): Promise<number> {
    const { rows } = await this.db.query<{ used: string }>(USED_BYTES, [ownerOf(requester)]);
    return Number(rows[0]!.used);
  }

  /** Requests of a requester's organisation (or wallet) still waiting for their bundle. */
  async pendingCount(requester: Requester): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM evidence_requests r
        WHERE r.status IN ('queued', 'building') AND ${OWNED_BY}`,
      [ownerOf(requester)],
    );
    return rows[0]!.n;
  }

  /**
   * Bytes `start` to `end` (inclusive) of a bundle built before bundles left PostgreSQL's rows,
   * read a chunk per query so a download never holds it whole.
   */
  rowBundle(id: string, start: number, end: number): Readable {
    const db = this.db;
    return Readable.from(
      (async function* () {
        for (let offset = start; offset <= end; offset += ROW_CHUNK_BYTES) {
          const length = Math.min(ROW_CHUNK_BYTES, end - offset + 1);
          const { rows } = await db.query<{ chunk: Buffer }>(
            `SELECT substring(bundle FROM $2 FOR $3) AS chunk FROM evidence_requests WHERE id = $1`,
            [id, offset + 1, length],
          );
          yield rows[0]!.chunk;
        }
      })(),
    );
  }

  /** Marks the request as being built; null when it is ready already (or gone), so there is nothing to do. */
  async startBuilding(id: string): Promise<EvidenceRequestRecord | null> {
    const { rows } = await this.db.query<Row>(
      `UPDATE evidence_requests SET status = 'building', error = NULL, completed_at = NULL
        WHERE id = $1 AND status <> 'ready'
        RETURNING ${COLUMNS}`,
      [id],
    );
    return rows[0] ? toRequest(rows[0]) : null;
  }

  /**
   * Records a bundle written to the bundle store, unless the request is ready already (it keeps
   * its first bundle) or the requester's stored bundles and this one would exceed `quotaBytes`.
   * Counted under a lock of the requester's organisation, so concurrent builds cannot both slip in.
   */
  async complete(
    id: string,
    bundle: { location: string; size: number; sha256: string },
    quotaBytes: number,
  ): Promise<Completion> {
    return withTransaction(this.db, async (client) => {
      const { rows } = await client.query<{ owner: string }>(
        `SELECT ${OWNER} AS owner FROM evidence_requests r WHERE r.id = $1`,
        [id],
      );
      const owner = rows[0]!.owner;
      await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('evidence-quota:' || $1, 0))`, [
        owner,
      ]);
      const used = Number((await client.query<{ used: string }>(USED_BYTES, [owner])).rows[0]!.used);
      if (used + bundle.size > quotaBytes) return { kind: "over-quota", usedBytes: used };
      const stored = await client.query(
        `UPDATE evidence_requests
            SET status = 'ready', bundle_location = $2, bundle_size = $3, bundle_sha256 = $4, error = NULL,
                completed_at = now()
          WHERE id = $1 AND status <> 'ready'`,
        [id, bundle.location, bundle.size, bundle.sha256],
      );
      return stored.rowCount === 1 ? { kind: "stored" } : { kind: "ready-already" };
    });
  }

  async fail(id: string, error: string): Promise<void> {
    await this.db.query(
      `UPDATE evidence_requests SET status = 'failed', error = $2, completed_at = now()
        WHERE id = $1 AND status <> 'ready'`,
      [id, error],
    );
  }
}
