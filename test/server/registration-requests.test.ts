import { expect } from "chai";
import { keccak256, toUtf8Bytes } from "ethers";
import pino from "pino";
import { Outbox } from "../../server/queues/outbox.ts";
import { createQueues, type Queues } from "../../server/queues/queues.ts";
import { Recoveries } from "../../server/recoveries.ts";
import { RequestWriter, type NewRegistrationRequest } from "../../server/repositories/registrations.ts";
import { migrateServerSchema } from "../../server/schema.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { createTestRedis, type TestRedis } from "../helpers/redis.ts";

describe("registration requests: grouped writes", function () {
  let db: TestDatabase;
  let cache: TestRedis;
  let queues: Queues;
  let writer: RequestWriter;

  const request = (name: string, creator = "0x" + "11".repeat(20)): NewRegistrationRequest => ({
    contentHash: keccak256(toUtf8Bytes(name)),
    creator,
    cid: `bafk-${name}`,
    metadataUri: `ipfs://${name}`,
    parentId: "0",
    nonce: "1",
    deadline: "9999999999",
    signature: "0x" + "22".repeat(65),
    mode: "batch",
  });
  const uploaded = async (...requests: NewRegistrationRequest[]) => {
    for (const r of requests) {
      await db.pool.query(
        `INSERT INTO uploads (content_hash, cid, size, visibility) VALUES ($1, $2, 1, 'public')`,
        [r.contentHash, r.cid],
      );
    }
  };

  before(async () => {
    db = await createTestDatabase("registration_requests");
    await migrateServerSchema(db.pool);
    cache = await createTestRedis("registration_requests");
    queues = createQueues(cache.redis, cache.prefix);
    const logger = pino({ level: "silent" });
    const recoveries = new Recoveries(cache.redis, cache.prefix, logger);
    writer = new RequestWriter(db.pool, new Outbox({ db: db.pool, queues, logger, recoveries }));
  });
  after(async () => {
    await queues.close();
    await cache.cleanup();
    await db.drop();
  });

  it("writes requests arriving together and answers each with its own row", async () => {
    const requests = Array.from({ length: 40 }, (_, i) => request(`together-${i}`));
    await uploaded(...requests);
    const created = await Promise.all(requests.map((r) => writer.insert(r)));
    expect(created.map((c) => c?.contentHash)).to.deep.equal(requests.map((r) => r.contentHash));
    expect(created.every((c) => c?.status === "pending")).to.equal(true);
    // One transaction per group: its rows share the transaction's now().
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n, count(DISTINCT created_at)::int AS groups
         FROM registration_requests WHERE cid LIKE 'bafk-together-%'`,
    );
    expect(rows[0].n).to.equal(40);
    expect(rows[0].groups).to.be.within(1, 3);
  });

  it("gives a file to the first of two requests arriving together and null to the second", async () => {
    const first = request("twice", "0x" + "33".repeat(20));
    const second = { ...request("twice", "0x" + "44".repeat(20)), nonce: "2" };
    await uploaded(first);
    const [a, b] = await Promise.all([writer.insert(first), writer.insert(second)]);
    expect(a?.creator).to.equal(first.creator);
    expect(b).to.equal(null);
    const { rows } = await db.pool.query(
      `SELECT creator FROM registration_requests WHERE content_hash = $1`,
      [first.contentHash],
    );
    expect(rows).to.deep.equal([{ creator: first.creator }]);
  });

  it("answers null for a file whose request is live and replaces a failed one", async () => {
    const r = request("again");
    await uploaded(r);
    expect(await writer.insert(r)).to.not.equal(null);
    expect(await writer.insert({ ...r, nonce: "2" })).to.equal(null);
    await db.pool.query(`UPDATE registration_requests SET status = 'failed' WHERE content_hash = $1`, [
      r.contentHash,
    ]);
    const replaced = await writer.insert({ ...r, nonce: "3" });
    expect(replaced?.nonce).to.equal("3");
    expect(replaced?.status).to.equal("pending");
  });

  it("fails a bad request alone when it arrives with good ones", async () => {
    const good = Array.from({ length: 5 }, (_, i) => request(`good-${i}`));
    const bad = { ...request("bad"), metadataUri: "ipfs://bad\u0000" };
    await uploaded(...good, bad);
    const outcomes = await Promise.allSettled([...good, bad].map((r) => writer.insert(r)));
    expect(outcomes.slice(0, 5).every((o) => o.status === "fulfilled" && o.value !== null)).to.equal(true);
    expect(outcomes[5]!.status).to.equal("rejected");
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n FROM registration_requests WHERE cid LIKE 'bafk-good-%'`,
    );
    expect(rows[0].n).to.equal(5);
  });

  it("records a direct request's notarize job with it and queues it once committed", async () => {
    const r = { ...request("direct"), mode: "direct" as const, nonce: "7" };
    await uploaded(r);
    expect(await writer.insert(r)).to.not.equal(null);
    const job = await queues.notarize.getJob(`notarize-${r.contentHash}-7`);
    expect(job?.data).to.deep.equal({ contentHash: r.contentHash });
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM outbox`);
    expect(rows[0].n).to.equal(0);
  });
});
