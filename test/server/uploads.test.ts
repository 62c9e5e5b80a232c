import { randomBytes } from "node:crypto";
import { readdir, stat, utimes } from "node:fs/promises";
import { request as send, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { expect } from "chai";
import pino from "pino";
import request from "supertest";
import { ApiKeys } from "../../server/auth/api-keys.ts";
import { collectUploads } from "../../server/jobs/collect-uploads.ts";
import { multipartHead, multipartTail, postBigBody } from "../helpers/big-body.ts";
import { sessionToken, startTestStack, type TestStack } from "../helpers/stack.ts";

const KiB = 1024;
const MiB = 1024 * KiB;
const CREATOR = "0x00000000000000000000000000000000000000c1";
const OTHER = "0x00000000000000000000000000000000000000c2";

/** Bytes of every file under `directory` (0 when it does not exist). */
async function directorySize(directory: string): Promise<number> {
  const entries = await readdir(directory, { withFileTypes: true }).catch(() => []);
  let total = 0;
  for (const entry of entries) {
    const full = path.join(directory, entry.name);
    total += entry.isDirectory() ? await directorySize(full) : (await stat(full)).size;
  }
  return total;
}

/** Sets the modification time of every file under `directory` `seconds` back. */
async function ageFiles(directory: string, seconds: number): Promise<void> {
  const then = new Date(Date.now() - seconds * 1000);
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) await ageFiles(full, seconds);
    else await utimes(full, then, then);
  }
}

describe("uploads under abuse: who may upload, how much, and what is left behind", function () {
  this.timeout(120_000);
  let stack: TestStack;
  let server: Server;
  let url: string;
  let creatorAuth: string;
  let otherAuth: string;

  const upload = (auth: string, bytes: Buffer, creator = CREATOR, visibility = "private") =>
    request(stack.app)
      .post("/v1/works")
      .set("Authorization", auth)
      .field("creator", creator)
      .field("visibility", visibility)
      .attach("file", bytes, "work.bin");
  const storeSize = () => directorySize(stack.config.ipfs.dir);
  const stagingSize = () => directorySize(stack.config.uploads.stagingDir);
  const uploadRows = async () =>
    Number((await stack.db.pool.query("SELECT count(*) AS n FROM uploads")).rows[0].n);

  before(async function () {
    stack = await startTestStack("uploads_abuse", {
      workers: false,
      env: { UPLOAD_MAX_BYTES: String(MiB), UPLOAD_QUOTA_BYTES: String(2 * MiB) },
    });
    server = stack.app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/works`;
    creatorAuth = `Bearer ${await sessionToken(CREATOR)}`;
    otherAuth = `Bearer ${await sessionToken(OTHER)}`;
  });

  after(async function () {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await stack?.stop();
  });

  /** Runs `attempt` and checks it changed neither the store nor the uploads, and left nothing staged. */
  async function leavesNothing(attempt: () => Promise<unknown>): Promise<void> {
    const [store, rows] = [await storeSize(), await uploadRows()];
    await attempt();
    expect(await storeSize(), "store size").to.equal(store);
    expect(await uploadRows(), "uploads").to.equal(rows);
    expect(await stagingSize(), "staging").to.equal(0);
  }

  it("refuses an anonymous upload with 401 before reading it", async function () {
    await leavesNothing(async () => {
      const res = await postBigBody(url, {
        head: multipartHead("file"),
        zeros: 64 * KiB,
        tail: multipartTail(),
      });
      expect(res.status).to.equal(401);
      expect(res.body.error?.code).to.equal("AUTH_REQUIRED");
    });
  });

  it("takes uploads from a signed-in creator and from an API key", async function () {
    const bySession = await upload(creatorAuth, randomBytes(10 * KiB));
    expect(bySession.status, JSON.stringify(bySession.body)).to.equal(201);
    const { key } = await new ApiKeys(stack.db.pool).create("integrator", []);
    const byKey = await request(stack.app)
      .post("/v1/works")
      .set("X-Api-Key", key)
      .field("creator", CREATOR)
      .attach("file", randomBytes(10 * KiB), "work.bin");
    expect(byKey.status, JSON.stringify(byKey.body)).to.equal(201);
  });

  it("refuses a declared body over the limit with 413 before a byte of it is sent", async function () {
    await leavesNothing(async () => {
      const res = await postBigBody(url, {
        head: multipartHead("file"),
        zeros: 100 * MiB,
        headers: { authorization: creatorAuth },
        holdMs: 60_000,
      });
      expect(res.status).to.equal(413);
      expect(res.body.error?.code).to.equal("PAYLOAD_TOO_LARGE");
      expect(res.sent).to.equal(0);
    });
  });

  it("stops a chunked body at the limit with 413, storing none of it", async function () {
    await leavesNothing(async () => {
      const res = await postBigBody(url, {
        head: multipartHead("file"),
        zeros: 100 * MiB,
        declareLength: false,
        headers: { authorization: creatorAuth },
      });
      expect(res.status).to.equal(413);
      expect(res.body.error?.code).to.equal("PAYLOAD_TOO_LARGE");
      expect(res.sent).to.be.below(20 * MiB);
    });
  });

  it("stores nothing of an upload its client abandons halfway", async function () {
    await leavesNothing(async () => {
      const req = send(url, {
        method: "POST",
        headers: {
          authorization: creatorAuth,
          "content-type": "multipart/form-data; boundary=rl-hostile-boundary",
          "content-length": String(900 * KiB),
        },
      });
      req.on("error", () => {});
      req.write(multipartHead("file"));
      req.write(randomBytes(300 * KiB));
      await new Promise((r) => setTimeout(r, 300));
      req.destroy();
      await new Promise((r) => setTimeout(r, 300));
    });
  });

  it("charges each account its own quota: past it 413, another account unaffected, the same file charged once", async function () {
    const quota = 2 * MiB;
    const charged = async (account: string) =>
      Number(
        (
          await stack.db.pool.query(
            "SELECT coalesce(sum(size), 0) AS n FROM upload_charges WHERE account = $1",
            [account],
          )
        ).rows[0].n,
      );
    const used = await charged(`wallet:${CREATOR}`);
    const first = randomBytes(950 * KiB);
    expect((await upload(creatorAuth, first)).status).to.equal(201);
    expect((await upload(creatorAuth, first)).status, "the same file again").to.equal(201);
    expect((await upload(creatorAuth, randomBytes(quota - used - 1050 * KiB))).status).to.equal(201);
    expect(await charged(`wallet:${CREATOR}`)).to.equal(quota - 100 * KiB);
    await leavesNothing(async () => {
      const over = await upload(creatorAuth, randomBytes(200 * KiB));
      expect(over.status).to.equal(413);
      expect(over.body.error.code).to.equal("UPLOAD_QUOTA_EXCEEDED");
      expect(over.body.error.details).to.deep.equal({ quotaBytes: quota, usedBytes: quota - 100 * KiB });
    });
    expect((await upload(otherAuth, randomBytes(200 * KiB), OTHER)).status).to.equal(201);
  });

  it("lets concurrent uploads of one account pass its quota no further than one of them fits", async function () {
    const account = "0x00000000000000000000000000000000000000c3";
    const auth = `Bearer ${await sessionToken(account)}`;
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => upload(auth, randomBytes(900 * KiB), account)),
    );
    expect(answers.filter((a) => a.status === 201)).to.have.length(2);
    expect(answers.filter((a) => a.status === 413)).to.have.length(4);
    const { rows } = await stack.db.pool.query(
      "SELECT sum(size)::int AS n FROM upload_charges WHERE account = $1",
      [`wallet:${account}`],
    );
    expect(rows[0].n).to.equal(2 * 900 * KiB);
  });

  describe("collection", function () {
    it("runs on a job scheduler every UPLOAD_COLLECT_EVERY_SECONDS", async function () {
      // The stack of this file runs no workers, so the scheduler is registered as a worker would.
      await stack.queues.collectUploads.upsertJobScheduler(
        "collect-uploads",
        { every: stack.config.uploads.collectEverySeconds * 1000 },
        { name: "collect", data: {} },
      );
      const scheduler = await stack.queues.collectUploads.getJobScheduler("collect-uploads");
      expect(Number(scheduler?.every)).to.equal(3600 * 1000);
    });

    it("removes uploads nobody registered once old enough, with their blocks, and keeps every registered file whole", async function () {
      const account = "0x00000000000000000000000000000000000000c4";
      const auth = `Bearer ${await sessionToken(account)}`;
      // Two public files sharing their first 256 KiB chunk: collecting one must not take the other's block.
      const shared = randomBytes(256 * KiB);
      const keptBytes = Buffer.concat([shared, randomBytes(300 * KiB)]);
      const goneBytes = Buffer.concat([shared, randomBytes(300 * KiB)]);
      const kept = (await upload(auth, keptBytes, account, "public")).body;
      const gone = (await upload(auth, goneBytes, account, "public")).body;
      const young = (await upload(auth, randomBytes(20 * KiB), account)).body;
      await stack.db.pool.query(
        `INSERT INTO registration_requests (content_hash, creator, cid, metadata_uri, parent_id, nonce, deadline,
           signature, mode, status)
         VALUES ($1, $2, $3, $4, 0, 0, 0, '0x', 'direct', 'pending')`,
        [kept.sha256, account, kept.cid, kept.metadataURI],
      );
      // Everything but the young upload is two days old, blocks included.
      await stack.db.pool.query(
        `UPDATE uploads SET created_at = now() - interval '2 days' WHERE content_hash <> $1`,
        [young.sha256],
      );
      await stack.db.pool.query(
        `UPDATE upload_charges SET created_at = now() - interval '2 days' WHERE content_hash <> $1`,
        [young.sha256],
      );
      await ageFiles(stack.config.ipfs.dir, 2 * 24 * 3600);
      const storeBefore = await storeSize();

      const result = await collectUploads({
        db: stack.db.pool,
        ipfs: stack.ipfs,
        logger: pino({ level: "silent" }),
        collectAfterSeconds: 24 * 3600,
      });

      const left = await stack.db.pool.query<{ content_hash: string }>("SELECT content_hash FROM uploads");
      const hashes = left.rows.map((r) => r.content_hash);
      expect(hashes).to.include.members([kept.sha256, young.sha256]);
      expect(hashes).not.to.include(gone.sha256);
      expect(result.uploads).to.be.at.least(1);
      expect(await stack.ipfs.has(gone.cid)).to.equal(false);
      expect(await stack.ipfs.has(gone.metadataURI.replace("ipfs://", ""))).to.equal(false);
      expect(await storeSize()).to.be.below(storeBefore);
      const { rows } = await stack.db.pool.query(
        "SELECT count(*)::int AS n FROM upload_charges WHERE content_hash = $1",
        [gone.sha256],
      );
      expect(rows[0].n).to.equal(0);
      for (const file of [
        { cid: kept.cid, bytes: keptBytes },
        { cid: young.cid, bytes: null },
      ]) {
        const chunks: Uint8Array[] = [];
        for await (const chunk of stack.ipfs.cat(file.cid)) chunks.push(chunk);
        if (file.bytes) expect(Buffer.concat(chunks).equals(file.bytes)).to.equal(true);
      }
    });
  });
});
