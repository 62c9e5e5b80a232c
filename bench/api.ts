/**
 * `npm run bench:api`: the API under load. A test stack (Hardhat chain, PostgreSQL, Redis, embedded
 * IPFS, indexer, workers) runs in this process; the API runs as `npm run api` does, in
 * BENCH_API_PROCESSES processes (default 2, one per core). Measures GET /v1/licenses/verify at
 * saturation with 10,000 licenses indexed, BENCH_RUNS times (default 3), each run beside a bare
 * `node:http` server in as many processes sending the same response bytes under the same load
 * (`verifyVsBareRatio`: what share of the machine's HTTP capacity the verify path keeps); then
 * registrations accepted per second in batch mode, with the API processes under `--cpu-prof` to
 * say what share of their time signature recovery takes, while PostgreSQL's sessions are sampled
 * for the share of time a registration write is committing. BENCH_PROFILE=1 also profiles the
 * verify runs, prints their top frames and keeps the profiles. BENCH_VERIFY_THROUGH_EXPRESS=1 sends
 * the verify requests with an empty body's `Content-Length: 0`, which the path answered ahead of
 * Express passes on, so they take the Express path every request took before it (the same URL, the
 * same handler and answer; an empty body read besides): with BENCH_PROFILE=1, where the time went
 * there. Writes bench/results/api.json, or api-through-express.json for the Express path.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { getAddress, hexlify, id, type HDNodeWallet } from "ethers";
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
import { startServerProcess, type ServerProcess } from "../test/helpers/server-process.ts";
import { startBareServer } from "./lib/bare-reference.ts";
import { monotonicMicros, profileLines, summarizeProfiles, type Window } from "./lib/cpu-profile.ts";
import type { LoadPlan, LoadResult } from "./lib/load.ts";
import { cpuSecondsOfTree } from "./lib/process-cpu.ts";
import { report } from "./lib/report.ts";
import { runLoad } from "./lib/run-load.ts";

const LICENSES = Number(process.env.BENCH_LICENSES ?? 10_000);
const WORKS = 10;
const HOLDERS = 2_000;
const REGISTRATIONS = Number(process.env.BENCH_REGISTRATIONS ?? 2_000);
const DURATION_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const API_PROCESSES = Number(process.env.BENCH_API_PROCESSES ?? 2);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const PROFILE_VERIFY = process.env.BENCH_PROFILE === "1";
const THROUGH_EXPRESS = process.env.BENCH_VERIFY_THROUGH_EXPRESS === "1";

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
  // Random addresses, not wallets: deriving 2,000 HD wallets blocks the event loop of the chain for
  // seconds, past its HTTP server's keep-alive timeout, and its clients' next requests are reset.
  const holders = Array.from({ length: HOLDERS }, () => getAddress(hexlify(randomBytes(20))));
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

/** The verify requests every run sends, to the API and to the bare server alike. */
function verifyRequests(workIds: bigint[], holders: string[]): LoadPlan["requests"] {
  return Array.from({ length: 5_000 }, (_, i) => ({
    path: `/v1/licenses/verify?workId=${workIds[(i * 7) % workIds.length]}&holder=${holders[i % holders.length]}`,
  }));
}

function verifyLoad(url: string, requests: LoadPlan["requests"], seconds: number): Promise<LoadResult> {
  // Enough connections to keep the server busy; more would only queue and inflate latency.
  return runLoad({
    url,
    method: "GET",
    requests,
    connections: 16,
    duration: seconds,
    ...(THROUGH_EXPRESS ? { headers: { "content-length": "0" } } : {}),
  });
}

/** API processes started with `--cpu-prof`, writing one profile each into a new directory on exit. */
async function startProfiledApi(stack: TestStack): Promise<{ api: ServerProcess; dir: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), "rl-bench-api-profile-"));
  const api = await startServerProcess(stack, {
    part: "api",
    processes: API_PROCESSES,
    env: { ...UNLIMITED_RATES, NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${dir}` },
  });
  return { api, dir };
}

interface Measured {
  load: LoadResult;
  /** CPU the server's processes used per answer, in microseconds. */
  cpuUsPerRequest: number;
}

interface VerifyRun {
  api: Measured;
  bare: Measured;
  ratio: number;
  load1: number;
  /** When the API was under load. */
  window: Window;
}

/** RUNS runs, each measuring the API and the bare server one after the other (alternating which first). */
async function benchVerify(api: ServerProcess, workIds: bigint[], holders: string[]): Promise<VerifyRun[]> {
  const apiUrl = api.url;
  const requests = verifyRequests(workIds, holders);
  const bare = await startBareServer(apiUrl, requests[0]!.path, API_PROCESSES);
  const measure = async (url: string, pid: number) => {
    const cpuBefore = await cpuSecondsOfTree(pid);
    const from = monotonicMicros();
    const load = await verifyLoad(url, requests, DURATION_SECONDS);
    const window = { from, to: monotonicMicros() };
    const cpu = (await cpuSecondsOfTree(pid)) - cpuBefore;
    return { measured: { load, cpuUsPerRequest: (cpu * 1e6) / load.requests }, window };
  };
  try {
    // Both warmed up (JIT, connection pools, the verifier's cache) before anything counts.
    await verifyLoad(apiUrl, requests, 3);
    await verifyLoad(bare.url, requests, 3);
    const runs: VerifyRun[] = [];
    for (let run = 1; run <= RUNS; run++) {
      const load1 = loadavg()[0]!;
      let ours: Awaited<ReturnType<typeof measure>>, reference: Awaited<ReturnType<typeof measure>>;
      if (run % 2 === 1) {
        ours = await measure(apiUrl, api.pid);
        reference = await measure(bare.url, bare.pid);
      } else {
        reference = await measure(bare.url, bare.pid);
        ours = await measure(apiUrl, api.pid);
      }
      const [a, b] = [ours.measured, reference.measured];
      const ratio = a.load.reqPerSec / b.load.reqPerSec;
      runs.push({ api: a, bare: b, ratio, load1, window: ours.window });
      console.log(
        `run ${run}: API ${Math.round(a.load.reqPerSec)} req/s p99 ${a.load.p99} ms ${Math.round(a.cpuUsPerRequest)} µs CPU/req, bare ${Math.round(b.load.reqPerSec)} req/s p99 ${b.load.p99} ms ${Math.round(b.cpuUsPerRequest)} µs CPU/req, ratio ${ratio.toFixed(3)}, load ${load1.toFixed(2)}`,
      );
    }
    return runs;
  } finally {
    await bare.stop();
  }
}

/**
 * Samples PostgreSQL's sessions every few milliseconds until stopped: how often a registration write
 * is in progress, and how often one is committing (waiting for its WAL to be written or flushed).
 */
function sampleRegistrationWrites(stack: TestStack): {
  stop(): Promise<{ writing: number; committing: number }>;
} {
  let samples = 0;
  let writing = 0;
  let committing = 0;
  let running = true;
  const sampling = (async () => {
    while (running) {
      const { rows } = await stack.db.pool.query<{ writing: number; committing: number }>(
        `SELECT count(*)::int AS writing,
                count(*) FILTER (WHERE wait_event IN ('WALSync', 'WALWrite', 'WALInsert'))::int AS committing
           FROM pg_stat_activity
          WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()
            AND query LIKE '%INSERT INTO registration_requests%'`,
      );
      samples += 1;
      if (rows[0]!.writing > 0) writing += 1;
      if (rows[0]!.committing > 0) committing += 1;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  return {
    async stop() {
      running = false;
      await sampling;
      return { writing: writing / samples, committing: committing / samples };
    },
  };
}

async function benchRegistrations(stack: TestStack) {
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
  const { api, dir } = await startProfiledApi(stack);
  let result: LoadResult, writes: { writing: number; committing: number }, window: Window;
  try {
    const sampler = sampleRegistrationWrites(stack);
    const from = monotonicMicros();
    try {
      result = await runLoad({
        url: api.url,
        method: "POST",
        requests: payloads.map((p) => ({
          path: `/v1/works/${p.hash}/register`,
          body: JSON.stringify(p.body),
        })),
        connections: 32,
        amount: payloads.length,
      });
    } finally {
      window = { from, to: monotonicMicros() };
      writes = await sampler.stop();
    }
  } finally {
    await api.stop();
  }
  const profile = await summarizeProfiles(dir, {
    matchers: {
      signatureCheck: (f) => f.functionName === "assertSignedBy",
      signatureRecovery: (f) => f.functionName === "recoverSigner",
    },
    topN: 10,
    skipPids: [api.pid],
    windows: [window],
  });
  console.log(profileLines("API processes during registrations", profile).join("\n"));
  if (PROFILE_VERIFY) console.log(`profiles kept in ${dir}`);
  else await rm(dir, { recursive: true, force: true });
  await stack.waitFor(async () => {
    const { rows } = await stack.db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM registration_requests r JOIN batches b ON b.merkle_root = (SELECT merkle_root FROM notarization_batches WHERE id = r.batch_id)`,
    );
    return rows[0]!.n >= REGISTRATIONS;
  }, 300_000);
  return { perSec: result.reqPerSec, p99: result.p99, profile, writes };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const round = (value: number, digits = 0) => Number(value.toFixed(digits));

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
  const profiled = PROFILE_VERIFY ? await startProfiledApi(stack) : null;
  const api =
    profiled?.api ??
    (await startServerProcess(stack, { part: "api", processes: API_PROCESSES, env: UNLIMITED_RATES }));
  let verify: VerifyRun[];
  try {
    console.log(
      `GET /v1/licenses/verify, ${RUNS} runs of ${DURATION_SECONDS} s each against the API and the bare server, ${API_PROCESSES} processes each…`,
    );
    verify = await benchVerify(api, workIds, holders);
  } finally {
    await api.stop();
  }
  if (profiled) {
    const summary = await summarizeProfiles(profiled.dir, {
      topN: 25,
      skipPids: [api.pid],
      windows: verify.map((r) => r.window),
    });
    console.log(profileLines("API processes during the verify runs", summary).join("\n"));
    console.log(`profiles kept in ${profiled.dir} (flame graphs: Chrome DevTools or speedscope)`);
  }
  let registrations: Awaited<ReturnType<typeof benchRegistrations>> | null = null;
  if (!THROUGH_EXPRESS) {
    console.log(`${REGISTRATIONS} registrations in batch mode…`);
    registrations = await benchRegistrations(stack);
  }
  const of = (pick: (run: VerifyRun) => number) => verify.map(pick);
  const apiRates = of((r) => r.api.load.reqPerSec);
  const apiP99s = of((r) => r.api.load.p99);
  const bareRates = of((r) => r.bare.load.reqPerSec);
  const apiCpu = of((r) => r.api.cpuUsPerRequest);
  const bareCpu = of((r) => r.bare.cpuUsPerRequest);
  const ratios = of((r) => r.ratio);
  const loads = of((r) => r.load1);
  await report(
    // The Express path's figures are the reference the verify path is compared with, kept apart.
    THROUGH_EXPRESS ? "api-through-express" : "api",
    {
      runs: RUNS,
      verifyReqPerSec: round(median(apiRates)),
      verifyReqPerSecMin: round(Math.min(...apiRates)),
      verifyReqPerSecMax: round(Math.max(...apiRates)),
      verifyP50Ms: median(of((r) => r.api.load.p50)),
      verifyP99Ms: median(apiP99s),
      verifyP99MsMin: Math.min(...apiP99s),
      verifyP99MsMax: Math.max(...apiP99s),
      bareReqPerSec: round(median(bareRates)),
      bareReqPerSecMin: round(Math.min(...bareRates)),
      bareReqPerSecMax: round(Math.max(...bareRates)),
      verifyVsBareRatio: round(median(ratios), 3),
      verifyVsBareRatioMin: round(Math.min(...ratios), 3),
      verifyVsBareRatioMax: round(Math.max(...ratios), 3),
      verifyCpuUsPerRequest: round(median(apiCpu)),
      verifyCpuUsPerRequestMin: round(Math.min(...apiCpu)),
      verifyCpuUsPerRequestMax: round(Math.max(...apiCpu)),
      bareCpuUsPerRequest: round(median(bareCpu)),
      loadAverageMin: round(Math.min(...loads), 2),
      loadAverageMax: round(Math.max(...loads), 2),
      ...(registrations && {
        registrationsPerSec: round(registrations.perSec),
        registrationSignatureCheckShare: round(registrations.profile.inclusive.signatureCheck!, 3),
        registrationSignatureRecoveryShare: round(registrations.profile.inclusive.signatureRecovery!, 3),
        registrationApiIdleShare: round(registrations.profile.idleShare, 3),
        registrationWriteShare: round(registrations.writes.writing, 3),
        registrationCommitShare: round(registrations.writes.committing, 3),
      }),
    },
    {
      verifyReqPerSec: "median of the runs; target >= 5,000",
      verifyP99Ms: "median of the runs; target <= 20",
      bareReqPerSec: "node:http answering the same bytes, same processes, load and connections",
      verifyVsBareRatio: "median of the runs' ratios; target >= 0.30",
      verifyCpuUsPerRequest: "median; CPU of the API processes per answer (user + system)",
      bareCpuUsPerRequest: "median; CPU of the bare server's processes per answer",
      loadAverageMin: "1-minute load average at the start of each run (2 cores, shared)",
      registrationsPerSec: "target >= 500; API processes under --cpu-prof",
      registrationSignatureCheckShare: "of the API processes' busy CPU: EIP-712 digest and recovery",
      registrationSignatureRecoveryShare: "of the API processes' busy CPU: secp256k1 recovery",
      registrationApiIdleShare: "of the API processes' time, waiting",
      registrationWriteShare: "of sampled instants, a registration write in PostgreSQL",
      registrationCommitShare: "of sampled instants, a registration write waiting for its WAL",
    },
  );
} finally {
  await stack.stop();
}
