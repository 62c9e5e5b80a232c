import { withTransaction } from "../../lib/transaction.ts";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { TypedDataEncoder } from "ethers";
import { REGISTER_TYPES, registryDomain } from "../../lib/eip712.ts";
import { BATCH_LEAF_ENCODING } from "../../lib/evidence/registry.ts";
import type { Pool } from "pg";
import type { Logger } from "pino";
import type { WorkRegistry } from "../../types/typechain/index.ts";
import { TransactionRevertedError, type Relayer } from "../chain/relayer.ts";
import type { IpfsStore } from "../ipfs/store.ts";
import { cidOf } from "../ipfs/unixfs-options.ts";
import { recordJobs, type Outbox } from "../queues/outbox.ts";
import { claimLeafJob } from "../queues/queues.ts";
import { claimBatch, signedRegistration } from "../repositories/registrations.ts";
import { PermanentError } from "../errors.ts";

export interface FlushBatchDeps {
  db: Pool;
  relayer: Relayer;
  registry: WorkRegistry;
  ipfs: IpfsStore;
  outbox: Outbox;
  logger: Logger;
  chainId: number;
  maxWorks: number;
}

interface BatchRow {
  id: string;
  merkle_root: string;
  leaf_count: number;
  manifest_cid: string;
}

const BATCH_COLUMNS = "id::text, merkle_root, leaf_count, manifest_cid";

/**
 * Builds the next Merkle batch from queued requests. Leaf `i` binds the creator, the hash and the
 * digest the creator signed, and becomes work `firstWorkId + i` when claimed (server/jobs/claim-leaf.ts). The manifest's CID is
 * computed here, but its bytes wait in PostgreSQL until the anchor is mined: whoever read them
 * earlier could commit to the hashes before the batch reserved their ids.
 */
async function buildBatch(deps: FlushBatchDeps): Promise<BatchRow | null> {
  return withTransaction(deps.db, async (client) => {
    const requests = await claimBatch(client, deps.maxWorks);
    if (requests.length === 0) return null;
    const registry = (await deps.registry.getAddress()).toLowerCase();
    const domain = registryDomain(BigInt(deps.chainId), registry);
    const digests = requests.map((r) => TypedDataEncoder.hash(domain, REGISTER_TYPES, signedRegistration(r)));
    const values = requests.map((r, i) => [BigInt(i), r.creator, r.contentHash, digests[i]!]);
    const tree = StandardMerkleTree.of(values, [...BATCH_LEAF_ENCODING]);
    const manifest = {
      format: "rights-ledger-batch/2",
      chainId: deps.chainId,
      registry,
      leafEncoding: BATCH_LEAF_ENCODING,
      merkleRoot: tree.root,
      entries: requests.map((r, i) => ({
        index: i,
        registrationDigest: digests[i],
        contentHash: r.contentHash,
        creator: r.creator,
        cid: r.cid,
        metadataURI: r.metadataUri,
        parentId: r.parentId,
        nonce: r.nonce,
        deadline: r.deadline,
        signature: r.signature,
      })),
    };
    const text = JSON.stringify(manifest);
    const cid = await cidOf(new TextEncoder().encode(text));
    const { rows } = await client.query<BatchRow>(
      `INSERT INTO notarization_batches (merkle_root, leaf_count, manifest_cid, status, manifest, published)
       VALUES ($1, $2, $3, 'building', $4, false) RETURNING ${BATCH_COLUMNS}`,
      [tree.root, requests.length, cid, text],
    );
    const batch = rows[0]!;
    const hashes: string[] = [];
    const leaves: string[] = [];
    const proofs: string[] = [];
    const indexes: number[] = [];
    for (const [treeIndex, value] of tree.entries()) {
      indexes.push(Number(value[0]));
      hashes.push(value[2] as string);
      leaves.push(tree.leafHash(value));
      proofs.push(`{${tree.getProof(treeIndex).join(",")}}`);
    }
    await client.query(
      `UPDATE registration_requests AS r
          SET batch_id = $1, leaf = u.leaf, proof = u.proof::text[], leaf_index = u.leaf_index,
              registration_digest = u.digest, updated_at = now()
         FROM unnest($2::text[], $3::text[], $4::text[], $5::int[], $6::text[])
           AS u(content_hash, leaf, proof, leaf_index, digest)
        WHERE r.content_hash = u.content_hash`,
      [batch.id, hashes, leaves, proofs, indexes, indexes.map((i) => digests[i]!)],
    );
    return batch;
  });
}

/** Anchors a built batch; waits for an earlier attempt's transaction instead of sending a second one. */
async function anchor(deps: FlushBatchDeps, batch: BatchRow): Promise<string> {
  const { db, relayer, registry } = deps;
  let hash: string;
  try {
    ({ hash } = await relayer.sendOnce({
      to: await registry.getAddress(),
      data: registry.interface.encodeFunctionData("anchorBatch", [
        batch.merkle_root,
        batch.leaf_count,
        batch.manifest_cid,
      ]),
      purpose: "anchorBatch",
      ref: batch.merkle_root,
    }));
  } catch (err) {
    if (err instanceof TransactionRevertedError) {
      await db.query(`UPDATE notarization_batches SET status = 'failed', error = $2 WHERE id = $1`, [
        batch.id,
        err.message,
      ]);
      await db.query(
        `UPDATE registration_requests SET status = 'failed', error = $2, updated_at = now() WHERE batch_id = $1`,
        [batch.id, err.message],
      );
      throw new PermanentError(err.message);
    }
    throw err;
  }
  await db.query(`UPDATE notarization_batches SET tx_hash = $2, status = 'submitted' WHERE id = $1`, [
    batch.id,
    hash,
  ]);
  await db.query(
    `UPDATE registration_requests SET status = 'submitted', tx_hash = $2, updated_at = now() WHERE batch_id = $1`,
    [batch.id, hash],
  );
  const receipt = await relayer.wait(hash);
  if (receipt.status !== 1) {
    const error = `anchorBatch ${receipt.hash} reverted`;
    await db.query(`UPDATE notarization_batches SET status = 'failed', error = $2 WHERE id = $1`, [
      batch.id,
      error,
    ]);
    await db.query(
      `UPDATE registration_requests SET status = 'failed', error = $2, updated_at = now() WHERE batch_id = $1`,
      [batch.id, error],
    );
    throw new PermanentError(error);
  }
  const anchored = receipt.logs
    .map((log) => registry.interface.parseLog(log))
    .find((parsed) => parsed?.name === "BatchAnchored");
  if (!anchored) throw new PermanentError(`anchorBatch ${receipt.hash} anchored no batch`);
  const firstWorkId = anchored.args.firstWorkId as bigint;
  // Each leaf's work id is known now, and is claimed under it.
  await db.query(
    `UPDATE notarization_batches SET tx_hash = $2, chain_batch_id = $3, first_work_id = $4 WHERE id = $1`,
    [batch.id, receipt.hash, (anchored.args.batchId as bigint).toString(), firstWorkId.toString()],
  );
  await db.query(
    `UPDATE registration_requests SET tx_hash = $2, work_id = $3 + leaf_index, updated_at = now() WHERE batch_id = $1`,
    [batch.id, receipt.hash, firstWorkId.toString()],
  );
  return receipt.hash;
}

/** Publishes an anchored batch's manifest to IPFS under the CID the anchor named, and queues its leaves' claims. */
async function publish(deps: FlushBatchDeps, batch: BatchRow): Promise<void> {
  const { rows } = await deps.db.query<{ manifest: string }>(
    `SELECT manifest FROM notarization_batches WHERE id = $1`,
    [batch.id],
  );
  const { cid } = await deps.ipfs.add(new TextEncoder().encode(rows[0]!.manifest));
  if (cid !== batch.manifest_cid) {
    throw new PermanentError(
      `manifest of batch ${batch.id} stored as ${cid}, anchored as ${batch.manifest_cid}`,
    );
  }
  // Published and every leaf's claim queued in one transaction, so a flush that stops between the
  // two is taken up again until both are done.
  const jobs = await withTransaction(deps.db, async (client) => {
    await client.query(`UPDATE notarization_batches SET published = true WHERE id = $1`, [batch.id]);
    return recordJobs(
      client,
      Array.from({ length: batch.leaf_count }, (_, index) => claimLeafJob(batch.id, index)),
    );
  });
  await deps.outbox.deliver(jobs);
}

/**
 * Anchors every batch that was built but not yet submitted and publishes every anchored manifest
 * not yet published (an earlier run stopped half-way) or anchored before its leaves' ids were
 * recorded (their ids are read back from the anchor and their claims queued), then builds, anchors
 * and publishes new batches until no queued request is left.
 */
export async function flushBatches(deps: FlushBatchDeps): Promise<{ batches: number; works: number }> {
  const { rows: unfinished } = await deps.db.query<BatchRow & { status: string }>(
    `SELECT ${BATCH_COLUMNS}, status FROM notarization_batches
      WHERE status = 'building' OR (status = 'submitted' AND (NOT published OR chain_batch_id IS NULL))
      ORDER BY id`,
  );
  let batches = 0;
  let works = 0;
  for (const batch of unfinished) {
    // A submitted batch is anchored by the transaction in the relayer's ledger, and never again.
    if (batch.status === "submitted" && !(await deps.relayer.sentFor("anchorBatch", batch.merkle_root))) {
      deps.logger.error({ batchId: batch.id }, "submitted batch has no anchor transaction on record");
      continue;
    }
    await anchor(deps, batch);
    await publish(deps, batch);
    batches += 1;
    works += batch.leaf_count;
  }
  for (let batch = await buildBatch(deps); batch; batch = await buildBatch(deps)) {
    const txHash = await anchor(deps, batch);
    await publish(deps, batch);
    deps.logger.info(
      { batchId: batch.id, root: batch.merkle_root, works: batch.leaf_count, txHash },
      "anchored batch",
    );
    batches += 1;
    works += batch.leaf_count;
  }
  return { batches, works };
}
