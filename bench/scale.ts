/**
 * `npm run bench:scale [-- --scale 1] [--seed 1] [--parts data,backfill] [--samples 1000] [--keep]
 * [--database NAME] [--runs 3] [--backfill-events 500000] [--backfill-runs 3] [--budget-seconds 120]`:
 * the product at 100 times the other benchmarks' data.
 *
 * `data`: builds, from the seed, a database of its own on the local PostgreSQL server — the indexer's
 * and the server's migrations, then rows written with COPY into that schema (bench/lib/scale-data.ts):
 * 1,000,000 works titled and described in seven languages, 1,000,000 licenses over 100,000 holders
 * (100,000 of them for work 1, which a real chain registered), 100,000 open listings, 10,000,000
 * chain events. It then times, one call after another against that database, the uncached verify
 * path, the Explore page's search, a holder's licenses page and an evidence bundle of work 1, prints
 * the EXPLAIN (ANALYZE, BUFFERS) summary of the slowest call of each, and measures the bytes on disk
 * per indexed event. The measurements are taken `--runs` times on fresh samples (the plans are those of
 * the last run); each figure is their median, with the range of the targets' figures beside it. The
 * database is dropped at the end unless `--keep`; `--database NAME` measures a kept one again
 * instead of building.
 *
 * `backfill`: a Hardhat chain holding `--backfill-events` events of trading activity, indexed cold
 * by the indexer in its own process (`npm run indexer`) into an empty database, once through an RPC
 * whose logs carry their block's time and once through one whose logs do not, `--backfill-runs` times
 * each on the same chain; events per second and the indexer's peak RSS. `--profile` runs the indexer
 * of the first run under `--cpu-prof` and prints where its time went.
 *
 * Merges its figures into bench/results/scale.json and prints the query plans into
 * bench/results/scale-plans.txt. Not part of CI: it takes many minutes and gigabytes.
 */
import { spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, statfs, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { Wallet } from "ethers";
import { Redis } from "ioredis";
import pg from "pg";
import pino from "pino";
import { deploymentSchema, writeDeployment, type Deployment } from "../lib/deployment.ts";
import { parseCertificates } from "../lib/evidence/timestamp.ts";
import { FetchJsonRpcProvider } from "../lib/fetch-json-rpc-provider.ts";
import { migrateIndexerSchema } from "../indexer/schema.ts";
import { ChainClock } from "../server/chain/chain-clock.ts";
import { ChangeFeed } from "../server/chain/change-feed.ts";
import { DEV_EVIDENCE_SIGNER_KEY } from "../server/config.ts";
import { EvidenceBundleStore } from "../server/evidence/bundle-store.ts";
import { ContentKeys } from "../server/content/content-keys.ts";
import { Originals } from "../server/content/originals.ts";
import { EmbeddedIpfsStore } from "../server/ipfs/embedded-store.ts";
import { buildEvidence, type EvidenceJobDeps } from "../server/jobs/evidence.ts";
import { EvidenceFactsRepository } from "../server/repositories/evidence-facts.ts";
import { EvidenceRequestsRepository } from "../server/repositories/evidence-requests.ts";
import { LicensesRepository } from "../server/repositories/licenses.ts";
import { WorksRepository } from "../server/repositories/works.ts";
import { migrateServerSchema, SERVER_MIGRATIONS } from "../server/schema.ts";
import { LicenseVerifier } from "../server/services/license-verifier.ts";
import { LicensesService } from "../server/services/licenses.ts";
import { startTestTsa } from "../test/helpers/tsa.ts";
import { WorkRegistry__factory } from "../types/typechain/index.ts";
import { startChainWorker } from "./lib/chain-worker.ts";
import { profileLines, summarizeProfiles } from "./lib/cpu-profile.ts";
import { explain, planLines, recording } from "./lib/explain.ts";
import { sampler } from "./lib/random.ts";
import { report, type Figures } from "./lib/report.ts";
import { buildScaleDatabase } from "./lib/scale-data.ts";
import { scaleSizes, type AnchoredWork, type ScaleOptions } from "./lib/scale-plan.ts";
import { LANGUAGES } from "./lib/scale-words.ts";

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const SCALE = Number(option("scale", "1"));
const SEED = Number(option("seed", "1"));
const PARTS = option("parts", "data,backfill").split(",");
const SAMPLES = Number(option("samples", "1000"));
const KEEP = process.argv.includes("--keep");
const REUSE = option("database", "");
const RUNS = Number(option("runs", "3"));
const BACKFILL_EVENTS = Number(option("backfill-events", "500000"));
const BACKFILL_RUNS = Number(option("backfill-runs", "3"));
/** The indexer under `--cpu-prof` during the first run's backfills, its top frames printed. */
const PROFILE = process.argv.includes("--profile");
/** Seconds each measurement may take; a slow query shape then reports fewer samples rather than run for hours. */
const BUDGET_SECONDS = Number(option("budget-seconds", "120"));
const ADMIN_URL = process.env.BENCH_DATABASE_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
/** On-disk bytes an event takes with everything derived from it, generously; checked against free space. */
const BYTES_PER_EVENT_ESTIMATE = 1_500;
const EVIDENCE_RUNS = 3;

const load = () => loadavg()[0]!.toFixed(2);
const round = (value: number, digits = 1) => Number(value.toFixed(digits));
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1)))]!;
const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    0.5,
  );

/**
 * Figures of several runs as one: each figure's median, and for those in `ranged` the lowest and
 * highest beside it (`<name>Min`, `<name>Max`).
 */
function combineRuns(runs: Figures[], ranged: string[]): Figures {
  const combined: Figures = {};
  for (const key of Object.keys(runs[0]!)) {
    const values = runs.map((run) => run[key]!);
    combined[key] = median(values);
    if (ranged.includes(key)) {
      combined[`${key}Min`] = Math.min(...values);
      combined[`${key}Max`] = Math.max(...values);
    }
  }
  return combined;
}

function databaseUrl(name: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

interface Timing<T> {
  p50: number;
  p99: number;
  max: number;
  slowest: T;
  /** The five slowest calls. */
  worst: { ms: number; sample: T }[];
  /** Samples timed before the time budget ran out. */
  count: number;
}

/** Runs `call` for each sample, one after another, for BUDGET_SECONDS at most; latencies in ms. */
async function time<T>(samples: T[], call: (sample: T) => Promise<unknown>): Promise<Timing<T>> {
  const times: { ms: number; sample: T }[] = [];
  const deadline = performance.now() + BUDGET_SECONDS * 1000;
  for (const sample of samples) {
    const started = performance.now();
    await call(sample);
    times.push({ ms: performance.now() - started, sample });
    if (started > deadline) break;
  }
  if (times.length < samples.length)
    console.log(`  time budget spent after ${times.length} of ${samples.length} calls`);
  times.sort((a, b) => a.ms - b.ms);
  const ms = times.map((t) => t.ms);
  return {
    p50: percentile(ms, 0.5),
    p99: percentile(ms, 0.99),
    max: ms.at(-1)!,
    slowest: times.at(-1)!.sample,
    worst: times.slice(-5).reverse(),
    count: times.length,
  };
}

const plans: string[] = [];

/** Runs `call` once more through a recording pool and EXPLAINs every statement it ran. */
async function explainCall(
  title: string,
  pool: pg.Pool,
  call: (db: pg.Pool) => Promise<unknown>,
): Promise<void> {
  const { db, statements } = recording(pool);
  await call(db);
  for (const [i, statement] of statements.entries()) {
    const plan = await explain(pool, statement.text, statement.values);
    const lines = planLines(`${title}, statement ${i + 1} of ${statements.length}`, plan);
    plans.push(...lines, `  SQL: ${statement.text.replace(/\s+/g, " ").slice(0, 400)}`, "");
    console.log(lines.join("\n"));
  }
}

/** The registration of work 1 on the worker's chain, which the generated database takes as its work 1. */
async function anchoredWork(provider: FetchJsonRpcProvider, deployment: Deployment): Promise<AnchoredWork> {
  const registry = WorkRegistry__factory.connect(deployment.contracts.WorkRegistry.address, provider);
  const [log] = await registry.queryFilter(registry.filters.WorkRegistered(1n));
  if (!log) throw new Error("the chain has no work 1");
  const block = (await provider.getBlock(log.blockNumber))!;
  return {
    contentHash: log.args.contentHash.toLowerCase(),
    creator: log.args.creator.toLowerCase(),
    cid: log.args.cid,
    metadataUri: log.args.metadataURI,
    txHash: log.transactionHash.toLowerCase(),
    blockNumber: log.blockNumber,
    logIndex: log.index,
    blockHash: block.hash!.toLowerCase(),
    blockTime: block.timestamp,
  };
}

/** A kept database's work 1 taken over by this run's chain, whose registration lives elsewhere. */
async function reanchor(pool: pg.Pool, anchor: AnchoredWork, chainId: number): Promise<void> {
  // The generated blocks follow work 1's; a deployment with more transactions moves it among them.
  const { rows: taken } = await pool.query<{ block_number: string }>(
    `SELECT w.block_number::text FROM works w
      WHERE w.work_id = 1 AND (w.block_number, w.log_index) <> ($1, $2)
        AND EXISTS (SELECT 1 FROM chain_events e WHERE e.chain_id = $3 AND e.block_number = $1 AND e.log_index = $2)`,
    [anchor.blockNumber, anchor.logIndex, chainId],
  );
  if (taken[0]) {
    throw new Error(
      `the kept database has work 1 in block ${taken[0].block_number} and its generated blocks after it, ` +
        `but this chain registers work 1 in block ${anchor.blockNumber} (the contracts' deployment changed): ` +
        `build the database anew`,
    );
  }
  await pool.query(
    `WITH old AS (SELECT block_number, log_index FROM works WHERE work_id = 1)
     UPDATE chain_events e SET block_number = $2, log_index = $3, block_hash = $4, tx_hash = $5,
            block_time = to_timestamp($6), args = jsonb_set(args, '{contentHash}', to_jsonb($1::text))
       FROM old WHERE e.chain_id = $7 AND e.block_number = old.block_number AND e.log_index = old.log_index`,
    [
      anchor.contentHash,
      anchor.blockNumber,
      anchor.logIndex,
      anchor.blockHash,
      anchor.txHash,
      anchor.blockTime,
      chainId,
    ],
  );
  await pool.query(
    `UPDATE works SET block_number = $2, log_index = $3, tx_hash = $4, registered_at = $5, creator = $6
      WHERE work_id = 1 AND content_hash = $1`,
    [
      anchor.contentHash,
      anchor.blockNumber,
      anchor.logIndex,
      anchor.txHash,
      anchor.blockTime,
      anchor.creator,
    ],
  );
}

/** Bytes on disk of the tables the indexer's migrations create (rows and indexes), and of the database. */
async function diskBytes(pool: pg.Pool): Promise<{ indexer: number; database: number }> {
  const serverTables = new Set<string>();
  for (const file of await readdir(SERVER_MIGRATIONS.dir)) {
    const sql = await readFile(path.join(SERVER_MIGRATIONS.dir, file), "utf8");
    for (const match of sql.matchAll(/CREATE TABLE (?:IF NOT EXISTS )?(\w+)/gi)) serverTables.add(match[1]!);
  }
  const { rows } = await pool.query<{ relname: string; bytes: string }>(
    `SELECT relname, pg_total_relation_size(oid)::text AS bytes FROM pg_class
      WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace`,
  );
  const indexer = rows
    .filter((r) => !serverTables.has(r.relname))
    .reduce((sum, r) => sum + Number(r.bytes), 0);
  const { rows: db } = await pool.query<{ bytes: string }>(
    `SELECT pg_database_size(current_database())::text AS bytes`,
  );
  return { indexer, database: Number(db[0]!.bytes) };
}

async function checkDisk(admin: pg.Client, events: number): Promise<void> {
  const { rows } = await admin.query<{ data_directory: string }>("SHOW data_directory");
  const fs = await statfs(rows[0]!.data_directory);
  const free = fs.bavail * fs.bsize;
  const needed = events * BYTES_PER_EVENT_ESTIMATE;
  console.log(
    `disk: ${(free / 2 ** 30).toFixed(1)} GiB free under ${rows[0]!.data_directory}, about ${(needed / 2 ** 30).toFixed(1)} GiB needed`,
  );
  if (free < needed * 1.5) throw new Error("not enough free disk for this scale; try a smaller --scale");
}

// --- data: the generated database and the queries on it ---

async function dataPart(): Promise<Figures> {
  const sizes = scaleSizes(SCALE);
  console.log("starting a chain that registers work 1 (the evidence bundle's)…");
  const chain = await startChainWorker(13);
  const provider = new FetchJsonRpcProvider(chain.ready.url);
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  const name = REUSE || `bench_scale_${randomBytes(4).toString("hex")}`;
  const pool = new pg.Pool({ connectionString: databaseUrl(name), max: 4 });
  pool.on("error", () => undefined);
  const redis = new Redis(REDIS_URL, { lazyConnect: true });
  const tsa = await startTestTsa();
  const scratch = await mkdtemp(path.join(tmpdir(), "rl-bench-scale-"));
  try {
    const deployment = deploymentSchema.parse(chain.ready.deployment);
    const anchor = await anchoredWork(provider, deployment);
    const lower = (a: { address: string }) => a.address.toLowerCase();
    const options: ScaleOptions = {
      scale: SCALE,
      seed: SEED,
      chainId: deployment.chainId,
      anchor,
      contracts: {
        WorkRegistry: lower(deployment.contracts.WorkRegistry),
        LicenseToken: lower(deployment.contracts.LicenseToken),
        SplitFactory: lower(deployment.contracts.SplitFactory),
        GameItems: lower(deployment.contracts.GameItems),
        ItemEscrow: lower(deployment.contracts.ItemEscrow),
      },
    };
    const figures: Figures = { scale: SCALE, seed: SEED };
    if (REUSE) {
      console.log(`measuring the kept database ${name}, after the migrations it has not had yet…`);
      const started = performance.now();
      const applied = [...(await migrateIndexerSchema(pool)), ...(await migrateServerSchema(pool))];
      if (applied.length) {
        console.log(
          `  applied ${applied.map((m) => m.name).join(", ")} in ${((performance.now() - started) / 1000).toFixed(1)} s`,
        );
        for (const table of ["work_metadata", "works", "chain_events"]) await pool.query(`ANALYZE ${table}`);
      }
      await reanchor(pool, anchor, deployment.chainId);
    } else {
      await checkDisk(admin, sizes.events);
      console.log(
        `building ${name} (load ${load()}): the indexer's and the server's migrations, then COPY into that schema…`,
      );
      const started = performance.now();
      await admin.query(`CREATE DATABASE ${name}`);
      await migrateIndexerSchema(pool);
      await migrateServerSchema(pool);
      const client = await pool.connect();
      try {
        await buildScaleDatabase(client, options, (step, detail) => console.log(`  ${step} ${detail}`));
      } finally {
        client.release();
      }
      figures.buildSeconds = Math.round((performance.now() - started) / 1000);
      console.log(`built in ${figures.buildSeconds} s`);
    }
    const count = async (sql: string) => Number((await pool.query<{ n: string }>(sql)).rows[0]!.n);
    const workCount = (figures.works = await count("SELECT count(*) AS n FROM works"));
    const licenseCount = (figures.licenses = await count("SELECT count(*) AS n FROM licenses"));
    figures.holders = await count("SELECT count(DISTINCT holder) AS n FROM licenses");
    figures.openListings = await count("SELECT count(*) AS n FROM listings WHERE state = 'listed'");
    figures.events = await count("SELECT count(*) AS n FROM chain_events");
    const work1Licenses = (figures.work1Licenses = await count(
      "SELECT count(*) AS n FROM licenses WHERE work_id = 1",
    ));

    const random = sampler(SEED);
    const clock = new ChainClock(provider);
    const feed = new ChangeFeed(
      redis,
      `bench-scale-${randomBytes(4).toString("hex")}`,
      pino({ level: "silent" }),
    );
    const verifierOn = (db: pg.Pool) =>
      // The feed is never started: nothing is cached, every call reads PostgreSQL.
      new LicenseVerifier(
        new LicensesRepository(db),
        new WorksRepository(db, deployment.chainId),
        feed,
        clock,
      );

    // Evidence bundles of work 1, with its licenses, against the chain that registered it.
    const deps: EvidenceJobDeps = {
      requests: new EvidenceRequestsRepository(pool),
      facts: new EvidenceFactsRepository(pool),
      bundles: new EvidenceBundleStore(path.join(scratch, "bundles")),
      quotaBytes: 2 ** 40,
      provider,
      // Bundles here leave the original out; the store is there because the job needs one.
      originals: new Originals(
        await EmbeddedIpfsStore.open(path.join(scratch, "ipfs")),
        new ContentKeys([{ id: "bench", key: randomBytes(32) }]),
      ),
      chainId: deployment.chainId,
      registryAddress: deployment.contracts.WorkRegistry.address,
      signer: new Wallet(DEV_EVIDENCE_SIGNER_KEY),
      tsa: { url: tsa.url, trustedCerts: parseCertificates(await readFile(tsa.caPath)) },
      minConfirmations: 1,
      logger: pino({ level: "silent" }),
    };
    const measure = async (run: number, last: boolean): Promise<Figures> => {
      const f: Figures = {};
      // Verify: half the pairs hold a license, half do not.
      const { rows: held } = await pool.query<{ work_id: string; holder: string }>(
        `SELECT work_id::text, holder FROM licenses WHERE token_id = ANY($1::numeric[])`,
        [Array.from({ length: SAMPLES / 2 }, () => 1 + Math.floor(random() * licenseCount))],
      );
      const pairs = held.flatMap((h) => [
        h,
        {
          work_id: String(1 + Math.floor(random() * workCount)),
          holder: held[Math.floor(random() * held.length)]!.holder,
        },
      ]);
      console.log(`verify: ${pairs.length} calls, uncached (load ${load()})…`);
      const verifier = verifierOn(pool);
      const verify = await time(pairs, (p) => verifier.verify(p.work_id, p.holder));
      f.verifyP50Ms1M = round(verify.p50, 2);
      f.verifyP99Ms1M = round(verify.p99, 2);
      if (last)
        await explainCall("verify", pool, (db) =>
          verifierOn(db).verify(verify.slowest.work_id, verify.slowest.holder),
        );

      // Explore: a word of a language picked as often as works are written in it, any word of its
      // vocabulary, and one search in ten for a word no work holds.
      const queries = Array.from({ length: Math.min(SAMPLES, 400) }, () => {
        let u = random();
        const language = LANGUAGES.find((l) => (u -= l.weight) < 0) ?? LANGUAGES[0]!;
        const words = random() < 0.1 ? language.absent : language.words;
        return { language: language.code, q: words[Math.floor(random() * words.length)]! };
      });
      console.log(
        `Explore search: ${queries.length} queries in ${LANGUAGES.length} languages (load ${load()})…`,
      );
      const works = new WorksRepository(pool, deployment.chainId);
      const search = await time(queries, (s) => works.list({ q: s.q, limit: 20 }));
      f.exploreSearchP50Ms1M = round(search.p50, 2);
      f.exploreSearchP99Ms1M = round(search.p99, 2);
      const byLanguage = new Map<string, number[]>();
      for (const s of queries.slice(0, Math.min(70, search.count))) {
        const started = performance.now();
        await works.list({ q: s.q, limit: 20 });
        byLanguage.set(s.language, [...(byLanguage.get(s.language) ?? []), performance.now() - started]);
      }
      console.log(
        `  slowest: ${search.worst.map((w) => `"${w.sample.q}" (${w.sample.language}) ${w.ms.toFixed(1)} ms`).join(", ")}; max by language: ${[...byLanguage].map(([l, t]) => `${l} ${Math.max(...t).toFixed(1)}`).join(", ")} ms`,
      );
      if (last)
        await explainCall(`Explore search "${search.slowest.q}"`, pool, (db) =>
          new WorksRepository(db, deployment.chainId).list({ q: search.slowest.q, limit: 20 }),
        );

      // A holder's licenses: half the holders as often as they hold licenses (the busy ones), half uniformly.
      const { rows: weighted } = await pool.query<{ holder: string }>(
        `SELECT holder FROM licenses WHERE token_id = ANY($1::numeric[])`,
        [Array.from({ length: SAMPLES / 2 }, () => 1 + Math.floor(random() * licenseCount))],
      );
      const { rows: uniform } = await pool.query<{ holder: string }>(
        `SELECT holder FROM (SELECT DISTINCT holder FROM licenses) h ORDER BY md5(holder || $1) LIMIT $2`,
        [`${SEED}-${run}`, SAMPLES / 2],
      );
      const holders = [...weighted, ...uniform].map((r) => r.holder);
      console.log(`a holder's licenses: ${holders.length} pages (load ${load()})…`);
      const licensesOn = (db: pg.Pool) =>
        new LicensesService(new LicensesRepository(db), new WorksRepository(db, deployment.chainId), clock);
      const service = licensesOn(pool);
      const byHolder = await time(holders, (holder) => service.byHolder({ holder, limit: 20 }));
      f.licensesByHolderP50Ms = round(byHolder.p50, 2);
      f.licensesByHolderP99Ms = round(byHolder.p99, 2);
      if (last)
        await explainCall("a holder's licenses", pool, (db) =>
          licensesOn(db).byHolder({ holder: byHolder.slowest, limit: 20 }),
        );

      // Evidence of work 1, with its licenses, against the chain that registered it.
      console.log(
        `evidence of work 1 with ${work1Licenses.toLocaleString("en-US")} licenses, ${EVIDENCE_RUNS} runs (load ${load()})…`,
      );
      const bundleTimes: number[] = [];
      let bundleBytes = 0;
      for (let bundle = 0; bundle < EVIDENCE_RUNS; bundle++) {
        const { request } = await deps.requests.insert(
          {
            id: randomUUID(),
            workId: "1",
            contentHash: anchor.contentHash,
            creator: anchor.creator,
            requestedBy: { kind: "address", address: anchor.creator },
            infringement: { observedAt: new Date().toISOString(), suspectSha256: anchor.contentHash },
            includeOriginal: false,
          },
          { queue: false },
        );
        const started = performance.now();
        const result = await buildEvidence(deps, request.id, { finalAttempt: true });
        bundleTimes.push(performance.now() - started);
        if (result.status !== "ready") throw new Error(`the evidence job answered ${result.status}`);
        bundleBytes = result.size!;
      }
      bundleTimes.sort((a, b) => a - b);
      f.evidenceMs100kLicenses = Math.round(percentile(bundleTimes, 0.5));
      f.evidenceBundleBytes = bundleBytes;
      const facts = await time([0, 1, 2], () => deps.facts.licenseListing("1"));
      f.evidenceLicensesQueryMs = Math.round(facts.p50);
      if (last)
        await explainCall("evidence: work 1's licenses", pool, (db) =>
          new EvidenceFactsRepository(db).licenseListing("1"),
        );
      return f;
    };
    const runs: Figures[] = [];
    for (let run = 1; run <= RUNS; run++) {
      console.log(`measurements, run ${run} of ${RUNS} (load ${load()})…`);
      runs.push(await measure(run, run === RUNS));
    }
    Object.assign(
      figures,
      combineRuns(runs, [
        "verifyP99Ms1M",
        "exploreSearchP99Ms1M",
        "licensesByHolderP99Ms",
        "evidenceMs100kLicenses",
      ]),
    );
    figures.runs = RUNS;

    const disk = await diskBytes(pool);
    figures.dbBytesPerEvent = Math.round(disk.indexer / figures.events);
    figures.dbBytesIndexer = disk.indexer;
    figures.dbBytes = disk.database;
    figures.dataLoadAverage = Number(load());
    return figures;
  } finally {
    await pool.end();
    if (KEEP || REUSE) console.log(`kept the database ${name} (--database ${name} measures it again)`);
    else await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
    redis.disconnect();
    provider.destroy();
    await tsa.close();
    await rm(scratch, { recursive: true, force: true });
    await chain.stop();
  }
}

// --- backfill: the indexer in its own process, cold ---

/** Peak resident memory of a process, from /proc, in MiB. */
async function peakRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

async function backfill(rpcUrl: string, deployment: Deployment, head: number, profile: boolean) {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  const name = `bench_scale_backfill_${randomBytes(4).toString("hex")}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const pool = new pg.Pool({ connectionString: databaseUrl(name), max: 2 });
  pool.on("error", () => undefined);
  const deployments = await mkdtemp(path.join(tmpdir(), "rl-bench-scale-deployments-"));
  await writeDeployment(deployment, deployments);
  const profileDir = profile ? await mkdtemp(path.join(tmpdir(), "rl-bench-scale-profile-")) : null;
  const profiling = profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [];
  const child = spawn(process.execPath, [...profiling, "--import", "tsx", "indexer/main.ts"], {
    stdio: ["ignore", "ignore", "inherit"],
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: databaseUrl(name),
      REDIS_URL,
      REDIS_PREFIX: `bench-scale-${randomBytes(4).toString("hex")}`,
      CHAIN_RPC_URL: rpcUrl,
      DEPLOYMENTS_DIR: deployments,
      INDEXER_FINALITY: "depth",
      INDEXER_METRICS_PORT: "0",
      LOG_LEVEL: "warn",
    },
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  try {
    // Progress polls read the checkpoint only: counting chain_events every poll would scan a table
    // that grows to the chain's size, loading PostgreSQL more and more as the backfill runs.
    const checkpointBlock = async () => {
      const { rows } = await pool
        .query<{ block: string | null }>(`SELECT (SELECT block_number FROM indexer_state)::text AS block`)
        .catch(() => ({ rows: [] as { block: string | null }[] }));
      const block = rows[0]?.block ?? null;
      return block === null ? null : Number(block);
    };
    const eventCount = async () =>
      Number((await pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM chain_events`)).rows[0]!.n);
    let first: { at: number; events: number } | null = null;
    let rss = 0;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the indexer exited with ${child.exitCode}`);
      const block = await checkpointBlock();
      rss = Math.max(rss, await peakRssMb(child.pid!));
      if (block !== null && !first) first = { at: performance.now(), events: await eventCount() };
      if (block !== null && block >= head) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const seconds = (performance.now() - first!.at) / 1000;
    const events = await eventCount();
    return { events, perSec: (events - first!.events) / seconds, rssMb: rss };
  } finally {
    child.kill("SIGTERM");
    await exited;
    await pool.end();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
    await rm(deployments, { recursive: true, force: true });
    if (profileDir) {
      const summary = await summarizeProfiles(profileDir, { topN: 20 });
      console.log(profileLines("  the indexer during the backfill", summary).join("\n"));
      await rm(profileDir, { recursive: true, force: true });
    }
  }
}

async function backfillPart(): Promise<Figures> {
  console.log(
    `generating a chain with ≥ ${BACKFILL_EVENTS.toLocaleString("en-US")} events (load ${load()})…`,
  );
  const chain = await startChainWorker(BACKFILL_EVENTS);
  try {
    const { ready } = chain;
    console.log(`generated ${ready.blocks} blocks in ${ready.generateSeconds.toFixed(0)} s`);
    const deployment = deploymentSchema.parse(ready.deployment);
    const runs: Figures[] = [];
    for (let run = 1; run <= BACKFILL_RUNS; run++) {
      console.log(
        `cold backfill ${run} of ${BACKFILL_RUNS}, the indexer in its own process (load ${load()})…`,
      );
      const withTimes = await backfill(ready.url, deployment, ready.blocks, PROFILE && run === 1);
      console.log(
        `  ${withTimes.events.toLocaleString("en-US")} events, ${Math.round(withTimes.perSec)} /s, peak RSS ${withTimes.rssMb.toFixed(0)} MiB`,
      );
      console.log(`  through an RPC whose logs carry no block time (load ${load()})…`);
      const withoutTimes = await backfill(
        `${ready.url}/no-log-times`,
        deployment,
        ready.blocks,
        PROFILE && run === 1,
      );
      console.log(
        `  ${withoutTimes.events.toLocaleString("en-US")} events, ${Math.round(withoutTimes.perSec)} /s, peak RSS ${withoutTimes.rssMb.toFixed(0)} MiB`,
      );
      runs.push({
        backfillEvents: withTimes.events,
        backfillEventsPerSec500k: Math.round(withTimes.perSec),
        indexerRssMb500k: Math.round(withTimes.rssMb),
        backfillEventsPerSecNoLogTimes: Math.round(withoutTimes.perSec),
        indexerRssMbNoLogTimes: Math.round(withoutTimes.rssMb),
      });
    }
    return {
      ...combineRuns(runs, [
        "backfillEventsPerSec500k",
        "indexerRssMb500k",
        "backfillEventsPerSecNoLogTimes",
      ]),
      backfillBlocks: ready.blocks,
      backfillRuns: BACKFILL_RUNS,
      backfillLoadAverage: Number(load()),
    };
  } finally {
    await chain.stop();
  }
}

const resultsFile = path.join("bench", "results", "scale.json");
const previous = JSON.parse(await readFile(resultsFile, "utf8").catch(() => "{}")) as Figures;
const figures: Figures = {};
if (PARTS.includes("data")) Object.assign(figures, await dataPart());
if (PARTS.includes("backfill")) Object.assign(figures, await backfillPart());
if (plans.length) await writeFile(path.join("bench", "results", "scale-plans.txt"), plans.join("\n"));
await report(
  "scale",
  { ...previous, ...figures },
  {
    events: "chain_events rows, COPY into the migrations' schema",
    verifyP99Ms1M: "uncached verify path; target <= 20",
    exploreSearchP99Ms1M: "title/description search, first page; target <= 50",
    licensesByHolderP99Ms: "target <= 20",
    evidenceMs100kLicenses: "median; target <= 2,000",
    backfillEventsPerSec500k: "indexer process, cold; target >= 15,000",
    indexerRssMb500k: "peak; target <= 512",
    backfillEventsPerSecNoLogTimes: "block times from headers; target >= 5,000",
    dbBytesPerEvent: "the indexer's tables and indexes",
  },
);
process.exit(0);
