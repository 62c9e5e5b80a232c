import type { HardhatEthersProvider } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import pg from "pg";
import { chainChangesChannel, parseChainChange, type ChainChange } from "../../lib/chain-changes.ts";
import { serveMetrics } from "../../indexer/metrics.ts";
import type { Indexer } from "../../indexer/create-indexer.ts";
import { createTestDatabase } from "../helpers/database.ts";
import {
  ADDRESS,
  createChain,
  HASH,
  createIndexerEnv,
  indexerState,
  installEmitters,
  interceptProvider,
  memoryLogger,
  metricValue,
  waitFor,
  type Emitters,
  type IndexerEnv,
  type Request,
} from "../helpers/indexer.ts";

describe("indexer following the chain", () => {
  let env: IndexerEnv;
  let request: Request;
  let provider: HardhatEthersProvider;
  let emitters: Emitters;
  let workId = 0;

  const head = async () => Number(await request("eth_blockNumber"));
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
  const caughtUp = (indexer: Indexer) => async () => indexer.indexedBlock() >= (await head());

  before(async () => {
    env = await createIndexerEnv("live");
    ({ request, provider } = await createChain());
    emitters = await installEmitters(request);
  });

  after(async () => {
    await env.close();
  });

  describe("notifications and metrics", () => {
    let indexer: Indexer;
    let running: Promise<void>;
    const messages: ChainChange[] = [];

    before(async () => {
      const subscriber = env.redis.redis.duplicate();
      const channel = chainChangesChannel(env.redis.prefix);
      subscriber.on("message", (from: string, message: string) => {
        const change = parseChainChange(message);
        if (from === channel && change) messages.push(change);
      });
      await subscriber.subscribe(channel);
      after(() => subscriber.quit());
      indexer = env.indexer({ provider, deployment: emitters.deployment });
      running = indexer.run();
      await waitFor(caughtUp(indexer), "the backfill");
    });

    after(async () => {
      await indexer.stop();
      await running;
    });

    it("indexes new blocks as they are mined and announces each commit on Redis with the keys it touched", async () => {
      await register();
      await emitters.emit("LicenseToken", "LicenseIssued", [
        7,
        3,
        workId,
        ADDRESS(0xb1),
        0,
        ADDRESS(0xb1),
        HASH(0xcafe),
      ]);
      const last = await head();
      await waitFor(
        () => messages.some((m) => m.kind === "indexed" && m.toBlock >= last),
        "the notification",
      );

      const indexed = messages.filter((m) => m.kind === "indexed" && m.toBlock >= last - 1);
      const keys = indexed.flatMap((m) => (m.kind === "indexed" ? [m.keys] : []));
      expect(keys.flatMap((k) => k.workIds)).to.include(String(workId));
      expect(keys.flatMap((k) => k.tokenIds)).to.include("7");
      expect(keys.flatMap((k) => k.offerIds)).to.include("3");
      expect(keys.flatMap((k) => k.paymentRefs)).to.include(HASH(0xcafe));
      expect(keys.flatMap((k) => k.accounts)).to.include(ADDRESS(0xb1));
      const { rows } = await env.database.pool.query("SELECT holder FROM licenses WHERE token_id = 7");
      expect(rows).to.deep.equal([{ holder: ADDRESS(0xb1) }]);
    });

    it("announces a rollback with the keys of the rows it removed", async () => {
      const snapshot = (await request("evm_snapshot")) as string;
      await register();
      const dropped = String(workId);
      await waitFor(caughtUp(indexer), "the doomed block");
      await request("evm_revert", [snapshot]);
      await emitters.emit("WorkRegistry", "BatchAnchored", [
        1,
        HASH(0xba7c),
        ADDRESS(0xc1),
        2,
        1,
        "manifest",
      ]);
      await emitters.emit("WorkRegistry", "BatchAnchored", [
        2,
        HASH(0xba7d),
        ADDRESS(0xc1),
        2,
        3,
        "manifest",
      ]);
      await waitFor(() => messages.some((m) => m.kind === "rolledBack"), "the rollback notification");

      const rollback = messages.find((m) => m.kind === "rolledBack");
      expect(rollback?.kind === "rolledBack" && rollback.keys.workIds).to.deep.equal([dropped]);
      await waitFor(caughtUp(indexer), "the new chain");
      const { rows } = await env.database.pool.query(
        "SELECT count(*)::int AS n FROM works WHERE work_id = $1",
        [dropped],
      );
      expect(rows[0].n).to.equal(0);
      workId -= 1;
    });

    it("serves lag and events per second on /metrics", async () => {
      const { server, port } = await serveMetrics(indexer.metrics.registry, 0);
      try {
        const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        expect(body).to.match(/^indexer_lag_blocks 0$/m);
        expect(body).to.match(/^indexer_indexed_block \d+$/m);
        const rate = Number(/^indexer_events_per_second ([\d.]+)$/m.exec(body)?.[1]);
        expect(rate).to.be.greaterThan(0);
        expect(body).to.match(/^indexer_events_total \d+$/m);
        expect((await fetch(`http://127.0.0.1:${port}/other`)).status).to.equal(404);
      } finally {
        server.close();
      }
    });
  });

  describe("PostgreSQL restarts", () => {
    it("reconnects after its connections are terminated and continues without losing blocks", async () => {
      const database = await createTestDatabase("live_pg");
      const { logger, lines } = memoryLogger();
      const pool = new pg.Pool({ connectionString: database.url, max: 3 });
      const indexer = env.indexer({ provider, deployment: emitters.deployment, db: pool, logger });
      const running = indexer.run();
      try {
        await waitFor(caughtUp(indexer), "the backfill");
        const admin = new pg.Client({
          connectionString: database.url.replace(`/${database.name}`, "/postgres"),
        });
        await admin.connect();
        const { rowCount } = await admin.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
          [database.name],
        );
        await admin.end();
        expect(rowCount).to.be.greaterThan(0);

        const first = workId + 1;
        for (let i = 0; i < 3; i++) await register();
        await waitFor(caughtUp(indexer), "indexing after the restart");
        const { rows } = await pool.query("SELECT work_id FROM works WHERE work_id >= $1 ORDER BY work_id", [
          first,
        ]);
        expect(rows.map((r) => Number(r.work_id))).to.deep.equal([first, first + 1, first + 2]);
        expect(lines.some((l) => l.level >= 40 && /database connection|step failed/.test(l.msg))).to.equal(
          true,
        );
      } finally {
        await indexer.stop();
        await running;
        await pool.end();
        await database.drop();
      }
    });
  });

  describe("finality", () => {
    it("takes safe and finalized from the chain's block tags where it has them", async () => {
      const database = await createTestDatabase("live_tags");
      try {
        await register();
        const indexer = env.indexer({
          provider,
          deployment: emitters.deployment,
          db: database.pool,
          config: { finality: "tags" },
        });
        await indexer.syncToHead();
        const state = await indexerState(database.pool);
        // Hardhat finalizes every block at once.
        expect(Number(state!.finalized_block)).to.equal(await head());
      } finally {
        await database.drop();
      }
    });

    it("falls back to the confirmation depth on a chain without block tags", async () => {
      const database = await createTestDatabase("live_depth");
      try {
        await register();
        const noTags = interceptProvider(provider, (method, params, next) =>
          method === "eth_getBlockByNumber" && (params[0] === "safe" || params[0] === "finalized")
            ? Promise.reject({ code: -32602, message: `invalid block tag ${String(params[0])}` })
            : next(),
        );
        const { logger, lines } = memoryLogger();
        const indexer = env.indexer({
          provider: noTags,
          deployment: emitters.deployment,
          db: database.pool,
          config: { finality: "tags", confirmations: 6, safeConfirmations: 2 },
          logger,
        });
        await indexer.syncToHead();
        const state = await indexerState(database.pool);
        expect(Number(state!.finalized_block)).to.equal((await head()) - 6);
        expect(lines.some((l) => /falls back to confirmation depth/.test(l.msg))).to.equal(true);
        expect(await metricValue(indexer, "indexer_errors_total")).to.equal(0);
      } finally {
        await database.drop();
      }
    });
  });
});
