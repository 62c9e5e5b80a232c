/**
 * The chain side of the indexer benchmark, run in a worker thread so that the node and the indexer
 * use separate threads as they would separate processes: an in-process Hardhat network with the
 * contracts deployed, filled with trading activity, served over HTTP JSON-RPC (at `/`, and at
 * `/no-log-times` without the block time in logs), and a live sender.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { parentPort, workerData } from "node:worker_threads";
import { ZeroAddress, type Interface } from "ethers";
import { network } from "hardhat";
import { commitmentOf } from "../../lib/evidence/registry.ts";
import { deployContracts, DEV_SETTLEMENT_TREASURY_INDEX } from "../../scripts/deploy-contracts.ts";
import {
  GameItems__factory,
  ItemEscrow__factory,
  LicenseToken__factory,
  SplitFactory__factory,
  WorkRegistry__factory,
} from "../../types/typechain/index.ts";

/** Messages from the benchmark to this worker. */
export type ToChain = { type: "live"; seconds: number; txPerSecond: number } | { type: "stop" };
/** Messages from this worker; times are absolute milliseconds (performance.timeOrigin based). */
export type FromChain =
  | {
      type: "ready";
      url: string;
      deployment: unknown;
      blocks: number;
      generateSeconds: number;
      rounds: number;
    }
  | { type: "mined"; block: number; at: number }
  | { type: "liveDone" };

const WORKERS = 5;
/** Events one worker round emits: commit 1, reveal 1, purchase 4, transfer 1, list 2, buy 1, confirm 1, claim items 2. */
export const EVENTS_PER_ROUND = 13;
const PRICE = 10n ** 12n;
const ITEM = 1n;
const GAS = "0x7a120";
const CID = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";

const port = parentPort!;
const post = (message: FromChain) => port.postMessage(message);
const now = () => performance.timeOrigin + performance.now();
const { events: targetEvents } = workerData as { events: number };

const conn = await network.create();
const request = (method: string, params: unknown[] = []) => conn.provider.request({ method, params });
const accounts = (await request("eth_accounts")) as string[];
if (accounts.length < 5 + WORKERS * 3)
  throw new Error(`the Hardhat network needs ${5 + WORKERS * 3} accounts`);
const [admin, relayer, arbiter, treasury, studio] = accounts as [string, string, string, string, string];
const signers = await conn.ethers.getSigners();
const deployment = await deployContracts(
  signers[0]!,
  { admin, relayer, arbiter, treasury, studio, revoker: relayer },
  { devTreasury: signers[DEV_SETTLEMENT_TREASURY_INDEX]! },
);
const at = {
  registry: deployment.contracts.WorkRegistry.address,
  splits: deployment.contracts.SplitFactory.address,
  licenses: deployment.contracts.LicenseToken.address,
  items: deployment.contracts.GameItems.address,
  escrow: deployment.contracts.ItemEscrow.address,
};
const abi = {
  registry: WorkRegistry__factory.createInterface(),
  splits: SplitFactory__factory.createInterface(),
  licenses: LicenseToken__factory.createInterface(),
  items: GameItems__factory.createInterface(),
  escrow: ItemEscrow__factory.createInterface(),
};
const LICENSE_ISSUED = abi.licenses.getEvent("LicenseIssued")!.topicHash;
const LISTED = abi.escrow.getEvent("Listed")!.topicHash;

interface Receipt {
  blockNumber: string;
  status: string;
  logs: { topics: string[] }[];
}

/** Sends a call from an unlocked account; automine mines it before the hash comes back. */
async function send(from: string, to: string, iface: Interface, fn: string, args: unknown[], value = 0n) {
  const data = iface.encodeFunctionData(fn, args);
  return (await request("eth_sendTransaction", [
    { from, to, data, gas: GAS, value: `0x${value.toString(16)}` },
  ])) as string;
}

async function receipt(hash: string): Promise<Receipt> {
  const r = (await request("eth_getTransactionReceipt", [hash])) as Receipt;
  if (r.status !== "0x1") throw new Error(`transaction ${hash} reverted`);
  return r;
}

let contentCounter = 0;
const nextHash = () => `0x${(++contentCounter).toString(16).padStart(64, "0")}`;
const WORK_COMMITTED = abi.registry.getEvent("WorkCommitted")!.topicHash;
/** Registers a new work the squat-proof way: a commitment, then the reveal in a later block. */
async function register(from: string): Promise<string> {
  const hash = nextHash();
  const nonce = BigInt(contentCounter);
  const committed = await receipt(
    await send(from, at.registry, abi.registry, "commit", [commitmentOf(from, hash, nonce)]),
  );
  const workId = BigInt(committed.logs.find((l) => l.topics[0] === WORK_COMMITTED)!.topics[1]!);
  return send(from, at.registry, abi.registry, "reveal", [workId, hash, nonce, CID, `ipfs://${CID}`, 0]);
}
let walletCounter = 0;
/** A wallet nobody used yet: licenses go to many holders, as in a real market, not piled on a few. */
const freshWallet = () => `0x${(0xbe000000 + ++walletCounter).toString(16).padStart(40, "0")}`;
const purchase = (payer: string, recipient = payer) =>
  send(payer, at.licenses, abi.licenses, "purchase", [1, recipient, ZeroAddress], PRICE);

// A work with an offer whose revenue goes to a split, and an item every seller holds plenty of.
const creator = accounts[5]!;
await register(creator);
await send(creator, at.splits, abi.splits, "createSplit", [
  [creator, accounts[6]!],
  [7000, 3000],
]);
const [split] = abi.splits.decodeFunctionResult(
  "predictSplit",
  (await request("eth_call", [
    {
      to: at.splits,
      data: abi.splits.encodeFunctionData("predictSplit", [
        [creator, accounts[6]!],
        [7000, 3000],
      ]),
    },
    "latest",
  ])) as string,
) as unknown as [string];
await send(creator, at.licenses, abi.licenses, "createOffer", [
  {
    workId: 1,
    currency: ZeroAddress,
    price: PRICE,
    duration: 365 * 24 * 3600,
    maxSupply: 0,
    transferable: true,
    commercialUse: true,
    referrerBps: 0,
    royaltyBps: 0,
    split,
    territory: "WORLD",
    revocable: false,
  },
]);
await send(studio, at.items, abi.items, "defineItem", [ITEM, "ipfs://sword", 0]);
const workers = Array.from({ length: WORKERS }, (_, w) => ({
  seller: accounts[5 + w * 3]!,
  holder: accounts[6 + w * 3]!,
  buyer: accounts[7 + w * 3]!,
}));
for (const { seller } of workers) {
  await send(studio, at.items, abi.items, "mint", [seller, ITEM, 10n ** 9n, "0x"]);
  await send(seller, at.items, abi.items, "setApprovalForAll", [at.escrow, true]);
}

/** One round of a worker: a registration, a purchase, a license transfer and a complete escrow trade with its claim. */
async function round(w: (typeof workers)[number]): Promise<void> {
  await register(w.seller);
  const bought = await receipt(await purchase(w.holder));
  const tokenId = BigInt(bought.logs.find((l) => l.topics[0] === LICENSE_ISSUED)!.topics[1]!);
  await send(w.holder, at.licenses, abi.licenses, "transferFrom", [w.holder, freshWallet(), tokenId]);
  const listed = await receipt(
    await send(w.seller, at.escrow, abi.escrow, "list", [
      at.items,
      ITEM,
      1,
      PRICE,
      ZeroAddress,
      4_000_000_000,
    ]),
  );
  const listingId = BigInt(listed.logs.find((l) => l.topics[0] === LISTED)!.topics[1]!);
  await send(w.buyer, at.escrow, abi.escrow, "buy", [listingId], PRICE);
  await send(w.buyer, at.escrow, abi.escrow, "confirm", [listingId]);
  await send(w.buyer, at.escrow, abi.escrow, "claimItems", [listingId]);
}

const started = performance.now();
const rounds = Math.ceil(targetEvents / EVENTS_PER_ROUND / WORKERS);
await Promise.all(
  workers.map(async (w) => {
    for (let i = 0; i < rounds; i++) await round(w);
  }),
);
const generateSeconds = (performance.now() - started) / 1000;

type Call = { id: number; method: string; params?: unknown[] };
/** A log as some public nodes still serve it: without its block's time, which then comes from headers. */
const withoutBlockTime = (log: Record<string, unknown>) => {
  const { blockTimestamp: _time, ...rest } = log;
  return rest;
};
const server = createServer((req, res) => {
  const noLogTimes = req.url === "/no-log-times";
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    const body = JSON.parse(Buffer.concat(chunks).toString()) as Call | Call[];
    const one = async (call: Call) => {
      try {
        const result = await request(call.method, call.params ?? []);
        if (noLogTimes && call.method === "eth_getLogs") {
          return {
            jsonrpc: "2.0",
            id: call.id,
            result: (result as Record<string, unknown>[]).map(withoutBlockTime),
          };
        }
        return { jsonrpc: "2.0", id: call.id, result };
      } catch (error) {
        const e = error as { code?: number; message?: string };
        return {
          jsonrpc: "2.0",
          id: call.id,
          error: { code: e.code ?? -32000, message: e.message ?? "error" },
        };
      }
    };
    void (Array.isArray(body) ? Promise.all(body.map(one)) : one(body)).then((answer) =>
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer)),
    );
  });
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));

port.on("message", (message: ToChain) => {
  if (message.type === "stop") {
    server.close();
    port.close();
    return;
  }
  void (async () => {
    const live = workers[0]!;
    const sends: Promise<void>[] = [];
    const begin = performance.now();
    for (let i = 0; i < message.seconds * message.txPerSecond; i++) {
      const due = begin + (i * 1000) / message.txPerSecond;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
      sends.push(
        (async () => {
          const hash = i % 2 === 0 ? await register(live.seller) : await purchase(live.holder, freshWallet());
          const mined = now();
          post({ type: "mined", block: Number((await receipt(hash)).blockNumber), at: mined });
        })(),
      );
    }
    await Promise.all(sends);
    post({ type: "liveDone" });
  })();
});

post({
  type: "ready",
  url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
  deployment,
  blocks: Number(await request("eth_blockNumber")),
  generateSeconds,
  rounds: rounds * WORKERS,
});
