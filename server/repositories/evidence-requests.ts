import type { Pool } from "pg";
import { outboxJobs, recordJobsSql, type OutboxJob } from "../queues/outbox.ts";
import { QUEUE_NAMES } from "../queues/queues.ts";

export type EvidenceStatus = "queued" | "building" | "ready" | "failed";

/** What the requester said about the infringement, as stored (suspectSha256 0x-prefixed lower case). */
export interface InfringementInput {
  url?: string;
  observedAt: string;
  notes?: string;
  suspectSha256?: string;
}

export type Requester =
  { kind: "apiKey"; keyId: string; organisation?: string } | { kind: "address"; address: string };

export interface EvidenceRequest {
  id: string;
  workId: string | null;
  contentHash: string;
  /** Lower case. */
  creator: string;
  requestedBy: Requester;
  infringement: InfringementInput;
  includeOriginal: boolean;
  status: EvidenceStatus;
  error: string | null;
  bundleSha256: string | null;
  bundleSize: number | null;
  createdAt: Date;
  completedAt: Date | null;
}

export type NewEvidenceRequest = Pick<
  EvidenceRequest,
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
  infringement: InfringementInput;
  include_original: boolean;
  status: EvidenceStatus;
  error: string | null;
  bundle_sha256: string | null;
  bundle_size: number | null;
  created_at: Date;
  completed_at: Date | null;
}

const COLUMNS = `id::text, work_id::text, content_hash, creator, requested_by_key, requested_by_address, infringement,
  include_original, status, error, bundle_sha256, octet_length(bundle) AS bundle_size, created_at, completed_at`;

function toRequest(row: Row): EvidenceRequest {
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
    bundleSize: row.bundle_size,
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
  ): Promise<{ request: EvidenceRequest; jobs: OutboxJob[] }> {
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

  async find(id: string): Promise<EvidenceRequest | null> {
    const { rows } = await this.db.query<Row>(
      `SELECT ${COLUMNS},
         (SELECT k.organisation FROM api_keys k WHERE k.id = requested_by_key) AS requested_by_organisation
       FROM evidence_requests WHERE id = $1`,
      [id],
    );
    return rows[0] ? toRequest(rows[0]) : null;
  }

  /** The finished bundle's bytes, or null while it is not ready. */
  async bundle(id: string): Promise<Uint8Array | null> {
    const { rows } = await this.db.query<{ bundle: Buffer }>(
      `SELECT bundle FROM evidence_requests WHERE id = $1 AND status = 'ready'`,
      [id],
    );
    return rows[0]?.bundle ?? null;
  }

  /** Marks the request as being built; null when it is ready already (or gone), so there is nothing to do. */
  async startBuilding(id: string): Promise<EvidenceRequest | null> {
    const { rows } = await this.db.query<Row>(
      `UPDATE evidence_requests SET status = 'building', error = NULL, completed_at = NULL
        WHERE id = $1 AND status <> 'ready'
        RETURNING ${COLUMNS}`,
      [id],
    );
    return rows[0] ? toRequest(rows[0]) : null;
  }

  /** Stores the bundle; a request that is ready already keeps its first bundle. */
  async complete(id: string, bundle: Uint8Array, sha256: string): Promise<void> {
    await this.db.query(
      `UPDATE evidence_requests
          SET status = 'ready', bundle = $2, bundle_sha256 = $3, error = NULL, completed_at = now()
        WHERE id = $1 AND status <> 'ready'`,
      [id, bundle, sha256],
    );
  }

  async fail(id: string, error: string): Promise<void> {
    await this.db.query(
      `UPDATE evidence_requests SET status = 'failed', error = $2, completed_at = now()
        WHERE id = $1 AND status <> 'ready'`,
      [id, error],
    );
  }
}
