import type { HardhatEthersProvider } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import { id as keccakId } from "ethers";
import type pg from "pg";
import { KeyCollector } from "../../indexer/changes.ts";
import { MAX_STORED_ITEMS } from "../../indexer/untrusted.ts";
import { createTestDatabase } from "../helpers/database.ts";
import { deployAll, type Deployed } from "../helpers/deployed.ts";
import {
  ADDRESS,
  HASH,
  createChain,
  createIndexerEnv,
  dumpTables,
  installEmitters,
  metricValue,
  type IndexerEnv,
} from "../helpers/indexer.ts";
import { RevenueSplit__factory } from "../../types/typechain/index.ts";

const lower = (a: { address: string } | string) => (typeof a === "string" ? a : a.address).toLowerCase();
/** Addresses sorted ascending, as `settle` wants its payees. */
const ascending = (addresses: string[]) => [...addresses].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
const ref = (label: string) => keccakId(`card-payment-${label}`);

describe("indexed settlements of card revenue", () => {
  describe("on the deployed contracts", () => {
    let env: IndexerEnv;
    let db: pg.Pool;
    let d: Deployed;
    let split: string;
    let token: string;
    let settledAt: number;
    const first = keccakId("settlement-1");
    const second = keccakId("settlement-2");
    const manyRefs = Array.from({ length: MAX_STORED_ITEMS + 44 }, (_, i) => ref(`many-${i}`));
    let firstPayees: string[];
    const firstAmounts = new Map<string, bigint>();

    const rows = async (sql: string, params: unknown[] = []) => (await db.query(sql, params)).rows;

    before(async () => {
      env = await createIndexerEnv("settlements");
      db = env.database.pool;
      const { conn, provider } = await createChain();
      d = await deployAll(conn);
      token = d.deployment.settlementToken;

      await (await d.splits.createSplit([d.creator.address, d.coCreator.address], [7000, 3000])).wait();
      split = await d.splits.predictSplit([d.creator.address, d.coCreator.address], [7000, 3000]);
      firstPayees = ascending([split, d.referrer.address]);
      firstAmounts.set(split, 10_000_001n).set(d.referrer.address, 250_000n);
      const receipt = await (
        await d.settlement.settle(
          first,
          firstPayees,
          firstPayees.map((p) => firstAmounts.get(p)!),
          [ref("a"), ref("b")],
        )
      ).wait();
      settledAt = receipt!.blockNumber;
      await (await d.settlement.settle(second, [d.buyer.address], [5n], manyRefs)).wait();
      const revenueSplit = RevenueSplit__factory.connect(split, d.coCreator);
      await (await revenueSplit.release(token, d.creator.address)).wait();
      await (await revenueSplit.release(token, d.coCreator.address)).wait();

      const indexer = env.indexer({ provider: provider as HardhatEthersProvider, deployment: d.deployment });
      await indexer.syncToHead();
    });

    after(async () => {
      await env.close();
    });

    it("mirrors each settlement with its id in lower-case hex, treasury, total and card payment references", async () => {
      const settlements = await rows(
        "SELECT settlement_id, treasury, total, payment_refs, block_number FROM settlements_paid WHERE settlement_id = $1",
        [first],
      );
      expect(settlements).to.deep.equal([
        {
          settlement_id: first.toLowerCase(),
          treasury: lower(d.settlementTreasury),
          total: "10250001",
          payment_refs: [ref("a"), ref("b")],
          block_number: String(settledAt),
        },
      ]);
    });

    it("mirrors what the settlement paid each payee, found by payee", async () => {
      const payments = await rows(
        "SELECT settlement_id, payee, amount, treasury FROM settlement_payments WHERE settlement_id = $1 ORDER BY payee",
        [first],
      );
      expect(payments).to.deep.equal(
        firstPayees.map((payee) => ({
          settlement_id: first,
          payee: lower(payee),
          amount: firstAmounts.get(payee)!.toString(),
          treasury: lower(d.settlementTreasury),
        })),
      );
      const byPayee = await rows("SELECT settlement_id, amount FROM settlement_payments WHERE payee = $1", [
        lower(d.buyer),
      ]);
      expect(byPayee).to.deep.equal([{ settlement_id: second, amount: "5" }]);
    });

    it("keeps every payment reference of a settlement, while the raw event keeps the first 256 with a note", async () => {
      const [settlement] = await rows("SELECT payment_refs FROM settlements_paid WHERE settlement_id = $1", [
        second,
      ]);
      expect(settlement.payment_refs).to.deep.equal(manyRefs);
      const [raw] = await rows(
        `SELECT args, value_notes FROM chain_events
          WHERE contract_name = 'PayoutSettlement' AND event_name = 'SettlementPaid' AND args->>'settlementId' = $1`,
        [second],
      );
      expect(raw.args.paymentRefs).to.deep.equal(manyRefs.slice(0, MAX_STORED_ITEMS));
      expect(raw.value_notes.paymentRefs).to.include({ length: manyRefs.length, cut: true, replaced: false });
    });

    it("mirrors the split's releases of the stablecoin into split_payouts with the token as currency", async () => {
      const payouts = await rows(
        "SELECT split, currency, account, amount FROM split_payouts ORDER BY amount DESC",
      );
      expect(payouts).to.deep.equal([
        { split: lower(split), currency: lower(token), account: lower(d.creator), amount: "7000001" },
        { split: lower(split), currency: lower(token), account: lower(d.coCreator), amount: "3000000" },
      ]);
    });

    it("keeps the deployment's TreasurySet and its admin and settler grants raw", async () => {
      const events = await rows(
        "SELECT event_name, count(*)::int AS n FROM chain_events WHERE contract_name = 'PayoutSettlement' GROUP BY 1 ORDER BY 1",
      );
      expect(events).to.deep.equal([
        { event_name: "RoleGranted", n: 2 },
        { event_name: "SettlementPaid", n: 2 },
        { event_name: "TreasurySet", n: 1 },
      ]);
    });

    it("names the settlement and its payees in the change notification", async () => {
      const [raw] = await rows(
        "SELECT contract, args FROM chain_events WHERE event_name = 'SettlementPaid' AND args->>'settlementId' = $1",
        [first],
      );
      const keys = new KeyCollector();
      keys.addEvent("PayoutSettlement", raw.contract, raw.args);
      const { keys: changed } = keys.result();
      expect(changed.settlementIds).to.deep.equal([first]);
      expect(changed.accounts).to.deep.equal(firstPayees.map(lower).sort());
    });
  });

  describe("across a reorg", () => {
    let env: IndexerEnv;

    before(async () => {
      env = await createIndexerEnv("settlements_reorg");
    });

    after(async () => {
      await env.close();
    });

    it("rolls back a settlement of an orphaned block and mirrors the one that replaced it, as a fresh index would", async () => {
      const { conn, provider, request } = await createChain();
      const d = await deployAll(conn);
      const fresh = await createTestDatabase("settlements_reorg_fresh");
      try {
        const indexer = env.indexer({
          provider: provider as HardhatEthersProvider,
          deployment: d.deployment,
        });
        const orphaned = keccakId("orphaned");
        const replacing = keccakId("replacing");
        const fork = (await request("evm_snapshot")) as string;
        await (await d.settlement.settle(orphaned, [d.buyer.address], [40n], [ref("orphaned")])).wait();
        await indexer.syncToHead();
        const ids = async (pool: pg.Pool) =>
          (
            await pool.query<{ settlement_id: string; payee: string; amount: string }>(
              "SELECT settlement_id, payee, amount FROM settlement_payments ORDER BY settlement_id, payee",
            )
          ).rows;
        expect(await ids(env.database.pool)).to.deep.equal([
          { settlement_id: orphaned, payee: lower(d.buyer), amount: "40" },
        ]);

        await request("evm_revert", [fork]);
        await (await d.settlement.settle(replacing, [d.buyer2.address], [41n], [ref("replacing")])).wait();
        await (await d.settlement.settle(keccakId("after"), [d.buyer.address], [42n], [])).wait();
        await indexer.syncToHead();

        expect(await metricValue(indexer, "indexer_reorgs_total")).to.equal(1);
        expect(await ids(env.database.pool)).to.deep.equal(
          [
            { settlement_id: keccakId("after"), payee: lower(d.buyer), amount: "42" },
            { settlement_id: replacing, payee: lower(d.buyer2), amount: "41" },
          ].sort((a, b) => (a.settlement_id < b.settlement_id ? -1 : 1)),
        );
        const paid = await env.database.pool.query(
          "SELECT settlement_id FROM settlements_paid WHERE settlement_id = $1",
          [orphaned],
        );
        expect(paid.rows).to.deep.equal([]);
        const reference = env.indexer({
          provider: provider as HardhatEthersProvider,
          deployment: d.deployment,
          db: fresh.pool,
        });
        await reference.syncToHead();
        expect(await dumpTables(env.database.pool)).to.deep.equal(await dumpTables(fresh.pool));
      } finally {
        await fresh.drop();
      }
    });
  });

  describe("logs no PayoutSettlement would emit", () => {
    let env: IndexerEnv;

    before(async () => {
      env = await createIndexerEnv("settlements_hostile");
    });

    after(async () => {
      await env.close();
    });

    it("quarantines a settlement pairing payees and amounts of different lengths, one paying a payee twice, and a replayed id", async () => {
      const { request, provider } = await createChain();
      const emitters = await installEmitters(request);
      const emit = (args: unknown[]) => emitters.emit("PayoutSettlement", "SettlementPaid", args);
      const treasury = ADDRESS(0x7e);
      const mismatched = await emit([HASH(1), treasury, 3, [ADDRESS(1), ADDRESS(2)], [3], []]);
      const twice = await emit([HASH(2), treasury, 2, [ADDRESS(1), ADDRESS(1)], [1, 1], []]);
      await emit([HASH(3), treasury, 5, [ADDRESS(3)], [5], [HASH(30)]]);
      const replayed = await emit([HASH(3), treasury, 6, [ADDRESS(4)], [6], []]);
      const indexer = env.indexer({
        provider: provider as HardhatEthersProvider,
        deployment: emitters.deployment,
      });
      await indexer.syncToHead();

      const { rows: quarantined } = await env.database.pool.query<{
        block_number: string;
        reason: string;
        error_code: string | null;
      }>("SELECT block_number::text, reason, error_code FROM indexer_quarantine ORDER BY block_number");
      expect(quarantined.map((q) => [Number(q.block_number), q.reason])).to.deep.equal([
        [mismatched, "refused"],
        [twice, "refused"],
        [replayed, "refused"],
      ]);
      const { rows: paid } = await env.database.pool.query(
        "SELECT settlement_id, total, payment_refs FROM settlements_paid",
      );
      expect(paid).to.deep.equal([{ settlement_id: HASH(3), total: "5", payment_refs: [HASH(30)] }]);
      const { rows: payments } = await env.database.pool.query(
        "SELECT settlement_id, payee, amount FROM settlement_payments",
      );
      expect(payments).to.deep.equal([{ settlement_id: HASH(3), payee: ADDRESS(3), amount: "5" }]);
    });
  });
});
