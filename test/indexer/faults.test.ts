import type { HardhatEthersProvider } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import { DeepReorgError } from "../../indexer/sync.ts";
import {
  ADDRESS,
  createChain,
  HASH,
  createIndexerEnv,
  dumpTables,
  indexerState,
  installEmitters,
  interceptProvider,
  memoryLogger,
  metricValue,
  type Emitters,
  type IndexerEnv,
  type Request,
} from "../helpers/indexer.ts";
import { createTestDatabase } from "../helpers/database.ts";

describe("indexer under faults", () => {
  let env: IndexerEnv;
  let request: Request;
  let provider: HardhatEthersProvider;
  let emitters: Emitters;
  let workId = 0;

  const register = () =>
    emitters.emit("WorkRegistry", "WorkRegistered", [
      ++workId,
      HASH(workId),
      ADDRESS(0xc1),
      0,
      1_700_000_000,
      `cid${workId}`,
      "m",
    ]);

  /** A database of its own, and the next block as start block, so tests do not see each other's events. */
  async function freshDatabase(label: string) {
    const db = await createTestDatabase(label);
    after(() => db.drop());
    const startBlock = Number(await request("eth_blockNumber")) + 1;
    return { pool: db.pool, config: { startBlock } };
  }

  before(async () => {
    env = await createIndexerEnv("faults");
    ({ request, provider } = await createChain());
    emitters = await installEmitters(request);
  });

  after(async () => {
    await env.close();
  });

  describe("lagging providers", () => {
    it("stays put when the provider briefly reports an older head whose block it already holds", async () => {
      const db = await freshDatabase("faults_lag");
      for (let i = 0; i < 6; i++) await register();
      await env
        .indexer({ provider, deployment: emitters.deployment, db: db.pool, config: db.config })
        .syncToHead();
      const before = await dumpTables(db.pool);
      const stateBefore = await indexerState(db.pool);

      const head = Number(await request("eth_blockNumber"));
      const lagging = interceptProvider(provider, (method, params, next) =>
        method === "eth_getBlockByNumber" && params[0] === "latest"
          ? provider.send(method, [`0x${(head - 3).toString(16)}`, false])
          : next(),
      );
      const indexer = env.indexer({
        provider: lagging,
        deployment: emitters.deployment,
        db: db.pool,
        config: db.config,
      });
      await indexer.syncToHead();

      expect(await dumpTables(db.pool)).to.deep.equal(before);
      expect(await indexerState(db.pool)).to.deep.equal(stateBefore);
      expect(await metricValue(indexer, "indexer_reorgs_total")).to.equal(0);
    });

    it("stays put when a syncing provider reports a head far below the retained block hashes", async () => {
      const db = await freshDatabase("faults_syncing");
      for (let i = 0; i < 3; i++) await register();
      await env
        .indexer({ provider, deployment: emitters.deployment, db: db.pool, config: db.config })
        .syncToHead();
      const before = await dumpTables(db.pool);
      const syncing = interceptProvider(provider, (method, params, next) => {
        if (method === "eth_syncing")
          return Promise.resolve({ startingBlock: "0x0", currentBlock: "0x1", highestBlock: "0x999" });
        if (method === "eth_getBlockByNumber" && params[0] === "latest")
          return provider.send(method, ["0x1", false]);
        return next();
      });
      const indexer = env.indexer({
        provider: syncing,
        deployment: emitters.deployment,
        db: db.pool,
        config: db.config,
      });
      await indexer.syncToHead();
      expect(await dumpTables(db.pool)).to.deep.equal(before);
      expect(await metricValue(indexer, "indexer_reorgs_total")).to.equal(0);
    });
  });

  describe("reorgs deeper than finality", () => {
    it("stops with DeepReorgError naming the final block and leaves the database untouched", async () => {
      const db = await freshDatabase("faults_deep");
      // The first block indexed stays: replacing it would make this another chain, not a reorg.
      await register();
      const snapshot = (await request("evm_snapshot")) as string;
      for (let i = 0; i < 8; i++) await register();
      const config = { ...db.config, confirmations: 3, safeConfirmations: 1 };
      await env.indexer({ provider, deployment: emitters.deployment, db: db.pool, config }).syncToHead();
      const before = await dumpTables(db.pool);
      const stateBefore = await indexerState(db.pool);

      await request("evm_revert", [snapshot]);
      for (let i = 0; i < 9; i++) {
        await emitters.emit("WorkRegistry", "BatchAnchored", [
          i + 1,
          HASH(1000 + i),
          ADDRESS(0xc2),
          1,
          i + 1,
          "manifest",
        ]);
      }
      const { logger, lines } = memoryLogger();
      const indexer = env.indexer({ provider, deployment: emitters.deployment, db: db.pool, config, logger });
      const error = await indexer.run().then(
        () => null,
        (e: unknown) => e,
      );

      expect(error).to.be.instanceOf(DeepReorgError);
      expect((error as Error).message).to.match(
        /which is final \(finalized block \d+, finality by 3 confirmations\)/,
      );
      expect((error as Error).message).to.contain("database was left untouched");
      expect(lines.some((l) => l.level === 60 && l.msg === "indexing stopped")).to.equal(true);
      expect(await dumpTables(db.pool)).to.deep.equal(before);
      expect(await indexerState(db.pool)).to.deep.equal(stateBefore);
    });
  });

  describe("bad data", () => {
    it("skips and reports an unknown event of a followed contract, and indexes the rest", async () => {
      const db = await freshDatabase("faults_unknown");
      const { logger, lines } = memoryLogger();
      const unknownTopic = HASH(0xdead);
      await emitters.emitRaw(emitters.deployment.contracts.WorkRegistry.address, [unknownTopic], "0x");
      await register();
      const indexer = env.indexer({
        provider,
        deployment: emitters.deployment,
        db: db.pool,
        config: db.config,
        logger,
      });
      await indexer.syncToHead();

      const { rows } = await db.pool.query("SELECT event_name FROM chain_events");
      expect(rows.map((r) => r.event_name)).to.deep.equal(["WorkRegistered"]);
      expect(await metricValue(indexer, "indexer_skipped_logs_total", { reason: "unknown_event" })).to.equal(
        1,
      );
      const warning = lines.find((l) => l.msg === "log skipped");
      expect(warning).to.include({ reason: "unknown_event" });
      expect(String(warning?.detail)).to.contain(unknownTopic);
    });

    it("quarantines and reports a known event whose data does not decode", async () => {
      const db = await freshDatabase("faults_undecodable");
      const { topics } = (await import("../../indexer/abi.ts"))
        .contractInterfaces()
        .WorkRegistry.encodeEventLog("WorkRegistered", [
          77,
          HASH(77),
          ADDRESS(0xc1),
          0,
          1_700_000_000,
          "cid",
          "m",
        ]);
      await emitters.emitRaw(emitters.deployment.contracts.WorkRegistry.address, topics, "0x1234");
      const indexer = env.indexer({
        provider,
        deployment: emitters.deployment,
        db: db.pool,
        config: db.config,
      });
      await indexer.syncToHead();
      const { rows } = await db.pool.query("SELECT count(*)::int AS n FROM works WHERE work_id = 77");
      expect(rows[0].n).to.equal(0);
      expect(await metricValue(indexer, "indexer_skipped_logs_total", { reason: "undecodable" })).to.equal(1);
      const quarantined = await db.pool.query(
        "SELECT event_name, reason, encode(data, 'hex') AS data, block_time FROM indexer_quarantine",
      );
      expect(quarantined.rows).to.have.length(1);
      expect(quarantined.rows[0]).to.include({
        event_name: "WorkRegistered",
        reason: "undecodable",
        data: "1234",
      });
      expect(quarantined.rows[0].block_time).to.be.instanceOf(Date);
      expect(await metricValue(indexer, "indexer_quarantined_events")).to.equal(1);
    });

    it("skips a log the provider returns from an address that was not asked for", async () => {
      const db = await freshDatabase("faults_unlisted");
      await register();
      const stranger = ADDRESS(0xbad);
      const lying = interceptProvider(provider, async (method, _params, next) => {
        const result = await next();
        if (method !== "eth_getLogs" || !Array.isArray(result) || result.length === 0) return result;
        return [...result, { ...(result[0] as object), address: stranger, logIndex: "0x63" }];
      });
      const indexer = env.indexer({
        provider: lying,
        deployment: emitters.deployment,
        db: db.pool,
        config: db.config,
      });
      await indexer.syncToHead();
      const { rows } = await db.pool.query("SELECT DISTINCT contract FROM chain_events");
      expect(rows.map((r) => r.contract)).to.not.include(stranger);
      expect(
        await metricValue(indexer, "indexer_skipped_logs_total", { reason: "unlisted_address" }),
      ).to.be.greaterThan(0);
    });
  });

  describe("provider errors", () => {
    it("retries a failing provider with backoff and then indexes everything", async () => {
      const db = await freshDatabase("faults_errors");
      await register();
      await register();
      let failures = 2;
      const flaky = interceptProvider(provider, (method, _params, next) => {
        if (method === "eth_getLogs" && failures > 0) {
          failures -= 1;
          return Promise.reject(Object.assign(new Error("upstream connect error"), { code: "SERVER_ERROR" }));
        }
        return next();
      });
      const indexer = env.indexer({
        provider: flaky,
        deployment: emitters.deployment,
        db: db.pool,
        config: db.config,
      });
      const running = indexer.run();
      const head = Number(await request("eth_blockNumber"));
      const deadline = Date.now() + 10_000;
      while (indexer.indexedBlock() < head && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      await indexer.stop();
      await running;

      expect(indexer.indexedBlock()).to.equal(head);
      expect(await metricValue(indexer, "indexer_errors_total")).to.equal(2);
      const { rows } = await db.pool.query("SELECT count(*)::int AS n FROM works");
      expect(rows[0].n).to.equal(2);
    });

    it("halves the log range when the provider refuses it as too large, losing nothing", async () => {
      const db = await freshDatabase("faults_range");
      for (let i = 0; i < 10; i++) await register();
      const served: number[] = [];
      let refused = 0;
      const limited = interceptProvider(provider, (method, params, next) => {
        if (method !== "eth_getLogs") return next();
        const { fromBlock, toBlock } = params[0] as { fromBlock: string; toBlock: string };
        const size = Number(toBlock) - Number(fromBlock) + 1;
        if (size > 4) {
          refused += 1;
          return Promise.reject({ code: -32005, message: "query returned more than 10000 results" });
        }
        served.push(size);
        return next();
      });
      const indexer = env.indexer({
        provider: limited,
        deployment: emitters.deployment,
        db: db.pool,
        config: db.config,
      });
      await indexer.syncToHead();

      expect(refused).to.be.greaterThan(0);
      expect(served.reduce((sum, size) => sum + size, 0)).to.equal(10);
      const { rows } = await db.pool.query("SELECT count(*)::int AS n FROM works");
      expect(rows[0].n).to.equal(10);
      expect(indexer.indexedBlock()).to.equal(Number(await request("eth_blockNumber")));
    });
  });
});
