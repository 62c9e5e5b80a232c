import { expect } from "chai";
import { network } from "hardhat";
import { Interface, JsonRpcProvider, Wallet } from "ethers";
import pg from "pg";
import pino from "pino";
import { migrateServerSchema } from "../../server/schema.ts";
import { Relayer, TransactionRevertedError } from "../../server/chain/relayer.ts";
import { FetchJsonRpcProvider } from "../../lib/fetch-json-rpc-provider.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { createTestRedis, type TestRedis } from "../helpers/redis.ts";

const REVERTER = new Interface(["error Refused(uint256 code)"]);
// Runtime code that always reverts with Refused(7): mstore the selector and argument, revert(0x1c, 0x24).
function reverterInitCode(): string {
  const selector = REVERTER.getError("Refused")!.selector.slice(2);
  const runtime = `63${selector}60005260076020526024601` + "cfd";
  const length = (runtime.length / 2).toString(16).padStart(2, "0");
  return `0x60${length}600c60003960${length}6000f3${runtime}`;
}

describe("relayer", function () {
  let db: TestDatabase;
  let cache: TestRedis;
  let provider: JsonRpcProvider;
  let closeChain: () => Promise<void>;
  let relayers: Relayer[];
  let wallet: Wallet;
  let funder: Awaited<ReturnType<JsonRpcProvider["getSigner"]>>;
  let setAutomine: (on: boolean) => Promise<unknown>;
  let mine: () => Promise<unknown>;
  const logger = pino({ level: "silent" });

  /** A relayer over this file's database and Redis prefix, as a worker process has one. */
  function relayerFor(signer: Wallet, options: Partial<ConstructorParameters<typeof Relayer>[0]> = {}) {
    return new Relayer({
      wallet: signer,
      provider,
      db: db.pool,
      redis: cache.redis,
      redisPrefix: cache.prefix,
      logger,
      ...options,
    });
  }

  before(async () => {
    // Over JSON-RPC, as in production, so errors arrive as a node reports them.
    const server = await network.createServer("default", "127.0.0.1", 0);
    const { address, port } = await server.listen();
    closeChain = () => server.close();
    provider = new FetchJsonRpcProvider(`http://${address}:${port}`, {
      pollingInterval: 50,
      // Never cached, as in production: nonces must be read fresh.
      cacheTimeout: -1,
    });
    setAutomine = (on) => provider.send("evm_setAutomine", [on]);
    mine = () => provider.send("evm_mine", []);
    funder = await provider.getSigner(0);
    wallet = Wallet.createRandom().connect(provider) as unknown as Wallet;
    await (await funder.sendTransaction({ to: wallet.address, value: 10n ** 20n })).wait();
    db = await createTestDatabase("relayer");
    await migrateServerSchema(db.pool);
    cache = await createTestRedis("relayer");
    // Two relayers over one key: two worker processes sharing the platform's signer.
    relayers = [0, 1].map(() => relayerFor(wallet, { interfaces: [REVERTER] }));
  });

  after(async () => {
    await cache.cleanup();
    await db.drop();
    provider.destroy();
    await closeChain();
  });

  it("sends 50 concurrent transactions from two workers with no two sharing a nonce", async () => {
    const first = await provider.getTransactionCount(wallet.address);
    const sent = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        relayers[i % 2]!.send({
          to: Wallet.createRandom().address,
          data: "0x",
          value: 1n,
          purpose: "test",
          ref: `r${i}`,
        }),
      ),
    );
    const nonces = sent.map((s) => s.nonce).sort((a, b) => a - b);
    expect(nonces).to.deep.equal(Array.from({ length: 50 }, (_, i) => first + i));
    const receipts = await Promise.all(sent.map((s) => relayers[0]!.wait(s.hash)));
    expect(receipts.every((r) => r.status === 1)).to.equal(true);
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n, count(DISTINCT nonce)::int AS nonces FROM relayer_transactions WHERE purpose = 'test' AND status = 'mined'`,
    );
    expect(rows[0]).to.deep.equal({ n: 50, nonces: 50 });
  });

  it("explains a transaction that would revert with the contract's custom error and sends nothing", async () => {
    const deployed = await (await funder.sendTransaction({ data: reverterInitCode() })).wait();
    const before = await db.pool.query(`SELECT count(*)::int AS n FROM relayer_transactions`);
    const attempt = relayers[0]!.send({
      to: deployed!.contractAddress!,
      data: "0x",
      purpose: "revert",
      ref: "x",
    });
    const err = await attempt.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(TransactionRevertedError);
    expect((err as TransactionRevertedError).errorName).to.equal("Refused");
    expect((err as TransactionRevertedError).errorArgs.map(String)).to.deep.equal(["7"]);
    const after = await db.pool.query(`SELECT count(*)::int AS n FROM relayer_transactions`);
    expect(after.rows[0].n).to.equal(before.rows[0].n);
  });

  it("replaces a stuck transaction with higher fees, keeping the references it serves, and settles whichever is mined", async () => {
    await setAutomine(false);
    try {
      const stuck = await relayers[0]!.send({
        to: Wallet.createRandom().address,
        data: "0x",
        value: 5n,
        purpose: "stuck",
        ref: "s",
        itemRefs: ["s1", "s2"],
      });
      const [replacement] = await relayers[1]!.replaceStuck(0);
      expect(replacement).to.be.a("string").and.not.equal(stuck.hash);
      await mine();
      const receipt = await relayers[0]!.wait(stuck.hash);
      expect(receipt.hash).to.equal(replacement);
      const { rows } = await db.pool.query(
        `SELECT hash, status, replaces, nonce::int, max_fee_per_gas::text AS fee, item_refs
           FROM relayer_transactions WHERE purpose = 'stuck' ORDER BY sent_at`,
      );
      expect(rows.map((r) => r.status)).to.deep.equal(["replaced", "mined"]);
      expect(rows.map((r) => r.item_refs)).to.deep.equal([
        ["s1", "s2"],
        ["s1", "s2"],
      ]);
      expect(rows[1].replaces).to.equal(stuck.hash);
      expect(rows[1].nonce).to.equal(stuck.nonce);
      expect(BigInt(rows[1].fee) > BigInt(rows[0].fee)).to.equal(true);
    } finally {
      await setAutomine(true);
    }
  });

  it("sends a burst from one process in a few groups, each recorded in one write", async () => {
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        relayers[0]!.send({
          to: Wallet.createRandom().address,
          data: "0x",
          value: 1n,
          purpose: "burst",
          ref: `b${i}`,
        }),
      ),
    );
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n, count(DISTINCT sent_at)::int AS groups FROM relayer_transactions WHERE purpose = 'burst'`,
    );
    expect(rows[0].n).to.equal(20);
    expect(rows[0].groups).to.be.within(1, 3);
  });

  it("fails only the request whose broadcast failed and fills its nonce so later ones are mined", async () => {
    const url = provider._getConnection().url;
    let calls = 0;
    // A node that drops the third raw transaction it is sent (a reset connection, say).
    class DroppingProvider extends FetchJsonRpcProvider {
      override async send(method: string, params: unknown[] | Record<string, unknown>): Promise<unknown> {
        if (method === "eth_sendRawTransaction" && ++calls === 3) throw new Error("connection reset by peer");
        return super.send(method, params);
      }
    }
    const flaky = new DroppingProvider(url, { pollingInterval: 50, cacheTimeout: -1 });
    const signer = Wallet.createRandom().connect(flaky) as unknown as Wallet;
    await (await funder.sendTransaction({ to: signer.address, value: 10n ** 19n })).wait();
    const relayer = relayerFor(signer, { provider: flaky });
    try {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 5 }, (_, i) =>
          relayer.send({
            to: Wallet.createRandom().address,
            data: "0x",
            value: 1n,
            purpose: "drop",
            ref: `d${i}`,
          }),
        ),
      );
      const failed = outcomes.filter((o) => o.status === "rejected");
      expect(failed).to.have.length(1);
      expect(String((failed[0] as PromiseRejectedResult).reason)).to.match(/connection reset/);
      const sent = outcomes.flatMap((o) => (o.status === "fulfilled" ? [o.value] : []));
      const receipts = await Promise.all(sent.map((s) => relayer.wait(s.hash, 10_000)));
      expect(receipts.every((r) => r.status === 1)).to.equal(true);
      const { rows } = await db.pool.query<{ purpose: string; nonce: number }>(
        `SELECT purpose, nonce::int FROM relayer_transactions WHERE sender = $1 ORDER BY nonce`,
        [signer.address.toLowerCase()],
      );
      // Contiguous nonces: none lost to the dropped transaction.
      expect(rows.map((r) => r.nonce)).to.deep.equal(rows.map((_, i) => i));
      expect(rows.filter((r) => r.purpose === "drop")).to.have.length(4);
      expect(await flaky.getTransactionCount(signer.address, "latest")).to.equal(rows.length);
    } finally {
      flaky.destroy();
    }
  });

  describe("fee caps", () => {
    /** A funded relayer over a node that counts (and, while `failing`, refuses) its fee quotes. */
    async function quotedRelayer() {
      const node = { quotes: 0, failing: false };
      class QuotingProvider extends FetchJsonRpcProvider {
        override async send(method: string, params: unknown[] | Record<string, unknown>): Promise<unknown> {
          // A quote asks for the tip and the latest block's base fee together; ethers makes do without a tip.
          if (method === "eth_maxPriorityFeePerGas") node.quotes += 1;
          if (method === "eth_getBlockByNumber" && node.failing) throw new Error("fee quote unavailable");
          return super.send(method, params);
        }
      }
      const quoting = new QuotingProvider(provider._getConnection().url, {
        pollingInterval: 50,
        cacheTimeout: -1,
      });
      const signer = Wallet.createRandom().connect(quoting) as unknown as Wallet;
      await (await funder.sendTransaction({ to: signer.address, value: 10n ** 19n })).wait();
      const relayer = relayerFor(signer, { provider: quoting });
      const send = (ref: string) =>
        relayer.send({ to: Wallet.createRandom().address, data: "0x", value: 1n, purpose: "fees", ref });
      return { node, send, quoting };
    }

    it("quotes fees once for the turns of a burst", async () => {
      const { node, send, quoting } = await quotedRelayer();
      try {
        for (let i = 0; i < 3; i++) await send(`q${i}`);
        expect(node.quotes).to.equal(1);
      } finally {
        quoting.destroy();
      }
    });

    it("fails the turn whose fee quote failed, and the next turn asks again", async () => {
      const { node, send, quoting } = await quotedRelayer();
      try {
        node.failing = true;
        const err = await send("f0").then(
          () => null,
          (e: unknown) => e,
        );
        expect(String(err)).to.match(/fee quote unavailable/);
        node.failing = false;
        const sent = await send("f1");
        expect(node.quotes).to.equal(2);
        expect((await quoting.waitForTransaction(sent.hash))!.status).to.equal(1);
      } finally {
        quoting.destroy();
      }
    });
  });

  describe("after a crash", () => {
    /** A funded key of its own, so each test starts from nonce 0. */
    async function fundedWallet(): Promise<Wallet> {
      const wallet = Wallet.createRandom().connect(provider) as unknown as Wallet;
      await (await funder.sendTransaction({ to: wallet.address, value: 10n ** 19n })).wait();
      return wallet;
    }

    const transfer = (ref: string) => ({
      to: Wallet.createRandom().address,
      data: "0x",
      value: 1n,
      purpose: "crash",
      ref,
    });

    /** A relayer that dies (throws, as the process would stop) right after recording its turn. */
    async function recordedButNotSent(wallet: Wallet): Promise<string> {
      const dying = relayerFor(wallet, {
        checkpoint: (point) => {
          if (point === "relayer:after-record") throw new Error("process killed");
        },
      });
      await dying.send(transfer("lost")).then(
        () => expect.fail("the dying relayer sent"),
        (err: unknown) => expect(String(err)).to.match(/process killed/),
      );
      const { rows } = await db.pool.query<{ hash: string }>(
        `SELECT hash FROM relayer_transactions WHERE sender = $1 AND ref = 'lost'`,
        [wallet.address.toLowerCase()],
      );
      expect(rows).to.have.length(1);
      expect(await provider.getTransaction(rows[0]!.hash)).to.equal(null);
      return rows[0]!.hash;
    }

    it("broadcasts what a turn that died recorded before its next send, which takes the next nonce and fails nothing", async () => {
      const wallet = await fundedWallet();
      const lost = await recordedButNotSent(wallet);
      const other = relayerFor(wallet);
      const sent = await Promise.all([0, 1, 2].map((i) => other.send(transfer(`after-${i}`))));
      expect(sent.map((s) => s.nonce).sort()).to.deep.equal([1, 2, 3]);
      const receipts = await Promise.all(
        [lost, ...sent.map((s) => s.hash)].map((h) => other.wait(h, 10_000)),
      );
      expect(receipts.map((r) => r.status)).to.deep.equal([1, 1, 1, 1]);
      expect(await provider.getTransactionCount(wallet.address, "latest")).to.equal(4);
    });

    it("answers a send once its transaction is broadcast, though closing the turn then fails; the next turn takes the next nonce", async () => {
      const wallet = await fundedWallet();
      // A database that refuses the statement closing the turn after its broadcast, once. A new
      // sender's first turn derives its nonce first, with the same statement: the second one is refused.
      let seen = 0;
      let refused = 0;
      const failing = new Proxy(db.pool, {
        get(pool, key) {
          if (key !== "query") return Reflect.get(pool, key) as unknown;
          return (text: unknown, values?: unknown[]) => {
            if (typeof text === "string" && text.includes("unsent_from = NULL") && ++seen === 2) {
              refused += 1;
              return Promise.reject(new Error("connection terminated"));
            }
            return pool.query(text as string, values);
          };
        },
      });
      const relayer = relayerFor(wallet, { db: failing });
      const sent = await relayer.send(transfer("closing-fails"));
      expect(refused).to.equal(1);
      expect(sent.nonce).to.equal(0);
      expect((await relayer.wait(sent.hash, 10_000)).status).to.equal(1);
      // The turn looks interrupted: the next one finds its transaction known and goes on after it.
      const next = await relayerFor(wallet).send(transfer("after-closing-fails"));
      expect(next.nonce).to.equal(1);
      expect((await relayer.wait(next.hash, 10_000)).status).to.equal(1);
      const { rows } = await db.pool.query<{ ref: string; nonce: number }>(
        `SELECT ref, nonce::int FROM relayer_transactions WHERE sender = $1 ORDER BY nonce`,
        [wallet.address.toLowerCase()],
      );
      expect(rows).to.deep.equal([
        { ref: "closing-fails", nonce: 0 },
        { ref: "after-closing-fails", nonce: 1 },
      ]);
    });

    it("a wait for a transaction a dead process recorded but never broadcast gets it broadcast", async () => {
      const wallet = await fundedWallet();
      const lost = await recordedButNotSent(wallet);
      const receipt = await relayerFor(wallet).wait(lost, 15_000);
      expect(receipt.hash).to.equal(lost);
      expect(receipt.status).to.equal(1);
      const totals = await cache.redis.hgetall(`${cache.prefix}:recoveries`);
      expect(Number(totals["relayer-rebroadcast"])).to.be.greaterThan(0);
    });

    it("derives the nonce again from the records and the chain when its stored nonce is behind, instead of failing on the conflict", async () => {
      const wallet = await fundedWallet();
      const relayer = relayerFor(wallet);
      const first = await relayer.send(transfer("before"));
      await relayer.wait(first.hash, 10_000);
      // As a crash between recording and storing the next nonce would have left it.
      await db.pool.query(`UPDATE relayer_senders SET next_nonce = 0 WHERE sender = $1`, [
        wallet.address.toLowerCase(),
      ]);
      const next = await relayer.send(transfer("after"));
      expect(next.nonce).to.equal(1);
      expect((await relayer.wait(next.hash, 10_000)).status).to.equal(1);
    });

    it("a holder that stalls past its lease records nothing once another process has taken a turn; both groups go out on distinct nonces", async () => {
      const wallet = await fundedWallet();
      const lockKey = `${cache.prefix}:relayer:${wallet.address.toLowerCase()}:lock`;
      let stall: (() => void) | null = null;
      let stalled: () => void = () => undefined;
      const stalling = new Promise<void>((resolve) => (stalled = resolve));
      // A pool whose first recording statement waits until released: the holder's process is frozen.
      const slowPool = new pg.Pool({ connectionString: db.url, max: 2 });
      const query = slowPool.query.bind(slowPool) as (...args: unknown[]) => Promise<unknown>;
      (slowPool as { query: unknown }).query = async (...args: unknown[]) => {
        if (!stall && typeof args[0] === "string" && args[0].includes("INSERT INTO relayer_transactions")) {
          await new Promise<void>((resolve) => {
            stall = resolve;
            stalled();
          });
        }
        return query(...args);
      };
      try {
        const frozen = relayerFor(wallet, { db: slowPool as unknown as pg.Pool });
        const frozenSend = frozen.send(transfer("frozen"));
        await stalling;
        // Its lease lapses while it is frozen: another process takes the lock and sends.
        await cache.redis.del(lockKey);
        const other = relayerFor(wallet);
        const otherSent = await other.send(transfer("other"));
        stall!();
        const frozenSent = await frozenSend;
        expect(frozenSent.nonce).to.not.equal(otherSent.nonce);
        const receipts = await Promise.all([frozenSent, otherSent].map((s) => other.wait(s.hash, 10_000)));
        expect(receipts.map((r) => r.status)).to.deep.equal([1, 1]);
        const { rows } = await db.pool.query(
          `SELECT count(*)::int AS n, count(DISTINCT nonce)::int AS nonces FROM relayer_transactions WHERE sender = $1`,
          [wallet.address.toLowerCase()],
        );
        expect(rows[0]).to.deep.equal({ n: 2, nonces: 2 });
      } finally {
        await slowPool.end();
      }
    });

    it("a process that dies holding the lock stops the others only for its short lease", async () => {
      const wallet = await fundedWallet();
      const lockKey = `${cache.prefix}:relayer:${wallet.address.toLowerCase()}:lock`;
      const lease = 1_000;
      // The lock as a dead holder left it: taken with the lease, never released or renewed.
      await cache.redis.set(lockKey, "dead-holder", "PX", lease);
      const started = Date.now();
      const sent = await relayerFor(wallet, { lockLeaseMs: lease }).send(transfer("after-dead-holder"));
      expect(Date.now() - started).to.be.at.least(lease - 100);
      expect(sent.nonce).to.equal(0);
    });
  });
});
