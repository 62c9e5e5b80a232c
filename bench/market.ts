/**
 * `npm run bench:market`: the Market page's first page with 100,000 open listings. A test stack
 * (Hardhat chain, PostgreSQL, Redis, indexer) runs in this process; BENCH_LISTINGS (default 100,000)
 * open listings of 1,000 item types by 10,000 sellers, beside as many ended ones (completed or
 * cancelled), are written with COPY into the indexer's tables that the migrations created
 * (bench/lib/market-data.ts). The API runs as `npm run api` does, in BENCH_API_PROCESSES processes
 * (default 2, one per core), the load generator in a process of its own.
 *
 * The web app's Market page asks GET /v1/market/listings with the player's filters and sort, 24
 * listings a page. Every item's metadata is first read through the API as a first search reads it;
 * then the benchmark asks, on 16 connections for BENCH_SECONDS (default 10), first pages with the
 * filters a player sets there, one shape after another (each with its own words, items, prices and
 * sellers): an item name in one currency cheapest first, one item type by name ending soonest, a
 * price range in the stablecoin dearest first, an item id cheapest first, and one seller's newest.
 * Measures:
 *   firstPageP99Ms   p99 of those first pages together (target ≤ 100), with p50 and pages a second
 *   bareP99Ms        the same load on a bare node:http server answering one such page from memory
 *                    in as many processes (bench/lib/bare-reference.ts), with pagesVsBareRatio: what
 *                    the shared machine allowed during the run
 *   oneConnection…   p50 and p99 of the same pages asked one at a time: a page's own time
 *   <shape>P99Ms     p99 of each shape alone, BENCH_SECONDS / 2 each
 *   plans            EXPLAIN (ANALYZE, BUFFERS) of the listings query of each shape, run through the
 *                    market's own service on the same database
 * BENCH_PROFILE=1 runs the API under `--cpu-prof` and prints where the first pages' time went.
 * Writes bench/results/market.json.
 */
import { mkdtemp } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { marketQuery } from "../lib/api/market.ts";
import { ChainClock } from "../server/chain/chain-clock.ts";
import { MarketStore } from "../server/market/market-store.ts";
import { MarketService } from "../server/market/market.ts";
import { MetadataStore } from "../server/market/metadata-store.ts";
import { WorksRepository } from "../server/repositories/works.ts";
import { isWithheld } from "../server/services/uploads.ts";
import { startServerProcess } from "../test/helpers/server-process.ts";
import { startTestStack, UNLIMITED_RATES } from "../test/helpers/stack.ts";
import { explain, planLines, recording, type PlanSummary } from "./lib/explain.ts";
import { startBareServer } from "./lib/bare-reference.ts";
import { monotonicMicros, profileLines, summarizeProfiles } from "./lib/cpu-profile.ts";
import type { LoadPlan, LoadResult } from "./lib/load.ts";
import { copyMarketData, ITEM_TYPES, KINDS, MATERIALS } from "./lib/market-data.ts";
import { sampler } from "./lib/random.ts";
import { report } from "./lib/report.ts";
import { runLoad } from "./lib/run-load.ts";

const LISTINGS = Number(process.env.BENCH_LISTINGS ?? 100_000);
const SELLERS = 10_000;
const API_PROCESSES = Number(process.env.BENCH_API_PROCESSES ?? 2);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 16;
const PROFILE = process.env.BENCH_PROFILE === "1";
/** Listings on a page of the Market, as the web app asks for them. */
const PAGE = 24;
/** Variations of each shape the load cycles through. */
const VARIATIONS = 50;
const NATIVE = "0x0000000000000000000000000000000000000000";
const ETH = 10n ** 18n;

const stack = await startTestStack("bench_market", { env: UNLIMITED_RATES });
try {
  const token = stack.deployment.settlementToken.toLowerCase();
  const tokenUnit = 10n ** 6n;
  const head = await stack.provider.getBlock("latest");
  const client = await stack.db.pool.connect();
  console.log(`writing ${LISTINGS.toLocaleString("en-US")} open and as many ended listings with COPY…`);
  const started = performance.now();
  const data = await copyMarketData(client, {
    seed: 1,
    itemToken: stack.deployment.contracts.GameItems.address.toLowerCase(),
    currencies: [
      { address: NATIVE, maxPrice: ETH },
      { address: token, maxPrice: 500n * tokenUnit },
    ],
    openListings: LISTINGS,
    endedListings: LISTINGS,
    sellers: SELLERS,
    now: head!.timestamp,
    block: head!.number,
  }).finally(() => client.release());
  console.log(
    `  ${Object.entries(data.rows)
      .map(([table, n]) => `${table} ${n.toLocaleString("en-US")}`)
      .join(", ")} in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );

  const random = sampler(2);
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  const SHAPES: Record<string, () => string> = {
    nameCurrency: () => `q=${pick(KINDS)}&currency=${NATIVE}&sort=price_asc`,
    itemNameEnding: () => `q=${encodeURIComponent(`${pick(MATERIALS)} ${pick(KINDS)}`)}&sort=ending`,
    priceRange: () => {
      const min = BigInt(Math.floor(random() * 400)) * tokenUnit;
      return `currency=${token}&minPrice=${min}&maxPrice=${min + 50n * tokenUnit}&sort=price_desc`;
    },
    itemId: () => `itemId=${1 + Math.floor(random() * ITEM_TYPES)}&sort=price_asc`,
    seller: () => `seller=${data.sellers[Math.floor(random() * 200)]}&sort=newest`,
  };
  const paths = Object.fromEntries(
    Object.entries(SHAPES).map(([shape, query]) => [
      shape,
      Array.from({ length: VARIATIONS }, () => `/v1/market/listings?${query()}&limit=${PAGE}`),
    ]),
  );
  const mixed = Array.from({ length: VARIATIONS }, (_, i) => Object.values(paths).map((p) => p[i]!)).flat();

  console.log(`starting the API in ${API_PROCESSES} processes…`);
  const profileDir = PROFILE ? await mkdtemp(path.join(tmpdir(), "rl-bench-market-profile-")) : null;
  const api = await startServerProcess(stack, {
    part: "api",
    processes: API_PROCESSES,
    env: profileDir
      ? { ...UNLIMITED_RATES, NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir}` }
      : UNLIMITED_RATES,
  });
  let pagesWindow = { from: 0, to: 0 };
  try {
    // A search reads the metadata of a few hundred item types never read before, as players' first searches do.
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`${api.url}/v1/market/listings?q=sword&limit=${PAGE}`);
      if (res.status !== 200) throw new Error(`the market answered ${res.status}: ${await res.text()}`);
      const { rows } = await stack.db.pool.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM item_metadata",
      );
      if (rows[0]!.n >= ITEM_TYPES) break;
    }
    const plan = (requests: string[], seconds: number): LoadPlan => ({
      url: api.url,
      method: "GET",
      requests: requests.map((path) => ({ path })),
      connections: CONNECTIONS,
      duration: seconds,
    });
    console.log("warming up…");
    await runLoad(plan(mixed, 2));
    console.log(
      `asking for first pages of ${Object.keys(SHAPES).length} shapes for ${SECONDS} s on ${CONNECTIONS} connections…`,
    );
    const from = monotonicMicros();
    const all = await runLoad(plan(mixed, SECONDS));
    pagesWindow = { from, to: monotonicMicros() };
    // The same load on a bare node:http server answering one of those pages from memory, in as many
    // processes: what the machine allows at that moment, since other work shares its two cores.
    const bareServer = await startBareServer(api.url, mixed[0]!, API_PROCESSES);
    let bare: LoadResult;
    try {
      await runLoad({ ...plan(mixed, 2), url: bareServer.url });
      bare = await runLoad({ ...plan(mixed, SECONDS), url: bareServer.url });
    } finally {
      await bareServer.stop();
    }
    console.log(`  bare node:http: p99 ${bare.p99} ms, ${Math.round(bare.reqPerSec)} answers/s`);
    const alone = await runLoad({ ...plan(mixed, Math.max(2, SECONDS / 2)), connections: 1 });
    console.log(`  one connection: p50 ${alone.p50} ms, p99 ${alone.p99} ms`);
    const byShape: Record<string, number> = {};
    for (const [shape, list] of Object.entries(paths)) {
      const result = await runLoad(plan(list, Math.max(2, SECONDS / 2)));
      byShape[`${shape}P99Ms`] = result.p99;
      console.log(`  ${shape}: p99 ${result.p99} ms, ${Math.round(result.reqPerSec)} pages/s`);
    }

    // The listings query of each shape's first variation, as the market's service sends it.
    const { db, statements } = recording(stack.db.pool);
    const works = new WorksRepository(db, stack.chainId);
    const service = new MarketService({
      provider: stack.provider,
      deployment: stack.deployment,
      market: new MarketStore(db, stack.deployment.contracts.GameItems.address.toLowerCase()),
      metadata: new MetadataStore(db),
      sources: { ipfs: stack.ipfs, isPrivate: (cid) => isWithheld(db, cid) },
      clock: new ChainClock(stack.provider),
      heads: () => works.heads(),
    });
    const plans: Record<string, PlanSummary & { query: string }> = {};
    for (const [shape, list] of Object.entries(paths)) {
      const query = list[0]!.split("?")[1]!;
      statements.length = 0;
      await service.listings(marketQuery.parse(Object.fromEntries(new URLSearchParams(query))));
      const listings = statements.find((s) => /FROM listings l WHERE/.test(s.text));
      if (!listings) throw new Error(`the ${shape} page ran no listings query`);
      const summary = await explain(stack.db.pool, listings.text, listings.values);
      plans[shape] = { query, ...summary };
      console.log(planLines(`${shape} (${decodeURIComponent(query)})`, summary).join("\n"));
    }

    await report(
      "market",
      {
        firstPageP99Ms: all.p99,
        firstPageP50Ms: all.p50,
        pagesPerSec: Math.round(all.reqPerSec),
        bareP99Ms: bare.p99,
        pagesVsBareRatio: Number((all.reqPerSec / bare.reqPerSec).toFixed(2)),
        oneConnectionP50Ms: alone.p50,
        oneConnectionP99Ms: alone.p99,
        ...byShape,
        slowestQueryMs: Number(Math.max(...Object.values(plans).map((p) => p.executionMs)).toFixed(2)),
        openListings: LISTINGS,
        endedListings: LISTINGS,
        itemTypes: ITEM_TYPES,
        sellers: SELLERS,
        connections: CONNECTIONS,
        apiProcesses: API_PROCESSES,
        loadAverage: Number(loadavg()[0]!.toFixed(2)),
      },
      { firstPageP99Ms: "target ≤ 100" },
      { plans },
    );
  } finally {
    await api.stop();
  }
  if (profileDir) {
    const profile = await summarizeProfiles(profileDir, {
      matchers: {
        listings: (f) => f.functionName === "listings",
        sql: (f) => f.url.includes("node_modules/pg/") || f.url.includes("node_modules/pg-protocol/"),
        express: (f) => f.url.includes("node_modules/express/") || f.url.includes("node_modules/router/"),
        zod: (f) => f.url.includes("node_modules/zod/"),
        json: (f) => f.functionName === "stringify",
      },
      topN: 25,
      skipPids: [api.pid],
      windows: [pagesWindow],
    });
    console.log(profileLines("API processes during the first pages", profile).join("\n"));
    console.log(`profiles kept in ${profileDir}`);
  }
} finally {
  await stack.stop();
}
