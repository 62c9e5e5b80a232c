/**
 * Runs the API (`server/main-api.ts`, as `npm run api` does), the workers (`server/main-worker.ts`,
 * as `npm run worker` does) or the indexer (`indexer/main.ts`, as `npm run indexer` does) in child
 * processes against a test stack's chain, database, Redis prefix and IPFS directory: the entry
 * points under test, the production topology the crash tests kill parts of, and benchmarks whose
 * part under load must not share an event loop with the chain, the indexer or the load generator.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { writeDeployment } from "../../lib/deployment.ts";
import { devWallet, type TestStack } from "./stack.ts";

export interface ServerProcess {
  /** The API's base URL (unused for workers). */
  url: string;
  /** The process id (with one API process, the one that serves). */
  pid: number;
  /** Every line the process printed so far (its JSON log). */
  lines: string[];
  /** Resolves with the first line from now on that `match` accepts. */
  nextLine(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** SIGTERM, then waits for the process to exit; resolves with its exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL, as `kill -9`; resolves once the process is gone. */
  kill(): Promise<void>;
  /** Resolves when the process exits, however it ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** What the process wrote on stderr (a crash point names itself there). */
  stderr(): string;
}

export type ServerPart = "api" | "worker" | "indexer";

const ENTRIES: Record<ServerPart, string> = {
  api: "server/main-api.ts",
  worker: "server/main-worker.ts",
  indexer: "indexer/main.ts",
};

/** The indexer's settings as the test stack's own indexer has them (the API and workers ignore them). */
const INDEXER_ENV = {
  INDEXER_FINALITY: "depth",
  INDEXER_CONFIRMATIONS: "2",
  INDEXER_SAFE_CONFIRMATIONS: "1",
  INDEXER_POLL_INTERVAL_MS: "20",
  INDEXER_METRICS_PORT: "0",
};

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Rejects when `child` exits (a process that should keep running). */
function exitOf(child: ChildProcess): Promise<never> {
  return new Promise((_, reject) => {
    child.once("exit", (code) => reject(new Error(`the process exited with ${code}`)));
  });
}

async function waitUntilUp(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the API exited with ${child.exitCode}`);
    const up = await fetch(`${url}/healthz`).then(
      (res) => res.ok,
      () => false,
    );
    if (up) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("the API did not start within 60 s");
}

/**
 * Starts the API in `processes` processes on one port, a worker process or the indexer, configured
 * like the stack (the indexer as the stack's own follows the chain).
 */
export async function startServerProcess(
  stack: TestStack,
  options: { part: ServerPart; processes?: number; env?: Record<string, string> },
): Promise<ServerProcess> {
  const deployments = await mkdtemp(path.join(tmpdir(), "rl-bench-deployments-"));
  await writeDeployment(stack.deployment, deployments);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const api = options.part === "api";
  const child = spawn(process.execPath, ["--import", "tsx", ENTRIES[options.part]], {
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      PATH: process.env.PATH,
      NODE_ENV: "test",
      LOG_LEVEL: api ? "warn" : "info",
      HOST: "127.0.0.1",
      PORT: String(port),
      API_WORKERS: String(options.processes ?? 1),
      DATABASE_URL: stack.db.url,
      REDIS_URL: "redis://127.0.0.1:6379",
      REDIS_PREFIX: stack.cache.prefix,
      CHAIN_RPC_URL: stack.rpcUrl,
      DEPLOYMENTS_DIR: deployments,
      RELAYER_PRIVATE_KEY: devWallet(1).privateKey,
      SESSION_SECRET: stack.config.auth.sessionSecret,
      IPFS_DIR: stack.config.ipfs.dir,
      UPLOAD_STAGING_DIR: stack.config.uploads.stagingDir,
      EVIDENCE_DIR: stack.config.evidence.dir,
      SIWE_DOMAIN: stack.config.auth.siweDomain,
      NOTARIZE_MODE: stack.config.notarize.mode,
      BATCH_MAX_WORKS: String(stack.config.notarize.batchMaxWorks),
      BATCH_FLUSH_SECONDS: String(stack.config.notarize.batchFlushSeconds),
      RATE_LIMIT_PER_MINUTE: String(stack.config.http.rateLimitPerMinute),
      ...INDEXER_ENV,
      ...options.env,
    },
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
    process.stderr.write(chunk);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  const lines: string[] = [];
  const watchers = new Set<(line: string) => void>();
  createInterface({ input: child.stdout! }).on("line", (line) => {
    lines.push(line);
    for (const watch of watchers) watch(line);
  });
  const nextLine = (match: (line: string) => boolean, timeoutMs = 60_000) =>
    new Promise<string>((resolve, reject) => {
      const watch = (line: string) => {
        if (!match(line)) return;
        clearTimeout(timer);
        watchers.delete(watch);
        resolve(line);
      };
      const timer = setTimeout(() => {
        watchers.delete(watch);
        reject(new Error(`no matching line within ${timeoutMs} ms`));
      }, timeoutMs);
      watchers.add(watch);
    });
  try {
    if (api) await waitUntilUp(url, child);
    else if (options.part === "worker") {
      await Promise.race([nextLine((line) => line.includes('"msg":"workers started"')), exitOf(child)]);
    } else await Promise.race([nextLine(() => true), exitOf(child)]);
  } catch (err) {
    child.kill("SIGKILL");
    await rm(deployments, { recursive: true, force: true });
    throw err;
  }
  return {
    url,
    pid: child.pid!,
    lines,
    nextLine,
    exited,
    stderr: () => stderr,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
      await rm(deployments, { recursive: true, force: true });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = exitOf(child).catch(() => undefined);
        child.kill("SIGTERM");
        await exited;
      }
      await rm(deployments, { recursive: true, force: true });
      return child.exitCode;
    },
  };
}
