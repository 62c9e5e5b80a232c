import type { HardhatEthersProvider } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import pg from "pg";
import { createTestDatabase } from "../helpers/database.ts";
import {
  ADDRESS,
  createChain,
  HASH,
  createIndexerEnv,
  dumpTables,
  installEmitters,
  type Emitters,
  type IndexerEnv,
  type Request,
} from "../helpers/indexer.ts";

class Crash extends Error {}

/**
 * A pool whose connection dies, once armed, at the first statement matching `at`: the indexer process
 * is killed between two of its writes, and the server discards the open transaction.
 */
function crashingPool(url: string, at: RegExp): { pool: pg.Pool; arm(): void } {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  let armed = false;
  let crashed = false;
  const connect = pool.connect.bind(pool) as (
    callback: (err: Error | undefined, client?: pg.PoolClient, done?: unknown) => void,
  ) => void;
  const sabotage = (client: pg.PoolClient) => {
    const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
    (client as { query: unknown }).query = (...args: unknown[]) => {
      const text = typeof args[0] === "string" ? args[0] : (args[0] as { text: string }).text;
      if (armed && !crashed && at.test(text)) {
        crashed = true;
        client.on("error", () => undefined);
        (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
        return Promise.reject(new Crash(`killed before: ${text.slice(0, 40)}`));
      }
      return query(...args);
    };
  };
  // pg's pool.query uses the callback form of connect; the indexer's transactions use the promise form.
  (pool as { connect: unknown }).connect = (
    callback?: (err: Error | undefined, client?: pg.PoolClient, done?: unknown) => void,
  ) => {
    if (callback) {
      connect((err, client, done) => {
        if (client) sabotage(client);
        callback(err, client, done);
      });
      return undefined;
    }
    return new Promise<pg.PoolClient>((resolve, reject) =>
      connect((err, client) => {
        if (err || !client) return reject(err);
        sabotage(client);
        resolve(client);
      }),
    );
  };
  return {
    pool,
    arm: () => {
      armed = true;
    },
  };
}

/** A pool whose first COMMIT, once armed, succeeds on the server but is reported to the client as failed. */
function lostCommitPool(url: string): { pool: pg.Pool; arm(): void } {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  let armed = false;
  let lied = false;
  const connect = pool.connect.bind(pool) as () => Promise<pg.PoolClient>;
  (pool as { connect: unknown }).connect = async (...args: unknown[]) => {
    if (args.length > 0)
      return (pool.constructor.prototype.connect as (...a: unknown[]) => unknown).apply(pool, args);
    const client = await connect();
    const query = client.query.bind(client) as (...a: unknown[]) => Promise<unknown>;
    (client as { query: unknown }).query = async (...a: unknown[]) => {
      const result = await query(...a);
      if (armed && !lied && a[0] === "COMMIT") {
        lied = true;
        throw new Crash("connection lost while the commit was acknowledged");
      }
      return result;
    };
    return client;
  };
  return {
    pool,
    arm: () => {
      armed = true;
    },
  };
}

describe("indexer crash and restart", () => {
  let env: IndexerEnv;
  let request: Request;
  let provider: HardhatEthersProvider;
  let emitters: Emitters;

  before(async () => {
    env = await createIndexerEnv("crash");
    ({ request, provider } = await createChain());
    emitters = await installEmitters(request);
    // One range with every kind of write: raw events, history rows, current rows changed and removed.
    await emitters.emit("WorkRegistry", "WorkRegistered", [
      1,
      HASH(1),
      ADDRESS(0xc1),
      0,
      1_700_000_000,
      "cid",
      "m",
    ]);
    await emitters.emit("LicenseToken", "OfferCreated", [
      1,
      1,
      ADDRESS(0xc1),
      ADDRESS(0),
      100,
      3600,
      0,
      true,
      true,
      0,
      0,
      ADDRESS(0x5),
      "WORLD",
      false,
      250,
    ]);
    await emitters.emit("LicenseToken", "LicenseIssued", [
      1,
      1,
      1,
      ADDRESS(0xb1),
      5000,
      ADDRESS(0xb1),
      HASH(9),
    ]);
    await emitters.emit("LicenseToken", "LicenseRenewed", [1, ADDRESS(0xb1), 9000]);
    await emitters.emit("GameItems", "ItemDefined", [7, "ipfs://seven", 0]);
    await emitters.emit("GameItems", "TransferSingle", [ADDRESS(0xd1), ADDRESS(0), ADDRESS(0xd1), 7, 5]);
    await emitters.emit("GameItems", "TransferSingle", [ADDRESS(0xd1), ADDRESS(0xd1), ADDRESS(0xd2), 7, 5]);
  });

  after(async () => {
    await env.close();
  });

  for (const [step, at] of [
    ["before the raw events", /^INSERT INTO chain_events/],
    ["between the raw events and the history rows", /^INSERT INTO item_transfers/],
    ["between removing and re-inserting current rows", /^INSERT INTO item_balances/],
    ["before the undo images", /^INSERT INTO indexer_undo/],
    ["before the checkpoint", /^UPDATE indexer_state SET block_number/],
    ["at commit", /^COMMIT/],
  ] as const) {
    it(`resumes without gap or duplicate after a crash ${step}`, async () => {
      const crashed = await createTestDatabase("crash_a");
      const fresh = await createTestDatabase("crash_b");
      try {
        const dying = crashingPool(crashed.url, at);
        const first = env.indexer({ provider, deployment: emitters.deployment, db: dying.pool });
        await first.ready();
        dying.arm();
        const error = await first.syncToHead().then(
          () => null,
          (e: unknown) => e,
        );
        expect(error, "the first run crashed").to.be.instanceOf(Crash);
        await first.stop();
        await dying.pool.end();

        const restarted = env.indexer({ provider, deployment: emitters.deployment, db: crashed.pool });
        await restarted.syncToHead();
        const reference = env.indexer({ provider, deployment: emitters.deployment, db: fresh.pool });
        await reference.syncToHead();

        expect(await dumpTables(crashed.pool)).to.deep.equal(await dumpTables(fresh.pool));
        const { rows } = await crashed.pool.query(
          "SELECT count(*)::int AS n, count(DISTINCT (block_number, log_index))::int AS keys FROM chain_events",
        );
        expect(rows[0].n).to.equal(rows[0].keys);
        expect(rows[0].n).to.equal(7);
      } finally {
        await Promise.all([crashed.drop(), fresh.drop()]);
      }
    });
  }

  it("keeps following, from the database's checkpoint, after a commit whose acknowledgement was lost", async () => {
    const lossy = await createTestDatabase("lost_commit");
    const fresh = await createTestDatabase("lost_commit_ref");
    try {
      const lying = lostCommitPool(lossy.url);
      const indexer = env.indexer({ provider, deployment: emitters.deployment, db: lying.pool });
      await indexer.ready();
      lying.arm();
      const following = indexer.run();
      const head = await provider.getBlockNumber();
      const deadline = Date.now() + 20_000;
      while (indexer.indexedBlock() < head && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      await indexer.stop();
      await following;
      expect(indexer.indexedBlock()).to.equal(head);
      const reference = env.indexer({ provider, deployment: emitters.deployment, db: fresh.pool });
      await reference.syncToHead();
      expect(await dumpTables(lossy.pool)).to.deep.equal(await dumpTables(fresh.pool));
      await lying.pool.end();
    } finally {
      await Promise.all([lossy.drop(), fresh.drop()]);
    }
  });
});
