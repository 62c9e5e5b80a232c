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
 *   bigDownloadMBps  one download of the 1 GiB file through decryption, with the API process's
 *                    resident memory growth (bigDownloadRssGrowthMB)
 * Writes bench/results/delivery.json.
 */
import { spawn } from "node:child_process";
import { loadavg } from "node:os";
import { downloadWatchingMemory, licensedPrivateWork, type LicensedWork } from "../test/helpers/delivery.ts";
import { startServerProcess } from "../test/helpers/server-process.ts";
import { sessionToken, startTestStack, UNLIMITED_RATES } from "../test/helpers/stack.ts";
import type { LoadPlan, LoadResult } from "./lib/load.ts";
import { report } from "./lib/report.ts";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const API_PROCESSES = Number(process.env.BENCH_API_PROCESSES ?? 2);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 16;

/** Runs bench/lib/load.ts in a child process with `plan`; any answer but 2xx fails the benchmark. */
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

const stack = await startTestStack("bench_delivery", { env: UNLIMITED_RATES });
try {
  const creator = await stack.signer(5);
  const buyer = await stack.signer(6);
  console.log("storing a 1 MiB and a 1 GiB private work, sealed, and buying a license of each…");
  const small: LicensedWork = await licensedPrivateWork(stack, creator, buyer, "bench one mebibyte", MiB);
  const big: LicensedWork = await licensedPrivateWork(stack, creator, buyer, "bench one gibibyte", GiB);
  console.log(`starting the API in ${API_PROCESSES} processes…`);
  const api = await startServerProcess(stack, {
    part: "api",
    processes: API_PROCESSES,
    env: UNLIMITED_RATES,
  });
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
    console.log("warming up…");
    await load(plan(smallLink, 2));
    console.log(`downloading the 1 MiB work for ${SECONDS} s on ${CONNECTIONS} connections…`);
    const downloads = await load(plan(smallLink, SECONDS));
    console.log(`asking for download links for ${Math.max(3, SECONDS / 2)} s on ${CONNECTIONS} connections…`);
    const links = await load(plan(`/v1/works/${small.workId}/downloads`, Math.max(3, SECONDS / 2), "POST"));
    console.log("downloading the 1 GiB work once…");
    const bigLink = await linkOf(big);
    const whole = await downloadWatchingMemory(`${api.url}${bigLink}`, api.pid);
    if (whole.sha256 !== big.contentHash)
      throw new Error("the 1 GiB download does not hash to the work's SHA-256");

    await report("delivery", {
      downloadsPerSec: Math.round(downloads.reqPerSec),
      downloadsP99Ms: downloads.p99,
      downloadsMBps: Math.round(downloads.bytes / 1e6 / downloads.seconds),
      linksPerSec: Math.round(links.reqPerSec),
      linksP99Ms: links.p99,
      bigDownloadMBps: Math.round(whole.bytes / 1e6 / whole.seconds),
      bigDownloadRssGrowthMB: Number((whole.rssGrowth / 1e6).toFixed(1)),
      apiProcesses: API_PROCESSES,
      loadAverage: Number(loadavg()[0]!.toFixed(2)),
    });
  } finally {
    await api.stop();
  }
} finally {
  await stack.stop();
}
