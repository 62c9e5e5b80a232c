import type { Pool, PoolClient } from "pg";
import { Batcher } from "../../lib/batcher.ts";
import type { RegisterMessage } from "../../lib/eip712.ts";
import { outboxJobs, recordJobsSql, type Outbox, type OutboxJob } from "../queues/outbox.ts";
import { QUEUE_NAMES } from "../queues/queues.ts";

export type RequestStatus = "pending" | "submitted" | "failed";

export interface RegistrationRequest {
  contentHash: string;
  creator: string;
  cid: string;
  metadataUri: string;
  parentId: string;
  nonce: string;
  deadline: string;
  signature: string;
  mode: "direct" | "batch";
  status: RequestStatus;
  txHash: string | null;
  batchId: string | null;
  leaf: string | null;
  proof: string[] | null;
  /** The work id a direct registration's commitment reserved. */
  workId: string | null;
  /** A batch entry's leaf index (its work id is the batch's first plus this). */
  leafIndex: number | null;
  /** The EIP-712 digest of the signed message, which a batch leaf binds. */
  registrationDigest: string | null;
  error: string | null;
  createdAt: Date;
}

/** The EIP-712 `Register` message the creator signed for a request, as the registry's functions take it. */
export function signedRegistration(
  r: Pick<
    RegistrationRequest,
    "creator" | "contentHash" | "cid" | "metadataUri" | "parentId" | "nonce" | "deadline"
  >,
): RegisterMessage {
  return {
    creator: r.creator,
    contentHash: r.contentHash,
    cid: r.cid,
    metadataURI: r.metadataUri,
    parentId: BigInt(r.parentId),
    nonce: BigInt(r.nonce),
    deadline: BigInt(r.deadline),
  };
}

interface Row {
  content_hash: string;
  creator: string;
  cid: string;
  metadata_uri: string;
  parent_id: string;
  nonce: string;
  deadline: string;
  signature: string;
  mode: "direct" | "batch";
  status: RequestStatus;
  tx_hash: string | null;
  batch_id: string | null;
  leaf: string | null;
  proof: string[] | null;
  work_id: string | null;
  leaf_index: number | null;
  registration_digest: string | null;
  error: string | null;
  created_at: Date;
}

/** The request columns, each qualified with `table.` when given. */
function columns(table = ""): string {
  const prefix = table ? `${table}.` : "";
  return [
    "content_hash",
    "creator",
    "cid",
    "metadata_uri",
    "parent_id::text",
    "nonce::text",
    "deadline::text",
    "signature",
    "mode",
    "status",
    "tx_hash",
    "batch_id::text",
    "leaf",
    "proof",
    "work_id::text",
    "leaf_index",
    "registration_digest",
    "error",
    "created_at",
  ]
    .map((column) => prefix + column)
    .join(", ");
}

const COLUMNS = columns();

function toRequest(row: Row): RegistrationRequest {
  return {
    contentHash: row.content_hash,
    creator: row.creator,
    cid: row.cid,
    metadataUri: row.metadata_uri,
    parentId: row.parent_id,
    nonce: row.nonce,
    deadline: row.deadline,
    signature: row.signature,
    mode: row.mode,
    status: row.status,
    txHash: row.tx_hash,
    batchId: row.batch_id,
    leaf: row.leaf,
    proof: row.proof,
    workId: row.work_id,
    leafIndex: row.leaf_index,
    registrationDigest: row.registration_digest,
    error: row.error,
    createdAt: row.created_at,
  };
}

type Queryable = Pool | PoolClient;

export type NewRegistrationRequest = Pick<
  RegistrationRequest,
  "contentHash" | "creator" | "cid" | "metadataUri" | "parentId" | "nonce" | "deadline" | "signature" | "mode"
>;

/** What a registration must be checked against, read in one round trip. */
export interface RegistrationFacts {
  /** The uploaded file's CID, or null when nothing was uploaded under the hash. */
  uploadCid: string | null;
  /** Whether the indexer already has a claim of the hash that no earlier one supersedes. */
  registered: boolean;
  /** The parent work's creator (lower case), or null when `parentId` names no live indexed work. */
  parentCreator: string | null;
}

export async function registrationFacts(
  db: Queryable,
  contentHash: string,
  parentId: string,
): Promise<RegistrationFacts> {
  // Unnamed: the embedded database serves every pooled connection from one session, where a
  // statement name prepared by one connection collides with another's.
  const { rows } = await db.query<{
    upload_cid: string | null;
    registered: boolean;
    parent_creator: string | null;
  }>({
    text: `SELECT (SELECT cid FROM uploads WHERE content_hash = $1) AS upload_cid,
                  EXISTS (SELECT 1 FROM works WHERE content_hash = $1 AND superseded_by IS NULL) AS registered,
                  (SELECT creator FROM works WHERE work_id = $2::numeric AND superseded_by IS NULL) AS parent_creator`,
    values: [contentHash, parentId],
  });
  const row = rows[0]!;
  return { uploadCid: row.upload_cid, registered: row.registered, parentCreator: row.parent_creator };
}

/**
 * Inserts requests, or replaces failed ones, in one statement that also records the `notarize` job
 * of each direct one (one per signed request: a resubmission after a failure is a new job); answers
 * each request with its new row, or with null when a live request exists for its content hash (an
 * earlier one in `requests` included), and the jobs recorded.
 */
export async function insertRequests(
  db: Queryable,
  requests: NewRegistrationRequest[],
): Promise<{ created: (RegistrationRequest | null)[]; jobs: OutboxJob[] }> {
  const firsts = new Map<string, NewRegistrationRequest>();
  for (const r of requests) if (!firsts.has(r.contentHash)) firsts.set(r.contentHash, r);
  const rows = [...firsts.values()];
  const { rows: inserted } = await db.query<Row & { outbox_jobs: OutboxJob[] }>({
    text: `WITH inserted AS (
     INSERT INTO registration_requests (content_hash, creator, cid, metadata_uri, parent_id, nonce, deadline, signature, mode, status)
     SELECT u.content_hash, u.creator, u.cid, u.metadata_uri, u.parent_id, u.nonce, u.deadline, u.signature, u.mode, 'pending'
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::numeric[], $6::numeric[], $7::numeric[], $8::text[], $9::text[])
         AS u(content_hash, creator, cid, metadata_uri, parent_id, nonce, deadline, signature, mode)
     ON CONFLICT (content_hash) DO UPDATE SET
       creator = EXCLUDED.creator, cid = EXCLUDED.cid, metadata_uri = EXCLUDED.metadata_uri,
       parent_id = EXCLUDED.parent_id, nonce = EXCLUDED.nonce, deadline = EXCLUDED.deadline,
       signature = EXCLUDED.signature, mode = EXCLUDED.mode, status = 'pending', tx_hash = NULL,
       batch_id = NULL, leaf = NULL, proof = NULL, work_id = NULL, commit_tx_hash = NULL, leaf_index = NULL,
       registration_digest = NULL, error = NULL, claim_tx_hash = NULL, claimed_at = NULL, created_at = now(),
       updated_at = now()
     WHERE registration_requests.status = 'failed'
     RETURNING *
     ), queued AS (
       ${recordJobsSql(`SELECT $10, 'notarize-' || content_hash || '-' || nonce::text, jsonb_build_object('contentHash', content_hash)
          FROM inserted WHERE mode = 'direct'`)}
     )
     SELECT ${COLUMNS}, ${outboxJobs("queued")} FROM inserted`,
    values: [
      rows.map((r) => r.contentHash),
      rows.map((r) => r.creator),
      rows.map((r) => r.cid),
      rows.map((r) => r.metadataUri),
      rows.map((r) => r.parentId),
      rows.map((r) => r.nonce),
      rows.map((r) => r.deadline),
      rows.map((r) => r.signature),
      rows.map((r) => r.mode),
      QUEUE_NAMES.notarize,
    ],
  });
  const created = new Map(inserted.map((row) => [row.content_hash, toRequest(row)]));
  return {
    created: requests.map((r) =>
      firsts.get(r.contentHash) === r ? (created.get(r.contentHash) ?? null) : null,
    ),
    jobs: inserted[0]?.outbox_jobs ?? [],
  };
}

/** Most requests written by one statement. */
const MAX_GROUP = 200;

/**
 * Writes registration requests as they arrive, those arriving together in one statement: each
 * commit waits for the disk, so a burst of registrations pays for one flush instead of one each.
 * A statement that fails is retried one request at a time, so a bad request fails alone. The
 * notarize jobs it records are queued right after the commit.
 */
export class RequestWriter {
  readonly #batcher: Batcher<NewRegistrationRequest, RegistrationRequest | null>;

  constructor(db: Pool, outbox: Outbox) {
    this.#batcher = new Batcher(MAX_GROUP, async (requests) => {
      const { created, jobs } = await insertRequests(db, requests);
      await outbox.deliver(jobs);
      return created;
    });
  }

  /** Like insertRequests for one request: its new row, or null when a live one exists. */
  insert(request: NewRegistrationRequest): Promise<RegistrationRequest | null> {
    return this.#batcher.call(request);
  }
}

export async function findRequest(db: Queryable, contentHash: string): Promise<RegistrationRequest | null> {
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM registration_requests WHERE content_hash = $1`,
    [contentHash],
  );
  return rows[0] ? toRequest(rows[0]) : null;
}

export async function markSubmitted(db: Queryable, contentHash: string, txHash: string): Promise<void> {
  await db.query(
    `UPDATE registration_requests SET status = 'submitted', tx_hash = $2, error = NULL, updated_at = now()
      WHERE content_hash = $1`,
    [contentHash, txHash],
  );
}

/** Records the work id a direct registration's mined commitment reserved. */
export async function markCommitted(
  db: Queryable,
  contentHash: string,
  workId: bigint,
  commitTxHash: string,
): Promise<void> {
  await db.query(
    `UPDATE registration_requests SET work_id = $2, commit_tx_hash = $3, updated_at = now() WHERE content_hash = $1`,
    [contentHash, workId.toString(), commitTxHash],
  );
}

export async function markFailed(db: Queryable, contentHash: string, error: string): Promise<void> {
  await db.query(
    `UPDATE registration_requests SET status = 'failed', error = $2, updated_at = now() WHERE content_hash = $1`,
    [contentHash, error],
  );
}

export async function countQueuedForBatch(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM registration_requests WHERE mode = 'batch' AND status = 'pending' AND batch_id IS NULL`,
  );
  return rows[0]!.n;
}

/** Takes up to `limit` queued batch requests, oldest first, locking them for this transaction. */
export async function claimBatch(client: PoolClient, limit: number): Promise<RegistrationRequest[]> {
  const { rows } = await client.query<Row>(
    `SELECT ${COLUMNS} FROM registration_requests
      WHERE mode = 'batch' AND status = 'pending' AND batch_id IS NULL
      ORDER BY created_at, content_hash
      LIMIT $1
      FOR UPDATE SKIP LOCKED`,
    [limit],
  );
  return rows.map(toRequest);
}

/** A batch entry as its claim needs it: the request, its batch's root and on-chain ids, and its claim so far. */
export interface BatchLeaf {
  request: RegistrationRequest;
  merkleRoot: string;
  /** The batch's id on chain; null until its anchor is mined. */
  chainBatchId: string | null;
  claimTxHash: string | null;
  claimedAt: Date | null;
}

/** The entry at `leafIndex` of batch `batchId` (the server's batch id), or null. */
export async function findLeaf(db: Queryable, batchId: string, leafIndex: number): Promise<BatchLeaf | null> {
  const { rows } = await db.query<
    Row & {
      merkle_root: string;
      chain_batch_id: string | null;
      claim_tx_hash: string | null;
      claimed_at: Date | null;
    }
  >(
    `SELECT ${columns("r")}, b.merkle_root, b.chain_batch_id::text,
            r.claim_tx_hash, r.claimed_at
       FROM registration_requests r JOIN notarization_batches b ON b.id = r.batch_id
      WHERE r.batch_id = $1 AND r.leaf_index = $2`,
    [batchId, leafIndex],
  );
  const row = rows[0];
  if (!row) return null;
  return {
    request: toRequest(row),
    merkleRoot: row.merkle_root,
    chainBatchId: row.chain_batch_id,
    claimTxHash: row.claim_tx_hash,
    claimedAt: row.claimed_at,
  };
}

/** Records that the leaf is claimed on chain, by `txHash` or (null) by someone else's transaction. */
export async function markLeafClaimed(
  db: Queryable,
  batchId: string,
  leafIndex: number,
  txHash: string | null,
): Promise<void> {
  await db.query(
    `UPDATE registration_requests SET claim_tx_hash = $3, claimed_at = now(), error = NULL, updated_at = now()
      WHERE batch_id = $1 AND leaf_index = $2 AND claimed_at IS NULL`,
    [batchId, leafIndex, txHash],
  );
}

/** Records why the leaf's claim failed; the registration itself stays anchored. */
export async function markLeafClaimFailed(
  db: Queryable,
  batchId: string,
  leafIndex: number,
  error: string,
): Promise<void> {
  await db.query(
    `UPDATE registration_requests SET error = $3, updated_at = now() WHERE batch_id = $1 AND leaf_index = $2`,
    [batchId, leafIndex, error],
  );
}
