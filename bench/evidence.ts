/**
 * `npm run bench:evidence`: how long the `evidence` job takes end to end on an in-process stack —
 * reading the work, its versions and licenses from PostgreSQL, the receipt and header from the
 * chain, the original file from IPFS, an RFC 3161 time-stamp from a local openssl authority, then
 * building, signing and storing the zip. Once for a work with a single registration and no
 * licenses, once for a work with 1,000 licenses minted on chain and indexed. Each figure is the
 * median of BENCH_RUNS runs. Writes bench/results/evidence.json.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { Wallet, ZeroAddress, id, type JsonRpcSigner } from "ethers";
import pino from "pino";
import request from "supertest";
import { parseCertificates } from "../lib/evidence/timestamp.ts";
import { DEV_EVIDENCE_SIGNER_KEY } from "../server/config.ts";
import { buildEvidence, type EvidenceJobDeps } from "../server/jobs/evidence.ts";
import { EvidenceFactsRepository } from "../server/repositories/evidence-facts.ts";
import { EvidenceRequestsRepository } from "../server/repositories/evidence-requests.ts";
import { EvidenceBundleStore } from "../server/evidence/bundle-store.ts";
import { LicenseToken__factory, SplitFactory__factory } from "../types/typechain/index.ts";
import { devWallet, sessionToken, startTestStack, type TestStack } from "../test/helpers/stack.ts";
import { startTestTsa } from "../test/helpers/tsa.ts";
import { report } from "./lib/report.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const LICENSES = 1_000;
const FILE_BYTES = 1024 * 1024;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Uploads a file through the API, registers it with the creator's signature and waits for the indexer. */
async function registerWork(stack: TestStack, creator: JsonRpcSigner, title: string) {
  const upload = await request(stack.app)
    .post("/v1/works")
    .set("Authorization", `Bearer ${await sessionToken(creator.address)}`)
    .field("creator", creator.address)
    .field("title", title)
    .attach("file", randomBytes(FILE_BYTES), `${title}.bin`);
  if (upload.status !== 201) throw new Error(`upload failed: ${JSON.stringify(upload.body)}`);
  const typed = upload.body.typedData;
  const signature = await creator.signTypedData(
    typed.domain,
    { Register: typed.types.Register },
    typed.message,
  );
  const registered = await request(stack.app)
    .post(`/v1/works/${upload.body.sha256}/register`)
    .send({ ...typed.message, signature });
  if (registered.status !== 202) throw new Error(`registration failed: ${JSON.stringify(registered.body)}`);
  return stack.waitFor(async () => {
    const { rows } = await stack.db.pool.query<{ work_id: string; content_hash: string }>(
      `SELECT work_id::text, content_hash FROM works WHERE content_hash = $1`,
      [upload.body.sha256],
    );
    return rows[0];
  }, 60_000);
}

/** Mints `count` card-paid licenses from the platform's minter, many per block, and waits for the indexer. */
async function mintLicenses(stack: TestStack, creator: JsonRpcSigner, workId: string, count: number) {
  const c = stack.deployment.contracts;
  const splits = SplitFactory__factory.connect(c.SplitFactory.address, creator);
  await (await splits.createSplit([creator.address], [10_000])).wait();
  const licenses = LicenseToken__factory.connect(c.LicenseToken.address, creator);
  await (
    await licenses.createOffer({
      workId,
      currency: ZeroAddress,
      price: 10n ** 15n,
      duration: 365n * 24n * 3600n,
      maxSupply: 0,
      transferable: true,
      commercialUse: true,
      referrerBps: 0,
      royaltyBps: 0,
      split: await splits.predictSplit([creator.address], [10_000]),
      territory: "WORLD",
      revocable: false,
    })
  ).wait();
  const offerId = await licenses.offerCount();
  const minter = devWallet(1, stack.provider);
  const iface = LicenseToken__factory.createInterface();
  const { chainId } = await stack.provider.getNetwork();
  let nonce = await stack.provider.getTransactionCount(minter.address, "latest");
  await stack.provider.send("evm_setAutomine", [false]);
  try {
    for (let i = 0; i < count; i += 200) {
      const batch = Array.from({ length: Math.min(200, count - i) }, (_, j) =>
        minter.signTransaction({
          to: c.LicenseToken.address,
          data: iface.encodeFunctionData("mintForFiat", [
            offerId,
            Wallet.createRandom().address,
            id(`bench-evidence-${i + j}`),
          ]),
          chainId,
          nonce: nonce++,
          gasLimit: 400_000n,
          maxFeePerGas: 20_000_000_000n,
          maxPriorityFeePerGas: 1_000_000_000n,
          type: 2,
        }),
      );
      await Promise.all(
        (await Promise.all(batch)).map((raw) => stack.provider.send("eth_sendRawTransaction", [raw])),
      );
      await stack.provider.send("evm_mine", []);
    }
    while ((await stack.provider.getTransactionCount(minter.address, "latest")) < nonce) {
      await stack.provider.send("evm_mine", []);
    }
  } finally {
    await stack.provider.send("evm_setAutomine", [true]);
  }
  await stack.waitFor(async () => {
    const { rows } = await stack.db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM licenses WHERE work_id = $1`,
      [workId],
    );
    return rows[0]!.n >= count;
  }, 300_000);
}

/** Runs the job RUNS times on fresh requests for the work and returns the median wall time in ms. */
async function timeJob(
  deps: EvidenceJobDeps,
  work: { work_id: string; content_hash: string },
  creator: string,
) {
  const times: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const { request: created } = await deps.requests.insert(
      {
        id: randomUUID(),
        workId: work.work_id,
        contentHash: work.content_hash,
        creator,
        requestedBy: { kind: "address", address: creator },
        infringement: { observedAt: new Date().toISOString(), suspectSha256: work.content_hash },
        includeOriginal: true,
      },
      { queue: false },
    );
    const started = performance.now();
    const result = await buildEvidence(deps, created.id, { finalAttempt: true });
    times.push(performance.now() - started);
    if (result.status !== "ready") throw new Error(`the job answered ${result.status}`);
  }
  return median(times);
}

const tsa = await startTestTsa();
const stack = await startTestStack("bench_evidence", { env: { EVIDENCE_MIN_CONFIRMATIONS: "1" } });
try {
  // The node assigns the creator's nonces: a local wallet would reuse one read from ethers' short-lived cache.
  const creator = await stack.signer(5);
  console.log("registering two 1 MiB works through the API…");
  const single = await registerWork(stack, creator, "single");
  const licensed = await registerWork(stack, creator, "licensed");
  console.log(`minting ${LICENSES} licenses for work ${licensed.work_id} and indexing them…`);
  await mintLicenses(stack, creator, licensed.work_id, LICENSES);

  const deps: EvidenceJobDeps = {
    requests: new EvidenceRequestsRepository(stack.db.pool),
    facts: new EvidenceFactsRepository(stack.db.pool),
    bundles: new EvidenceBundleStore(stack.config.evidence.dir),
    quotaBytes: stack.config.evidence.quotaBytes,
    provider: stack.provider,
    originals: stack.originals,
    chainId: stack.chainId,
    registryAddress: stack.deployment.contracts.WorkRegistry.address,
    signer: new Wallet(DEV_EVIDENCE_SIGNER_KEY),
    tsa: { url: tsa.url, trustedCerts: parseCertificates(await readFile(tsa.caPath)) },
    minConfirmations: 1,
    logger: pino({ level: "silent" }),
  };
  const creatorAddress = creator.address.toLowerCase();
  console.log(`timing the evidence job, ${RUNS} runs each…`);
  const bundleMsSingle = await timeJob(deps, single, creatorAddress);
  const bundleMs1000Licenses = await timeJob(deps, licensed, creatorAddress);
  await report(
    "evidence",
    { bundleMsSingle: Math.round(bundleMsSingle), bundleMs1000Licenses: Math.round(bundleMs1000Licenses) },
    { bundleMsSingle: "target <= 2,000", bundleMs1000Licenses: "target <= 2,000" },
  );
} finally {
  await stack.stop();
  await tsa.close();
}
