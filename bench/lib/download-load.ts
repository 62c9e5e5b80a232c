/**
 * Load generator for downloads, run in its own process like bench/lib/load.ts and speaking its
 * plan and summary (GET only). autocannon decodes every response body into a string, which for
 * megabytes of binary data costs its one process more than the server spends answering (a bare
 * node:http server's 1 MiB answers measured 55 /s through it, 490 /s through this), so here each
 * connection is a keep-alive node:http socket whose bodies are counted, never decoded. With
 * `sha256` the bodies are hashed too, and the summary gives the last one's hash.
 */
import { createHash } from "node:crypto";
import { Agent, request } from "node:http";
import type { LoadPlan, LoadResult } from "./load.ts";

export interface DownloadPlan extends LoadPlan {
  method: "GET";
  sha256?: boolean;
}

/** As load.ts's summary, except that `bytes` counts bodies only. */
export interface DownloadResult extends LoadResult {
  /** `0x` and the SHA-256 of the last body, when the plan asked for it. */
  sha256?: string;
}

const chunks: Buffer[] = [];
for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
const plan = JSON.parse(Buffer.concat(chunks).toString("utf8")) as DownloadPlan;

const base = new URL(plan.url);
const agent = new Agent({ keepAlive: true, maxSockets: plan.connections });
const latencies: number[] = [];
let next = 0;
let sent = 0;
let non2xx = 0;
let errors = 0;
let bytes = 0;
let lastHash: string | undefined;

/** One GET of the plan's next path, read to its end; resolves with its status (0 on an error). */
function download(): Promise<number> {
  const path = plan.requests[next++ % plan.requests.length]!.path;
  return new Promise((resolve) => {
    const req = request(
      { host: base.hostname, port: base.port, path, agent, headers: plan.headers ?? {} },
      (res) => {
        const hash = plan.sha256 ? createHash("sha256") : null;
        res.on("data", (chunk: Buffer) => {
          bytes += chunk.length;
          hash?.update(chunk);
        });
        res.on("end", () => {
          if (hash) lastHash = `0x${hash.digest("hex")}`;
          resolve(res.statusCode ?? 0);
        });
        res.on("error", () => resolve(0));
      },
    );
    req.on("error", () => resolve(0));
    req.end();
  });
}

const started = performance.now();
const deadline = plan.amount ? Infinity : started + (plan.duration ?? 10) * 1000;
await Promise.all(
  Array.from({ length: plan.connections }, async () => {
    while (performance.now() < deadline && (!plan.amount || sent < plan.amount)) {
      sent += 1;
      const at = performance.now();
      const status = await download();
      latencies.push(performance.now() - at);
      if (status === 0) errors += 1;
      else if (status < 200 || status > 299) non2xx += 1;
    }
  }),
);
const seconds = (performance.now() - started) / 1000;
agent.destroy();
latencies.sort((a, b) => a - b);
const at = (q: number) =>
  Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0);
const summary: DownloadResult = {
  requests: latencies.length,
  seconds,
  reqPerSec: latencies.length / seconds,
  p50: at(0.5),
  p99: at(0.99),
  non2xx,
  errors,
  bytes,
  ...(lastHash ? { sha256: lastHash } : {}),
};
process.stdout.write(JSON.stringify(summary));
