import type { HardhatEthersProvider } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import fc from "fast-check";
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

const ZERO = ADDRESS(0);
/**
 * Blocks the chain may grow past a fork before the indexer syncs: below the 12 confirmations that
 * make a block final in this environment, with room for the one block a step adds.
 */
const FORK_SYNC_DISTANCE = 8;
const ACCOUNTS = [ADDRESS(0xa1), ADDRESS(0xa2), ADDRESS(0xa3)];

/** What exists on the chain so far, so generated events refer to real ids. */
interface Model {
  works: number;
  batches: number;
  offers: number;
  tokens: number;
  items: number;
  listings: number;
  splits: string[];
  balances: Record<string, string>;
}

const emptyModel = (): Model => ({
  works: 0,
  batches: 0,
  offers: 0,
  tokens: 0,
  items: 0,
  listings: 0,
  splits: [],
  balances: {},
});

type Op = { kind: string; a: number; b: number; c: number };
/** A revert is always followed by a different transaction: a reorg replaces blocks, it does not only drop them. */
type Step = { op: Op } | { revert: number; then: Op } | { index: true };

const opArb = fc.record({
  kind: fc.constantFrom(
    "register",
    "coAuthors",
    "batch",
    "offer",
    "offerActive",
    "referrer",
    "issue",
    "renew",
    "revoke",
    "transferLicense",
    "revenue",
    "withdraw",
    "defineItem",
    "uri",
    "mint",
    "moveItems",
    "list",
    "listingEvent",
    "split",
    "splitPayment",
    "settle",
  ),
  a: fc.nat(1000),
  b: fc.nat(1000),
  c: fc.nat(1000),
});
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: opArb.map((op) => ({ op })) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.integer({ min: 1, max: 10 }), opArb).map(([revert, then]) => ({ revert, then })),
  },
  { weight: 2, arbitrary: fc.constant({ index: true as const }) },
);

/** Emits one event for `op` against the model; returns the model after it. */
async function apply(emitters: Emitters, model: Model, op: Op, salt: number): Promise<Model> {
  const m: Model = { ...model, splits: [...model.splits], balances: { ...model.balances } };
  const pick = (count: number, x: number) => (x % count) + 1;
  const account = (x: number) => ACCOUNTS[x % ACCOUNTS.length]!;
  switch (op.kind) {
    case "register": {
      m.works += 1;
      const parent = m.works > 1 && op.b % 2 === 0 ? pick(m.works - 1, op.a) : 0;
      await emitters.emit("WorkRegistry", "WorkRegistered", [
        m.works,
        HASH(salt),
        account(op.c),
        parent,
        1_700_000_000 + salt,
        `cid-${salt}`,
        `ipfs://meta-${salt}`,
      ]);
      return m;
    }
    case "coAuthors":
      if (m.works === 0) return apply(emitters, model, { ...op, kind: "register" }, salt);
      await emitters.emit("WorkRegistry", "CoAuthorsSet", [
        pick(m.works, op.a),
        account(op.b),
        ACCOUNTS.slice(0, op.c % 3),
      ]);
      return m;
    case "batch":
      m.batches += 1;
      await emitters.emit("WorkRegistry", "BatchAnchored", [
        m.batches,
        HASH(salt),
        account(op.a),
        op.b + 1,
        1,
        `manifest-${salt}`,
      ]);
      return m;
    case "offer":
      if (m.works === 0) return apply(emitters, model, { ...op, kind: "register" }, salt);
      m.offers += 1;
      await emitters.emit("LicenseToken", "OfferCreated", [
        m.offers,
        pick(m.works, op.a),
        account(op.b),
        ZERO,
        BigInt(salt) * 10n ** 15n,
        op.c * 3600,
        op.c % 4,
        op.a % 2 === 0,
        op.b % 2 === 0,
        500,
        250,
        ADDRESS(0x5000 + op.c),
        `T-${salt}`,
        op.c % 3 === 0,
        op.b * 10,
      ]);
      return m;
    case "offerActive":
      if (m.offers === 0) return apply(emitters, model, { ...op, kind: "offer" }, salt);
      await emitters.emit("LicenseToken", "OfferActiveSet", [pick(m.offers, op.a), op.b % 2 === 0]);
      return m;
    case "referrer":
      if (m.offers === 0) return apply(emitters, model, { ...op, kind: "offer" }, salt);
      await emitters.emit("LicenseToken", "ReferrerSet", [
        pick(m.offers, op.a),
        account(op.b),
        op.c % 2 === 0,
      ]);
      return m;
    case "issue":
      if (m.offers === 0) return apply(emitters, model, { ...op, kind: "offer" }, salt);
      m.tokens += 1;
      await emitters.emit("LicenseToken", "LicenseIssued", [
        m.tokens,
        pick(m.offers, op.a),
        1,
        account(op.b),
        salt * 100,
        account(op.c),
        op.c % 2 === 0 ? HASH(salt) : HASH(0),
      ]);
      return m;
    case "renew":
    case "revoke":
    case "transferLicense":
    case "revenue":
      if (m.tokens === 0) return apply(emitters, model, { ...op, kind: "issue" }, salt);
      if (op.kind === "renew") {
        await emitters.emit("LicenseToken", "LicenseRenewed", [
          pick(m.tokens, op.a),
          account(op.b),
          salt * 1000,
        ]);
      } else if (op.kind === "revoke") {
        await emitters.emit("LicenseToken", "LicenseRevoked", [
          pick(m.tokens, op.a),
          account(op.b),
          salt % 3,
        ]);
      } else if (op.kind === "transferLicense") {
        await emitters.emit("LicenseToken", "Transfer", [account(op.b), account(op.c), pick(m.tokens, op.a)]);
      } else {
        await emitters.emit("LicenseToken", "RevenuePaid", [
          pick(m.tokens, op.a),
          ZERO,
          ADDRESS(0x5000),
          salt,
          op.b,
          account(op.c),
          op.c,
        ]);
      }
      return m;
    case "withdraw":
      await emitters.emit(op.a % 2 === 0 ? "LicenseToken" : "ItemEscrow", "Withdrawn", [
        account(op.b),
        ZERO,
        salt,
      ]);
      return m;
    case "defineItem":
      m.items += 1;
      await emitters.emit("GameItems", "ItemDefined", [m.items, `ipfs://item-${salt}`, op.a]);
      return m;
    case "uri":
      if (m.items === 0) return apply(emitters, model, { ...op, kind: "defineItem" }, salt);
      await emitters.emit("GameItems", "URI", [`ipfs://uri-${salt}`, pick(m.items, op.a)]);
      return m;
    case "mint": {
      if (m.items === 0) return apply(emitters, model, { ...op, kind: "defineItem" }, salt);
      const id = pick(m.items, op.a);
      const to = account(op.b);
      const amount = (op.c % 5) + 1;
      await emitters.emit("GameItems", "TransferSingle", [to, ZERO, to, id, amount]);
      m.balances[`${id}|${to}`] = String(BigInt(m.balances[`${id}|${to}`] ?? "0") + BigInt(amount));
      return m;
    }
    case "moveItems": {
      const held = Object.entries(m.balances).filter(([, balance]) => balance !== "0");
      if (held.length === 0) return apply(emitters, model, { ...op, kind: "mint" }, salt);
      const [key, balance] = held[op.a % held.length]!;
      const [id, from] = key.split("|") as [string, string];
      const to = op.c % 4 === 0 ? ZERO : account(op.b);
      const amount = (BigInt(op.c) % BigInt(balance)) + 1n;
      await emitters.emit("GameItems", "TransferBatch", [from, from, to, [id], [amount]]);
      m.balances[key] = String(BigInt(balance) - amount);
      if (to !== ZERO) m.balances[`${id}|${to}`] = String(BigInt(m.balances[`${id}|${to}`] ?? "0") + amount);
      return m;
    }
    case "list":
      m.listings += 1;
      await emitters.emit("ItemEscrow", "Listed", [
        m.listings,
        account(op.a),
        ADDRESS(0xa04),
        op.b,
        op.c + 1,
        salt,
        ZERO,
        salt * 10,
        op.c % 1500,
      ]);
      return m;
    case "listingEvent": {
      if (m.listings === 0) return apply(emitters, model, { ...op, kind: "list" }, salt);
      const id = pick(m.listings, op.a);
      const events: [string, unknown[]][] = [
        ["Bought", [id, account(op.b), salt]],
        ["Disputed", [id, account(op.b), salt * 20]],
        ["ArbiterAssigned", [id, account(op.c)]],
        ["ItemsClaimed", [id, account(op.b)]],
        ["FundsClaimed", [id, account(op.b), ZERO, salt]],
        ["Cancelled", [id, account(op.b)]],
        ["Expired", [id, account(op.b)]],
        ["DisputeRejected", [id, account(op.b)]],
        ["Completed", [id, account(op.b), account(op.c), salt, op.c, op.c % 2 === 0]],
        ["Refunded", [id, account(op.b), account(op.c)]],
      ];
      const [name, args] = events[op.c % events.length]!;
      await emitters.emit("ItemEscrow", name, args);
      return m;
    }
    case "split": {
      const split = ADDRESS(0x5b000 + salt);
      await emitters.installAt(split);
      await emitters.emit("SplitFactory", "SplitCreated", [
        split,
        account(op.a),
        [account(op.b), account(op.c)],
        [6000, 4000],
      ]);
      m.splits.push(split);
      return m;
    }
    case "splitPayment": {
      if (m.splits.length === 0) return apply(emitters, model, { ...op, kind: "split" }, salt);
      const split = m.splits[op.a % m.splits.length]!;
      if (op.b % 2 === 0)
        await emitters.emit("RevenueSplit", "PaymentReceived", [account(op.c), salt], split);
      else await emitters.emit("RevenueSplit", "PaymentReleased", [ZERO, account(op.c), salt], split);
      return m;
    }
    case "settle": {
      // Settlement ids are unique on chain; payees ascend, as the contract requires.
      const payees = [...new Set([account(op.a), account(op.b)])].sort();
      const amounts = payees.map((_, i) => BigInt(salt * 1000 + i + 1));
      await emitters.emit("PayoutSettlement", "SettlementPaid", [
        HASH(0x5e7000000 + salt),
        account(op.c),
        amounts.reduce((sum, amount) => sum + amount, 0n),
        payees,
        amounts,
        Array.from({ length: op.c % 3 }, (_, i) => HASH(salt * 10 + i)),
      ]);
      return m;
    }
    default:
      throw new Error(`unknown op ${op.kind}`);
  }
}

describe("indexer reorg rollback (randomized)", () => {
  let env: IndexerEnv;
  let request: Request;
  let provider: HardhatEthersProvider;
  let emitters: Emitters;
  let salt = 1;

  before(async () => {
    env = await createIndexerEnv("reorg_model");
    ({ request, provider } = await createChain());
    emitters = await installEmitters(request);
  });

  after(async () => {
    await env.close();
  });

  it("leaves the same tables as a fresh index of the final chain, whatever the events and reorgs", async () => {
    let run = 0;
    let rollbacks = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 10, maxLength: 45 }), async (steps) => {
        run += 1;
        const start = (await request("evm_snapshot")) as string;
        const followed = await createTestDatabase(`reorg_model_a${run}`);
        const fresh = await createTestDatabase(`reorg_model_b${run}`);
        const indexer = env.indexer({ provider, deployment: emitters.deployment, db: followed.pool });
        try {
          await indexer.syncToHead();
          let model = emptyModel();
          const history: { snapshot: string; head: number; model: Model }[] = [];
          let highWater = Number(await request("eth_blockNumber"));
          // The first block replaced since the indexer last looked: it must look again before that
          // block is final by depth, as a live indexer polling the node would.
          let forkedAt: number | null = null;
          const sync = async (head: number) => {
            await indexer.syncToHead();
            highWater = Math.max(highWater, head);
            forkedAt = null;
          };
          for (const step of steps) {
            const head = Number(await request("eth_blockNumber"));
            if (forkedAt !== null && head - forkedAt >= FORK_SYNC_DISTANCE) await sync(head);
            if ("op" in step) {
              history.push({ snapshot: (await request("evm_snapshot")) as string, head, model });
              model = await apply(emitters, model, step.op, salt++);
            } else if ("revert" in step) {
              // Keep the fork within the indexer's unfinalized window (10 below the highest head it saw).
              const depth = Math.min(step.revert, history.length, head - highWater + 10);
              if (depth <= 0) continue;
              const target = history[history.length - depth]!;
              await request("evm_revert", [target.snapshot]);
              history.length -= depth;
              forkedAt = Math.min(forkedAt ?? Infinity, target.head + 1);
              history.push({
                snapshot: (await request("evm_snapshot")) as string,
                head: target.head,
                model: target.model,
              });
              model = await apply(emitters, target.model, step.then, salt++);
            } else {
              await sync(head);
            }
          }
          await indexer.syncToHead();
          const again = env.indexer({ provider, deployment: emitters.deployment, db: fresh.pool });
          await again.syncToHead();
          expect(await dumpTables(followed.pool)).to.deep.equal(await dumpTables(fresh.pool));
        } finally {
          const metric = await indexer.metrics.registry.getSingleMetric("indexer_reorgs_total")?.get();
          rollbacks += metric?.values[0]?.value ?? 0;
          await indexer.stop();
          await Promise.all([followed.drop(), fresh.drop()]);
          await request("evm_revert", [start]);
        }
      }),
      // A failure reports the smallest case found within the test's time, not a bare timeout.
      { numRuns: 8, interruptAfterTimeLimit: 90_000, markInterruptAsFailure: true },
    );
    expect(rollbacks, "reorgs rolled back over all runs").to.be.greaterThan(0);
  });
});
