import { expect } from "chai";
import fc from "fast-check";
import { Interface, keccak256, toBeHex, type JsonRpcSigner, type Log } from "ethers";
import request from "supertest";
import { commitmentOf } from "../../lib/evidence/registry.ts";
import {
  GameItems__factory,
  ItemEscrow__factory,
  LicenseToken__factory,
  PayoutSettlement__factory,
  RevenueSplit__factory,
  SplitFactory__factory,
  WorkRegistry__factory,
} from "../../types/typechain/index.ts";
import {
  hostileArguments,
  hostileBytes,
  hostileValue,
  rawCalldata,
  type HostileDictionary,
} from "../helpers/hostile-abi.ts";
import { submitRegistration } from "../helpers/commerce.ts";
import { startTestStack, type TestStack } from "../helpers/stack.ts";

const SEED = 20261202;
/** Argument lists generated per state-changing function of each contract. */
const CALLS_PER_FUNCTION = 4;
const GAS_LIMIT = 8_000_000n;

const registryAbi = new Interface(WorkRegistry__factory.abi);
const splitFactoryAbi = new Interface(SplitFactory__factory.abi);
const settlementAbi = new Interface(PayoutSettlement__factory.abi);

/** Every function a transaction can call: neither view nor pure. */
const stateChanging = (abi: Interface) =>
  abi.fragments
    .filter((f) => f.type === "function")
    .map((f) => abi.getFunction(f.format())!)
    .filter((f) => !f.constant);

interface Sent {
  calls: number;
  mined: number;
}

describe("hostile events generated from every contract's ABI", function () {
  let stack: TestStack;
  let attacker: JsonRpcSigner;
  let firstBlock: number;
  let logs: Log[] = [];
  const dict: HostileDictionary = { addresses: [], ids: [] };
  const sent: Sent = { calls: 0, mined: 0 };
  const revealed: string[] = [];
  const splits: string[] = [];
  const settlement = { id: keccak256(Buffer.from("hostile settlement")), payees: [] as string[], refs: 0 };

  /** Sends `data` from the attacker whatever it holds; a revert is an answer, not a failure. */
  async function send(to: string, data: string, value = 0n): Promise<Log[]> {
    sent.calls += 1;
    try {
      const tx = await attacker.sendTransaction({ to, data, value, gasLimit: GAS_LIMIT });
      const receipt = await tx.wait();
      if (receipt?.status === 1) sent.mined += 1;
      return receipt?.status === 1 ? [...receipt.logs] : [];
    } catch {
      return [];
    }
  }

  before(async function () {
    this.timeout(600_000);
    stack = await startTestStack("hostile_events");
    attacker = await stack.signer(12);
    const at = stack.deployment.contracts;
    firstBlock = await stack.provider.getBlockNumber();
    dict.addresses.push(attacker.address, ...Object.values(at).map((c) => c.address));

    // Registrations whose free fields are hostile: commit, then reveal in a later block as raw calldata.
    const reveal = registryAbi.getFunction("reveal")!;
    const registrations = fc.sample(
      fc.tuple(
        hostileBytes,
        hostileBytes,
        hostileValue(registryAbi.getFunction("setCoAuthors")!.inputs[1]!, dict),
      ),
      {
        numRuns: 8,
        seed: SEED,
      },
    );
    for (const [index, [cid, metadataURI, coAuthors]] of registrations.entries()) {
      const hash = keccak256(Buffer.from(`hostile work ${index}`));
      const nonce = BigInt(index + 1);
      const commit = await send(
        at.WorkRegistry.address,
        registryAbi.encodeFunctionData("commit", [commitmentOf(attacker.address, hash, nonce)]),
      );
      const workId = BigInt(commit[0]!.topics[1]!);
      await send(at.WorkRegistry.address, rawCalldata(reveal, [workId, hash, nonce, cid, metadataURI, 0n]));
      await send(
        at.WorkRegistry.address,
        registryAbi.encodeFunctionData("setCoAuthors", [workId, coAuthors]),
      );
      revealed.push(hash);
      dict.ids.push(workId);
    }

    // Splits over generated recipients, each paid one wei so the clone emits too.
    const recipientLists = fc.sample(
      hostileValue(splitFactoryAbi.getFunction("createSplit")!.inputs[0]!, dict),
      {
        numRuns: 6,
        seed: SEED,
      },
    ) as string[][];
    for (const recipients of recipientLists) {
      const shares = recipients.map((_, i) =>
        i === 0
          ? 10_000 - Math.floor(10_000 / recipients.length) * (recipients.length - 1)
          : Math.floor(10_000 / recipients.length),
      );
      const created = await send(
        at.SplitFactory.address,
        splitFactoryAbi.encodeFunctionData("createSplit", [recipients, shares]),
      );
      for (const log of created) {
        const parsed = splitFactoryAbi.parseLog(log);
        if (parsed?.name === "SplitCreated") splits.push(parsed.args.split as string);
      }
    }
    expect(splits.length, "no generated split was created").to.be.greaterThan(0);
    dict.addresses.push(...splits);
    const split = splits[0]!;
    await send(split, "0x", 1n);

    // Offers on the attacker's own work with generated terms (territory, fees, supply, currency).
    const licenses = new Interface(LicenseToken__factory.abi);
    const offers = fc.sample(hostileValue(licenses.getFunction("createOffer")!.inputs[0]!, dict), {
      numRuns: 8,
      seed: SEED,
    }) as unknown[][];
    for (const [index, params] of offers.entries()) {
      const terms = [...params];
      terms[0] = dict.ids[index % dict.ids.length];
      terms[9] = splits[index % splits.length];
      const created = await send(
        at.LicenseToken.address,
        rawCalldata(licenses.getFunction("createOffer")!, [terms]),
      );
      for (const log of created) {
        const parsed = licenses.parseLog(log);
        if (parsed?.name === "OfferCreated") dict.ids.push(parsed.args.offerId as bigint);
      }
    }

    // Items the studio gave the attacker, listed and moved with generated values.
    const items = new Interface(GameItems__factory.abi);
    const studio = await stack.signer(4);
    const itemId = 4_242n;
    await (
      await studio.sendTransaction({
        to: at.GameItems.address,
        data: items.encodeFunctionData("defineItem", [itemId, "ipfs://item", 0n]),
      })
    ).wait();
    await (
      await studio.sendTransaction({
        to: at.GameItems.address,
        data: items.encodeFunctionData("mint", [attacker.address, itemId, 1_000n, "0x"]),
      })
    ).wait();
    dict.ids.push(itemId);
    const escrow = new Interface(ItemEscrow__factory.abi);
    await send(
      at.GameItems.address,
      items.encodeFunctionData("setApprovalForAll", [at.ItemEscrow.address, true]),
    );
    const listings = fc.sample(hostileValue(escrow.getFunction("list")!.inputs[3]!, dict), {
      numRuns: 6,
      seed: SEED,
    }) as bigint[];
    const deadline = BigInt((await stack.provider.getBlock("latest"))!.timestamp + 86_400);
    for (const price of listings) {
      await send(
        at.ItemEscrow.address,
        escrow.encodeFunctionData("list", [
          at.GameItems.address,
          itemId,
          1n,
          price,
          "0x0000000000000000000000000000000000000000",
          deadline,
        ]),
      );
    }
    const moves = fc.sample(
      fc.tuple(hostileValue(items.getFunction("safeBatchTransferFrom")!.inputs[2]!, dict), hostileBytes),
      { numRuns: 4, seed: SEED },
    );
    for (const [ids, data] of moves) {
      const batch = items.getFunction("safeBatchTransferFrom")!;
      await send(
        at.GameItems.address,
        rawCalldata(batch, [attacker.address, attacker.address, ids, (ids as bigint[]).map(() => 0n), data]),
      );
    }

    // A settler of its own pays the splits and the attacker generated amounts, with more card payment
    // references than an event's array is stored with.
    const admin = await stack.signer(0);
    const settler = await stack.signer(13);
    await (
      await admin.sendTransaction({
        to: at.PayoutSettlement.address,
        data: settlementAbi.encodeFunctionData("grantRole", [
          keccak256(Buffer.from("SETTLER_ROLE")),
          settler.address,
        ]),
      })
    ).wait();
    const payees = [...new Set([attacker.address, ...splits].map((a) => a.toLowerCase()))].sort();
    settlement.payees = payees;
    const [amounts] = fc.sample(
      fc.array(fc.bigInt({ min: 1n, max: 10n ** 9n }), {
        minLength: payees.length,
        maxLength: payees.length,
      }),
      { numRuns: 1, seed: SEED },
    );
    const refs = fc.sample(hostileValue(settlementAbi.getFunction("settle")!.inputs[0]!, dict), {
      numRuns: 300,
      seed: SEED,
    });
    const settled = await (
      await settler.sendTransaction({
        to: at.PayoutSettlement.address,
        data: settlementAbi.encodeFunctionData("settle", [settlement.id, payees, amounts, refs]),
      })
    ).wait();
    expect(settled?.status, "the settler's settlement was paid").to.equal(1);
    settlement.refs = refs.length;

    // Every state-changing function of every contract, with generated arguments and the attacker's own ids.
    const targets: [string, Interface][] = [
      [at.WorkRegistry.address, registryAbi],
      [at.SplitFactory.address, splitFactoryAbi],
      [at.LicenseToken.address, licenses],
      [at.GameItems.address, items],
      [at.ItemEscrow.address, escrow],
      [at.PayoutSettlement.address, settlementAbi],
      [split, new Interface(RevenueSplit__factory.abi)],
    ];
    for (const [to, abi] of targets) {
      for (const [i, fn] of stateChanging(abi).entries()) {
        for (const [j, args] of hostileArguments(fn, dict, CALLS_PER_FUNCTION, SEED + i).entries()) {
          await send(to, rawCalldata(fn, args), fn.payable && j % 2 === 1 ? 1n : 0n);
        }
      }
    }
    logs = await stack.provider.getLogs({ fromBlock: firstBlock + 1, toBlock: "latest" });
  });

  after(async () => stack.stop());

  it("sends every state-changing function generated arguments, and some of them emit events", () => {
    expect(sent.calls).to.be.greaterThan(300);
    const emitted = new Set(logs.map((log) => log.topics[0]));
    const events = [
      registryAbi,
      splitFactoryAbi,
      new Interface(LicenseToken__factory.abi),
      new Interface(GameItems__factory.abi),
      new Interface(ItemEscrow__factory.abi),
      new Interface(RevenueSplit__factory.abi),
      settlementAbi,
    ];
    const names = [...emitted].map((topic) => events.map((abi) => abi.getEvent(topic!)?.name).find(Boolean));
    expect(names).to.include.members([
      "WorkCommitted",
      "WorkRegistered",
      "CoAuthorsSet",
      "SplitCreated",
      "OfferCreated",
      "Listed",
      "TransferBatch",
      "ApprovalForAll",
      "SettlementPaid",
    ]);
    expect(sent.mined).to.be.greaterThan(20);
  });

  it("stores or quarantines every event of a followed contract, losing none", async function () {
    this.timeout(60_000);
    const followed = new Set(dict.addresses.map((a) => a.toLowerCase()));
    const expected = logs.filter((log) => followed.has(log.address.toLowerCase()));
    const keyOf = (block: number | string, index: number | string) => `${block}:${index}`;
    const want = new Set(expected.map((log) => keyOf(log.blockNumber, log.index)));
    const seen = async () => {
      const { rows } = await stack.db.pool.query<{ k: string }>(
        `SELECT block_number || ':' || log_index AS k FROM chain_events WHERE block_number > $1
         UNION ALL SELECT block_number || ':' || log_index FROM indexer_quarantine WHERE block_number > $1`,
        [firstBlock],
      );
      return new Set(rows.map((r) => r.k));
    };
    let stored = new Set<string>();
    await stack
      .waitFor(async () => {
        stored = await seen();
        return [...want].every((k) => stored.has(k));
      }, 45_000)
      .catch(() => undefined);
    expect(want.size).to.be.greaterThan(0);
    expect([...want].filter((k) => !stored.has(k))).to.deep.equal([]);
  });

  it("mirrors the settler's settlement with every payment reference and every payee", async () => {
    const paid = await stack.db.pool.query<{ refs: number }>(
      "SELECT cardinality(payment_refs) AS refs FROM settlements_paid WHERE settlement_id = $1",
      [settlement.id],
    );
    expect(paid.rows).to.deep.equal([{ refs: settlement.refs }]);
    const payments = await stack.db.pool.query<{ payee: string }>(
      "SELECT payee FROM settlement_payments WHERE settlement_id = $1 ORDER BY payee",
      [settlement.id],
    );
    expect(payments.rows.map((r) => r.payee)).to.deep.equal(settlement.payees);
  });

  it("mirrors every hostile registration as a work, with notes on the values it had to change", async () => {
    const { rows } = await stack.db.pool.query<{ content_hash: string; value_notes: unknown }>(
      `SELECT content_hash, value_notes FROM works WHERE content_hash = ANY($1)`,
      [revealed],
    );
    const quarantined = await stack.db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM indexer_quarantine WHERE event_name = 'WorkRegistered' AND topics[3] = ANY($1)`,
      [revealed],
    );
    expect(rows.length + quarantined.rows[0]!.n).to.equal(revealed.length);
    expect(rows.some((r) => r.value_notes !== null)).to.equal(true);
  });

  it("mirrors a normal registration through the API within 2 s of its anchoring", async function () {
    this.timeout(60_000);
    const creator = await stack.signer(5);
    const bytes = Buffer.from(`an honest work after the hostile ones ${Date.now()}`);
    const hash = await submitRegistration(stack, creator, bytes, { title: "An honest work" });

    const registered = registryAbi.getEvent("WorkRegistered")!.topicHash;
    await stack.waitFor(async () => {
      const found = await stack.provider.getLogs({
        address: stack.deployment.contracts.WorkRegistry.address,
        topics: [registered, null, toBeHex(hash, 32)],
        fromBlock: firstBlock,
      });
      return found.length > 0;
    }, 30_000);
    const anchoredAt = Date.now();
    await stack.waitFor(
      async () => (await request(stack.app).get(`/v1/works/by-hash/${hash}`)).status === 200,
      10_000,
    );
    expect(Date.now() - anchoredAt).to.be.lessThan(2_000);
  });
});
