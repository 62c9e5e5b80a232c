/**
 * `npm run bench:delivery`: license-gated delivery under load. A test stack (Hardhat chain,
 * PostgreSQL, Redis, embedded IPFS, indexer, workers) runs in this process with two private works
 * stored sealed, 1 MiB and 1 GiB, and a license of each bought on chain; the API runs as `npm run
 * api` does, in BENCH_API_PROCESSES processes (default 2, one per core), the load generator in a
 * process of its own. Measures:
 *   downloadsPerSec  whole downloads of the 1 MiB file through one signed link, 16 connections,
 *                    BENCH_SECONDS (default 10): each checks the link and the license, opens the
 *                    original's data key and decrypts every segment
 *   linksPerSec      download links issued to the signed-in holder, 16 connections: each checks the
 *                    license and counts the download in PostgreSQL
 *   bigDownloadMBps  one download of the 1 GiB file (BENCH_BIG_MIB) through decryption, hashed by
 *                    the load generator, with the API process's resident memory growth
 *                    (bigDownloadRssGrowthMB)
 *   bareDownloadsPerSec  the reference, measured in the same run just after the downloads: a bare
 *                    node:http server in as many processes answering the same 1 MiB response
 *                    from memory to the same load (bench/lib/bare-server.ts)
 * CPU per download of the API and of the bare server are read from /proc. BENCH_PROFILE=1 runs the
 * API under `--cpu-prof` and prints where the downloads' time went.
 * Writes bench/results/delivery.json.
 */
import { mkdtemp } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { licensedPrivateWork, watchingMemory, type LicensedWork } from "../test/helpers/delivery.ts";
import { startServerProcess } from "../test/helpers/server-process.ts";
import { sessionToken, startTestStack, UNLIMITED_RATES } from "../test/helpers/stack.ts";
import { startBareServer } from "./lib/bare-reference.ts";
import { monotonicMicros, profileLines, summarizeProfiles } from "./lib/cpu-profile.ts";
import type { DownloadPlan, DownloadResult } from "./lib/download-load.ts";
import type { LoadPlan } from "./lib/load.ts";
import { cpuSecondsOfTree } from "./lib/process-cpu.ts";
import { report } from "./lib/report.ts";
import { runLoad as load } from "./lib/run-load.ts";

const MiB = 1024 * 1024;
const BIG_BYTES = Number(process.env.BENCH_BIG_MIB ?? 1024) * MiB;
const API_PROCESSES = Number(process.env.BENCH_API_PROCESSES ?? 2);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 16;
const PROFILE = process.env.BENCH_PROFILE === "1";

const stack = await startTestStack("bench_delivery", { env: UNLIMITED_RATES });
try {
  const creator = await stack.signer(5);
  const buyer = await stack.signer(6);
  console.log("storing a 1 MiB and a 1 GiB private work, sealed, and buying a license of each…");
  const small: LicensedWork = await licensedPrivateWork(stack, creator, buyer, "bench one mebibyte", MiB);
  const big: LicensedWork = await licensedPrivateWork(stack, creator, buyer, "bench one gibibyte", BIG_BYTES);
  console.log(`starting the API in ${API_PROCESSES} processes…`);
  const profileDir = PROFILE ? await mkdtemp(path.join(tmpdir(), "rl-bench-delivery-profile-")) : null;
  const api = await startServerProcess(stack, {
    part: "api",
    processes: API_PROCESSES,
    env: profileDir
      ? { ...UNLIMITED_RATES, NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir}` }
      : UNLIMITED_RATES,
  });
  let downloadWindow = { from: 0, to: 0 };
  try {
    const session = { authorization: `Bearer ${await sessionToken(buyer.address)}` };
    const linkOf = async (work: LicensedWork) => {
      const res = await fetch(`${api.url}/v1/works/${work.workId}/downloads`, {
        method: "POST",
        headers: { ...session, "content-type": "application/json" },
        body: "{}",
      });
      if (res.status !== 201) throw new Error(`the link answered ${res.status}: ${await res.text()}`);
      return ((await res.json()) as { url: string }).url;
    };
    const smallLink = await linkOf(small);
    const plan = (path: string, seconds: number, method: "GET" | "POST" = "GET"): LoadPlan => ({
      url: api.url,
      method,
      requests: [{ path, ...(method === "POST" ? { body: "{}" } : {}) }],
      connections: CONNECTIONS,
      duration: seconds,
      headers: method === "POST" ? session : {},
    });
    const downloadPlan = (url: string, path: string, seconds: number): DownloadPlan => ({
      ...plan(path, seconds),
      url,
      method: "GET",
    });
    console.log("warming up…");
    await load(downloadPlan(api.url, smallLink, 2), "download-load");
    console.log(`downloading the 1 MiB work for ${SECONDS} s on ${CONNECTIONS} connections…`);
    const measured = async (url: string, pid: number, path: string) => {
      const cpuBefore = await cpuSecondsOfTree(pid);
      const from = monotonicMicros();
      const result = await load(downloadPlan(url, path, SECONDS), "download-load");
      const window = { from, to: monotonicMicros() };
      const cpuUs = (((await cpuSecondsOfTree(pid)) - cpuBefore) * 1e6) / result.requests;
      return { result, cpuUs, window, load1: loadavg()[0]! };
    };
    const downloads = await measured(api.url, api.pid, smallLink);
    downloadWindow = downloads.window;
    console.log("the same 1 MiB answer from a bare node:http server…");
    const bareServer = await startBareServer(api.url, smallLink, API_PROCESSES);
    let bare: Awaited<ReturnType<typeof measured>>;
    try {
      await load(downloadPlan(bareServer.url, smallLink, 2), "download-load");
      bare = await measured(bareServer.url, bareServer.pid, smallLink);
    } finally {
      await bareServer.stop();
    }
    console.log(`asking for download links for ${Math.max(3, SECONDS / 2)} s on ${CONNECTIONS} connections…`);
    const links = await load(plan(`/v1/works/${small.workId}/downloads`, Math.max(3, SECONDS / 2), "POST"));
    console.log(`downloading the ${BIG_BYTES / MiB} MiB work once…`);
    const bigLink = await linkOf(big);
    const whole = await watchingMemory(api.pid, () =>
      load<DownloadResult>(
        { ...downloadPlan(api.url, bigLink, 0), connections: 1, amount: 1, sha256: true },
        "download-load",
      ),
    );
    if (whole.result.sha256 !== big.contentHash)
      throw new Error("the large download does not hash to the work's SHA-256");

    await report("delivery", {
      downloadsPerSec: Math.round(downloads.result.reqPerSec),
      downloadsP99Ms: downloads.result.p99,
      downloadsMBps: Math.round(downloads.result.bytes / 1e6 / downloads.result.seconds),
      downloadCpuUs: Math.round(downloads.cpuUs),
      bareDownloadsPerSec: Math.round(bare.result.reqPerSec),
      bareDownloadsP99Ms: bare.result.p99,
      bareDownloadCpuUs: Math.round(bare.cpuUs),
      linksPerSec: Math.round(links.reqPerSec),
      linksP99Ms: links.p99,
      bigDownloadMBps: Math.round(whole.result.bytes / 1e6 / whole.result.seconds),
      bigDownloadRssGrowthMB: Number((whole.rssGrowth / 1e6).toFixed(1)),
      apiProcesses: API_PROCESSES,
      loadAverage: Number(loadavg()[0]!.toFixed(2)),
      loadAverageDuringDownloads: Number(downloads.load1.toFixed(2)),
    });
  } catch (err) {
    console.error(`the API's last words:\n${api.lines.slice(-20).join("\n")}\n${api.stderr().slice(-4000)}`);
    throw err;
  } finally {
    await api.stop();
  }
  if (profileDir) {
    const profile = await summarizeProfiles(profileDir, {
      matchers: {
        linkAndLicenseCheck: (f) => f.functionName === "open",
        decryption: (f) => f.functionName === "openSegment",
        storeRead: (f) => f.functionName === "#stored",
        express: (f) => f.url.includes("node_modules/express/") || f.url.includes("node_modules/router/"),
      },
      topN: 25,
      skipPids: [api.pid],
      windows: [downloadWindow],
    });
    console.log(profileLines("API processes during the 1 MiB downloads", profile).join("\n"));
    console.log(`profiles kept in ${profileDir}`);
  }
} finally {
  await stack.stop();
}
