import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { UnrecoverableError } from "bullmq";
import type { Pool } from "pg";
import type { Logger } from "pino";
import type { WorkRegistry } from "../../types/typechain/index.ts";
import { TransactionRevertedError, type Relayer } from "../chain/relayer.ts";
import type { IpfsStore } from "../ipfs/store.ts";
import { claimBatch } from "../repositories/registrations.ts";

export const LEAF_ENCODING = ["bytes32", "address"] as const;

export interface FlushBatchDeps {
  db: Pool;
  relayer: Relayer;
  registry: WorkRegistry;
  ipfs: IpfsStore;
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

/** Builds the next Merkle batch from queued requests, stores its manifest in IPFS and the proofs in PostgreSQL. */
async function buildBatch(deps: FlushBatchDeps): Promise<BatchRow | null> {
  const client = await deps.db.connect();
  try {
    await client.query("BEGIN");
    const requests = await claimBatch(client, deps.maxWorks);
    if (requests.length === 0) {
      await client.query("COMMIT");
      return null;
    }
    const values = requests.map((r) => [r.contentHash, r.creator]);
    const tree = StandardMerkleTree.of(values, [...LEAF_ENCODING]);
    const manifest = {
      format: "rights-ledger-batch/1",
      chainId: deps.chainId,
      registry: (await deps.registry.getAddress()).toLowerCase(),
      leafEncoding: LEAF_ENCODING,
      merkleRoot: tree.root,
      entries: requests.map((r) => ({
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
    const { cid } = await deps.ipfs.add(new TextEncoder().encode(JSON.stringify(manifest)));
    const { rows } = await client.query<BatchRow>(
      `INSERT INTO notarization_batches (merkle_root, leaf_count, manifest_cid, status)
       VALUES ($1, $2, $3, 'building') RETURNING id::text, merkle_root, leaf_count, manifest_cid`,
      [tree.root, requests.length, cid],
    );
    const batch = rows[0]!;
    const hashes: string[] = [];
    const leaves: string[] = [];
    const proofs: string[] = [];
    for (const [index, value] of tree.entries()) {
      hashes.push(value[0] as string);
      leaves.push(tree.leafHash(value));
      proofs.push(`{${tree.getProof(index).join(",")}}`);
    }
    await client.query(
      `UPDATE registration_requests AS r
          SET batch_id = $1, leaf = u.leaf, proof = u.proof::text[], updated_at = now()
         FROM unnest($2::text[], $3::text[], $4::text[]) AS u(content_hash, leaf, proof)
        WHERE r.content_hash = u.content_hash`,
      [batch.id, hashes, leaves, proofs],
    );
    await client.query("COMMIT");
    return batch;
  } catch (err) {
    await client.query("ROLLBACK");
    throw err;
  } finally {
    client.release();
  }
}

/** Anchors a built batch; waits for an earlier attempt's transaction instead of sending a second one. */
async function anchor(deps: FlushBatchDeps, batch: BatchRow): Promise<string> {
  const { db, relayer, registry } = deps;
  const { rows } = await db.query<{ hash: string }>(
    `SELECT hash FROM relayer_transactions WHERE purpose = 'anchorBatch' AND ref = $1 AND status IN ('sent', 'mined')
      ORDER BY sent_at DESC LIMIT 1`,
    [batch.merkle_root],
  );
  let hash = rows[0]?.hash;
  if (!hash) {
    const data = registry.interface.encodeFunctionData("anchorBatch", [
      batch.merkle_root,
      batch.leaf_count,
      batch.manifest_cid,
    ]);
    try {
      ({ hash } = await relayer.send({
        to: await registry.getAddress(),
        data,
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
        throw new UnrecoverableError(err.message);
      }
      throw err;
    }
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
    throw new UnrecoverableError(error);
  }
  if (receipt.hash !== hash) {
    await db.query(`UPDATE notarization_batches SET tx_hash = $2 WHERE id = $1`, [batch.id, receipt.hash]);
    await db.query(`UPDATE registration_requests SET tx_hash = $2 WHERE batch_id = $1`, [
      batch.id,
      receipt.hash,
    ]);
  }
  return receipt.hash;
}

/**
 * Anchors every batch that was built but not yet submitted (an earlier run stopped half-way), then
 * builds and anchors new batches until no queued request is left.
 */
export async function flushBatches(deps: FlushBatchDeps): Promise<{ batches: number; works: number }> {
  const { rows: unfinished } = await deps.db.query<BatchRow>(
    `SELECT id::text, merkle_root, leaf_count, manifest_cid FROM notarization_batches WHERE status = 'building' ORDER BY id`,
  );
  let batches = 0;
  let works = 0;
  for (const batch of unfinished) {
    await anchor(deps, batch);
    batches += 1;
    works += batch.leaf_count;
  }
  for (let batch = await buildBatch(deps); batch; batch = await buildBatch(deps)) {
    const txHash = await anchor(deps, batch);
    deps.logger.info(
      { batchId: batch.id, root: batch.merkle_root, works: batch.leaf_count, txHash },
      "anchored batch",
    );
    batches += 1;
    works += batch.leaf_count;
  }
  return { batches, works };
}
