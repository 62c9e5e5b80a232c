/**
 * `npm run bench:api`: the API under load. A test stack (Hardhat chain, PostgreSQL, Redis, embedded
 * IPFS, indexer, workers) runs in this process; the API runs as `npm run api` does, in
 * BENCH_API_PROCESSES processes (default 2, one per core). Measures GET /v1/licenses/verify at
 * saturation with 10,000 licenses indexed, and registrations accepted per second in batch mode.
 * Writes bench/results/api.json.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { Wallet, id, type HDNodeWallet } from "ethers";
import request from "supertest";
import {
  LicenseToken__factory,
  SplitFactory__factory,
  WorkRegistry__factory,
} from "../types/typechain/index.ts";
import {
  devWallet,
  sessionToken,
  startTestStack,
  UNLIMITED_RATES,
  type TestStack,
} from "../test/helpers/stack.ts";
import { commitAndReveal } from "../test/helpers/registry.ts";
import { startServerProcess } from "../test/helpers/server-process.ts";
import type { LoadPlan, LoadResult } from "./lib/load.ts";
import { report } from "./lib/report.ts";

const LICENSES = Number(process.env.BENCH_LICENSES ?? 10_000);
const WORKS = 10;
const HOLDERS = 2_000;
const REGISTRATIONS = Number(process.env.BENCH_REGISTRATIONS ?? 2_000);
const DURATION_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const API_PROCESSES = Number(process.env.BENCH_API_PROCESSES ?? 2);

/** Runs bench/lib/load.ts in a child process with `plan`. */
function load(plan: LoadPlan): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "bench/lib/load.ts"], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`load generator exited with ${code}`));
      const result = JSON.parse(out) as LoadResult;
      if (result.non2xx > 0 || result.errors > 0) {
        return reject(new Error(`${result.non2xx} non-2xx answers and ${result.errors} errors under load`));
      }
      resolve(result);
    });
    child.stdin.end(JSON.stringify(plan));
  });
}

/** Sends signed transactions without waiting for each, then mines until the relayer's nonce is reached. */
async function sendAll(
  stack: TestStack,
  wallet: HDNodeWallet,
  txs: { to: string; data: string }[],
): Promise<void> {
  const { chainId } = await stack.provider.getNetwork();
  let nonce = await stack.provider.getTransactionCount(wallet.address, "latest");
  await stack.provider.send("evm_setAutomine", [false]);
  try {
    for (let i = 0; i < txs.length; i += 200) {
      const signed = await Promise.all(
        txs.slice(i, i + 200).map((tx) =>
          wallet.signTransaction({
            ...tx,
            chainId,
            nonce: nonce++,
            gasLimit: 300_000n,
            maxFeePerGas: 20_000_000_000n,
            maxPriorityFeePerGas: 1_000_000_000n,
            type: 2,
          }),
        ),
      );
      // A few at a time: hundreds of concurrent requests make the node's HTTP server reset connections.
      for (let j = 0; j < signed.length; j += 20) {
        await Promise.all(
          signed.slice(j, j + 20).map((raw) => stack.provider.send("eth_sendRawTransaction", [raw])),
        );
      }
      await stack.provider.send("evm_mine", []);
    }
    while ((await stack.provider.getTransactionCount(wallet.address, "latest")) < nonce) {
      await stack.provider.send("evm_mine", []);
    }
  } finally {
    await stack.provider.send("evm_setAutomine", [true]);
  }
}

async function seedLicenses(stack: TestStack): Promise<{ workIds: bigint[]; holders: string[] }> {
  const creator = devWallet(5, stack.provider);
  const relayer = devWallet(1, stack.provider);
  const c = stack.deployment.contracts;
  const registry = WorkRegistry__factory.connect(c.WorkRegistry.address, creator);
  const licenses = LicenseToken__factory.connect(c.LicenseToken.address, creator);
  const splits = SplitFactory__factory.connect(c.SplitFactory.address, creator);
  await (await splits.createSplit([creator.address], [10_000])).wait();
  const split = await splits.predictSplit([creator.address], [10_000]);
  const workIds: bigint[] = [];
  for (let w = 0; w < WORKS; w++) {
    const { workId } = await commitAndReveal(registry, creator, id(`bench work ${w}`), {
      cid: "bafkrei",
      metadataURI: "ipfs://bench",
    });
    workIds.push(workId);
    await (
      await licenses.createOffer({
        workId,
        currency: "0x0000000000000000000000000000000000000000",
        price: 10n ** 15n,
        duration: 365n * 24n * 3600n,
        maxSupply: 0,
        transferable: true,
        commercialUse: true,
        referrerBps: 0,
        royaltyBps: 0,
        split,
        territory: "WORLD",
        revocable: false,
      })
    ).wait();
  }
  const holders = Array.from({ length: HOLDERS }, () => Wallet.createRandom().address);
  const iface = LicenseToken__factory.createInterface();
  const txs = Array.from({ length: LICENSES }, (_, i) => ({
    to: c.LicenseToken.address,
    data: iface.encodeFunctionData("mintForFiat", [
      BigInt(i % WORKS) + 1n,
      holders[i % HOLDERS]!,
      id(`bench-${i}`),
    ]),
  }));
  await sendAll(stack, relayer, txs);
  await stack.waitFor(async () => {
    const { rows } = await stack.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM licenses`);
    return rows[0]!.n >= LICENSES;
  }, 300_000);
  return { workIds, holders };
}

async function benchVerify(url: string, workIds: bigint[], holders: string[]) {
  const requests = Array.from({ length: 5_000 }, (_, i) => ({
    path: `/v1/licenses/verify?workId=${workIds[(i * 7) % workIds.length]}&holder=${holders[i % holders.length]}`,
  }));
  // Enough connections to keep the server busy; more would only queue and inflate latency.
  return load({ url, method: "GET", requests, connections: 16, duration: DURATION_SECONDS });
}

async function benchRegistrations(stack: TestStack, url: string) {
  const creators = [6, 7, 8, 9].map((i) => devWallet(i));
  const payloads: { hash: string; body: Record<string, string> }[] = [];
  for (let i = 0; i < REGISTRATIONS; i++) {
    const signer = creators[i % creators.length]!;
    const res = await request(stack.app)
      .post("/v1/works")
      .set("Authorization", `Bearer ${await sessionToken(signer.address)}`)
      .field("creator", signer.address)
      .field("title", `Registration ${i}`)
      .attach("file", randomBytes(256), `file-${i}.bin`);
    if (res.status !== 201) throw new Error(`upload failed: ${JSON.stringify(res.body)}`);
    const typed = res.body.typedData;
    const signature = await signer.signTypedData(
      typed.domain,
      { Register: typed.types.Register },
      typed.message,
    );
    payloads.push({ hash: res.body.sha256, body: { ...typed.message, signature } });
  }
  const result = await load({
    url,
    method: "POST",
    requests: payloads.map((p) => ({ path: `/v1/works/${p.hash}/register`, body: JSON.stringify(p.body) })),
    connections: 32,
    amount: payloads.length,
  });
  await stack.waitFor(async () => {
    const { rows } = await stack.db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM registration_requests r JOIN batches b ON b.merkle_root = (SELECT merkle_root FROM notarization_batches WHERE id = r.batch_id)`,
    );
    return rows[0]!.n >= REGISTRATIONS;
  }, 300_000);
  return { perSec: result.reqPerSec, p99: result.p99 };
}

const stack = await startTestStack("bench_api", {
  env: {
    NOTARIZE_MODE: "batch",
    BATCH_MAX_WORKS: "1000",
    BATCH_FLUSH_SECONDS: "1",
    ...UNLIMITED_RATES,
  },
});
try {
  console.log(`seeding ${LICENSES} licenses over ${WORKS} works and ${HOLDERS} holders…`);
  const { workIds, holders } = await seedLicenses(stack);
  const api = await startServerProcess(stack, {
    part: "api",
    processes: API_PROCESSES,
    env: UNLIMITED_RATES,
  });
  let verify, registrations;
  try {
    console.log(`GET /v1/licenses/verify for ${DURATION_SECONDS} s, ${API_PROCESSES} API processes…`);
    verify = await benchVerify(api.url, workIds, holders);
    console.log(`${REGISTRATIONS} registrations in batch mode…`);
    registrations = await benchRegistrations(stack, api.url);
  } finally {
    await api.stop();
  }
  await report(
    "api",
    {
      verifyReqPerSec: Math.round(verify.reqPerSec),
      verifyP50Ms: verify.p50,
      verifyP99Ms: verify.p99,
      registrationsPerSec: Math.round(registrations.perSec),
    },
    {
      verifyReqPerSec: "target >= 5,000",
      verifyP99Ms: "target <= 20",
      registrationsPerSec: "target >= 500",
    },
  );
} finally {
  await stack.stop();
}
