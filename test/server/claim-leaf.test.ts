import { expect } from "chai";
import pino from "pino";
import request from "supertest";
import { BatchClaimer, leafRef } from "../../server/chain/batch-claimer.ts";
import { claimLeaf, type ClaimLeafDeps } from "../../server/jobs/claim-leaf.ts";
import { flushBatches } from "../../server/jobs/flush-batch.ts";
import { Outbox } from "../../server/queues/outbox.ts";
import { Recoveries } from "../../server/recoveries.ts";
import { findLeaf, signedRegistration } from "../../server/repositories/registrations.ts";
import { submitRegistration } from "../helpers/commerce.ts";
import { commitAndReveal } from "../helpers/registry.ts";
import { sessionToken, startTestStack, type TestStack } from "../helpers/stack.ts";

/** Relayer transactions that claim leaf `ref`, alone or in a group. */
async function claimTransactions(stack: TestStack, ref: string): Promise<number> {
  const { rows } = await stack.db.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM relayer_transactions WHERE ref = $1 OR item_refs @> ARRAY[$1]`,
    [ref],
  );
  return rows[0]!.n;
}

describe("batch leaf claims", function () {
  let stack: TestStack;
  let outbox: Outbox;
  let deps: ClaimLeafDeps;
  const logger = pino({ level: "silent" });

  before(async () => {
    // Workers stopped: the test runs the flush and the claim job itself, and acts between them.
    stack = await startTestStack("claim_leaf", {
      env: { NOTARIZE_MODE: "batch", BATCH_MAX_WORKS: "10", BATCH_FLUSH_SECONDS: "3600" },
      workers: false,
    });
    outbox = new Outbox({
      db: stack.db.pool,
      queues: stack.queues,
      logger,
      recoveries: new Recoveries(stack.cache.redis, stack.cache.prefix, logger),
    });
    deps = {
      db: stack.db.pool,
      relayer: stack.relayer,
      claimer: new BatchClaimer(stack.relayer, stack.registry),
      registry: stack.registry,
      logger,
    };
  });
  after(async () => stack.stop());

  const flush = () =>
    flushBatches({
      db: stack.db.pool,
      relayer: stack.relayer,
      registry: stack.registry,
      ipfs: stack.ipfs,
      outbox,
      logger,
      chainId: stack.chainId,
      maxWorks: 10,
    });

  it("gives the batch creator the work a squatter claimed between the anchor and the claim, sending one claim when the job runs again after dying", async () => {
    const creator = await stack.signer(5);
    const squatter = await stack.signer(6);
    const hash = await submitRegistration(stack, creator, Buffer.from("lighthouse in fog, first draft"));
    expect(await flush()).to.deep.equal({ batches: 1, works: 1 });
    const { rows } = await stack.db.pool.query<{ id: string; merkle_root: string; first_work_id: string }>(
      `SELECT id::text, merkle_root, first_work_id::text FROM notarization_batches`,
    );
    const batch = rows[0]!;
    const leafWorkId = BigInt(batch.first_work_id);
    // The anchor queued the leaf's claim.
    expect(await stack.queues.claimLeaf.getJob(`claim-${batch.id}-0`)).to.not.equal(undefined);

    // The squatter read the published manifest and claims the hash directly before the leaf is claimed.
    const squatterId = (await commitAndReveal(stack.registry.connect(squatter), squatter, hash)).workId;
    expect(squatterId).to.be.greaterThan(leafWorkId);
    expect(await stack.registry.workOf(hash)).to.equal(squatterId);
    // Meanwhile the creator's registration is anchored, and never shows the squatter's work as its own.
    await stack.waitFor(async () => {
      const res = await request(stack.app).get(`/v1/works/by-hash/${hash}`);
      return res.status === 200 && res.body.workId === squatterId.toString();
    });
    const pending = await request(stack.app).get(`/v1/works/by-hash/${hash}/registration`).expect(200);
    expect(pending.body).to.deep.include({ status: "anchored", work: null });

    // A first attempt sent the claim and died before waiting for it.
    const leaf = (await findLeaf(stack.db.pool, batch.id, 0))!;
    const first = await deps.claimer.claim({
      ref: leafRef(batch.merkle_root, 0),
      batchId: BigInt(leaf.chainBatchId!),
      index: 0n,
      registration: signedRegistration(leaf.request),
      signature: leaf.request.signature,
      proof: leaf.request.proof!,
    });
    const retried = await claimLeaf(deps, batch.id, 0);
    expect(retried).to.deep.include({ status: "claimed", workId: leafWorkId.toString(), txHash: first.hash });
    expect(await claimLeaf(deps, batch.id, 0)).to.deep.include({ status: "already-recorded" });
    expect(await claimTransactions(stack, leafRef(batch.merkle_root, 0))).to.equal(1);

    // The registry, the indexer, the API and evidence name the creator; the squatter's claim is superseded.
    expect(await stack.registry.workOf(hash)).to.equal(leafWorkId);
    expect(await stack.registry.creatorOf(leafWorkId)).to.equal(creator.address);
    expect((await stack.registry.getWork(squatterId)).superseded).to.equal(true);
    const indexed = await stack.waitFor(async () => {
      const res = await request(stack.app).get(`/v1/works/${squatterId}`);
      return res.body.supersededBy === leafWorkId.toString() ? res.body : null;
    });
    expect(indexed.creator).to.equal(squatter.address);
    const registration = await request(stack.app).get(`/v1/works/by-hash/${hash}/registration`).expect(200);
    expect(registration.body.work.workId).to.equal(leafWorkId.toString());
    // The registration still names the anchor that proves the file's existence; the claim is the work's.
    const { rows: anchors } = await stack.db.pool.query<{ tx_hash: string }>(
      `SELECT tx_hash FROM notarization_batches WHERE id = $1`,
      [batch.id],
    );
    expect(registration.body.txHash).to.equal(anchors[0]!.tx_hash);
    expect(registration.body.work.txHash).to.equal(first.hash);
    const work = await request(stack.app).get(`/v1/works/by-hash/${hash}`).expect(200);
    expect(work.body).to.deep.include({
      workId: leafWorkId.toString(),
      creator: creator.address,
      supersededBy: null,
    });
    const bySquatter = await request(stack.app)
      .post("/v1/evidence")
      .set("Authorization", `Bearer ${await sessionToken(squatter.address)}`)
      .send({ workId: squatterId.toString(), infringement: { observedAt: "2025-03-14T09:26:53.000Z" } });
    expect(bySquatter.status).to.equal(409);
    expect(bySquatter.body.error.code).to.equal("WORK_SUPERSEDED");
    const byCreator = await request(stack.app)
      .post("/v1/evidence")
      .set("Authorization", `Bearer ${await sessionToken(creator.address)}`)
      .send({ contentHash: hash, infringement: { observedAt: "2025-03-14T09:26:53.000Z" } });
    expect(byCreator.status, JSON.stringify(byCreator.body)).to.equal(202);
    const { rows: evidence } = await stack.db.pool.query<{ creator: string }>(
      `SELECT creator FROM evidence_requests WHERE id = $1`,
      [byCreator.body.id],
    );
    expect(evidence[0]!.creator).to.equal(creator.address.toLowerCase());
  });

  it("counts a leaf someone else claimed first as claimed, and claims the other leaves of its batch", async () => {
    const creators = await Promise.all([7, 8, 9].map((i) => stack.signer(i)));
    const hashes = [];
    for (const [i, signer] of creators.entries())
      hashes.push(await submitRegistration(stack, signer, Buffer.from(`harbour sketch ${i}`)));
    expect(await flush()).to.deep.equal({ batches: 1, works: 3 });
    const { rows } = await stack.db.pool.query<{ id: string; merkle_root: string; first_work_id: string }>(
      `SELECT id::text, merkle_root, first_work_id::text FROM notarization_batches ORDER BY id DESC LIMIT 1`,
    );
    const batch = rows[0]!;
    const leaves = await Promise.all([0, 1, 2].map((i) => findLeaf(stack.db.pool, batch.id, i)));
    // Anyone may claim a leaf with the published manifest: a bystander claims leaf 1.
    const bystander = await stack.signer(10);
    const middle = leaves.find((l) => l!.request.leafIndex === 1)!;
    await (
      await stack.registry
        .connect(bystander)
        .claimBatched(
          BigInt(middle.chainBatchId!),
          1n,
          signedRegistration(middle.request),
          middle.request.signature,
          middle.request.proof!,
        )
    ).wait();
    const results = await Promise.all([0, 1, 2].map((i) => claimLeaf(deps, batch.id, i)));
    expect(results.map((r) => r.status)).to.deep.equal(["claimed", "claimed-by-other", "claimed"]);
    for (const [i, hash] of hashes.entries()) {
      expect(await stack.registry.creatorOf(await stack.registry.workOf(hash))).to.equal(
        creators[i]!.address,
      );
    }
  });

  it("counts a leaf claimed by a transaction mined just before its own claim as claimed, not failed", async () => {
    const creator = await stack.signer(11);
    const hash = await submitRegistration(stack, creator, Buffer.from("breakwater at noon"));
    expect(await flush()).to.deep.equal({ batches: 1, works: 1 });
    const { rows } = await stack.db.pool.query<{ id: string; merkle_root: string }>(
      `SELECT id::text, merkle_root FROM notarization_batches ORDER BY id DESC LIMIT 1`,
    );
    const batch = rows[0]!;
    const leaf = (await findLeaf(stack.db.pool, batch.id, 0))!;
    await stack.provider.send("evm_setAutomine", [false]);
    try {
      const claiming = claimLeaf(deps, batch.id, 0);
      // The job's claim is broadcast and waits in the pool; a bystander outbids it for the same leaf.
      await stack.waitFor(async () => (await claimTransactions(stack, leafRef(batch.merkle_root, 0))) === 1);
      const bystander = await stack.signer(12);
      await stack.registry
        .connect(bystander)
        .claimBatched(
          BigInt(leaf.chainBatchId!),
          0n,
          signedRegistration(leaf.request),
          leaf.request.signature,
          leaf.request.proof!,
          { gasLimit: 500_000n, maxPriorityFeePerGas: 50_000_000_000n, maxFeePerGas: 100_000_000_000n },
        );
      await stack.provider.send("evm_mine", []);
      const result = await claiming;
      expect(result).to.deep.include({ status: "claimed-by-other" });
    } finally {
      await stack.provider.send("evm_setAutomine", [true]);
    }
    const { rows: sent } = await stack.db.pool.query<{ status: string }>(
      `SELECT status FROM relayer_transactions WHERE ref = $1 OR item_refs @> ARRAY[$1]`,
      [leafRef(batch.merkle_root, 0)],
    );
    expect(sent.map((r) => r.status)).to.deep.equal(["reverted"]);
    expect((await findLeaf(stack.db.pool, batch.id, 0))!.claimedAt).to.not.equal(null);
    expect(await stack.registry.creatorOf(await stack.registry.workOf(hash))).to.equal(creator.address);
  });

  it("queues the claims of a batch anchored before its leaves' ids were recorded, from its anchor", async () => {
    const creator = await stack.signer(13);
    await submitRegistration(stack, creator, Buffer.from("jetty before the storm"));
    expect(await flush()).to.deep.equal({ batches: 1, works: 1 });
    const { rows } = await stack.db.pool.query<{ id: string; chain_batch_id: string; first_work_id: string }>(
      `SELECT id::text, chain_batch_id::text, first_work_id::text FROM notarization_batches ORDER BY id DESC LIMIT 1`,
    );
    const batch = rows[0]!;
    // As a batch anchored before the ids were kept: none recorded, no claim queued.
    await stack.db.pool.query(
      `UPDATE notarization_batches SET chain_batch_id = NULL, first_work_id = NULL WHERE id = $1`,
      [batch.id],
    );
    await stack.db.pool.query(`UPDATE registration_requests SET work_id = NULL WHERE batch_id = $1`, [
      batch.id,
    ]);
    await (await stack.queues.claimLeaf.getJob(`claim-${batch.id}-0`))!.remove();
    const anchors = async () =>
      (
        await stack.db.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM relayer_transactions WHERE purpose = 'anchorBatch'`,
        )
      ).rows[0]!.n;
    const before = await anchors();

    expect(await flush()).to.deep.equal({ batches: 1, works: 1 });
    const { rows: after } = await stack.db.pool.query<{ chain_batch_id: string; first_work_id: string }>(
      `SELECT chain_batch_id::text, first_work_id::text FROM notarization_batches WHERE id = $1`,
      [batch.id],
    );
    expect(after[0]).to.deep.equal({
      chain_batch_id: batch.chain_batch_id,
      first_work_id: batch.first_work_id,
    });
    expect(await anchors()).to.equal(before);
    expect(await stack.queues.claimLeaf.getJob(`claim-${batch.id}-0`)).to.not.equal(undefined);
    expect(await claimLeaf(deps, batch.id, 0)).to.deep.include({
      status: "claimed",
      workId: batch.first_work_id,
    });
  });
});
