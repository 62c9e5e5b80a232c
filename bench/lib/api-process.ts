/**
 * Runs `server/main-api.ts` — the API exactly as `npm run api` starts it — in child processes against
 * a test stack's chain, database, Redis prefix and IPFS directory, so the API under load does not
 * share an event loop with the chain, the indexer or the workers.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { writeDeployment } from "../../lib/deployment.ts";
import { devWallet, type TestStack } from "../../test/helpers/stack.ts";

export interface ApiProcess {
  url: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
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

/** Starts `workers` API processes on one port, configured like the stack's in-process app. */
export async function startApiProcess(
  stack: TestStack,
  options: { workers: number; env?: Record<string, string> },
): Promise<ApiProcess> {
  const deployments = await mkdtemp(path.join(tmpdir(), "rl-bench-deployments-"));
  await writeDeployment(stack.deployment, deployments);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ["--import", "tsx", "server/main-api.ts"], {
    stdio: ["ignore", "inherit", "inherit"],
    env: {
      PATH: process.env.PATH,
      NODE_ENV: "test",
      LOG_LEVEL: "warn",
      HOST: "127.0.0.1",
      PORT: String(port),
      API_WORKERS: String(options.workers),
      DATABASE_URL: stack.db.url,
      REDIS_URL: "redis://127.0.0.1:6379",
      REDIS_PREFIX: stack.cache.prefix,
      CHAIN_RPC_URL: stack.rpcUrl,
      DEPLOYMENTS_DIR: deployments,
      RELAYER_PRIVATE_KEY: devWallet(1).privateKey,
      SESSION_SECRET: stack.config.auth.sessionSecret,
      IPFS_DIR: stack.config.ipfs.dir,
      SIWE_DOMAIN: stack.config.auth.siweDomain,
      NOTARIZE_MODE: stack.config.notarize.mode,
      BATCH_MAX_WORKS: String(stack.config.notarize.batchMaxWorks),
      BATCH_FLUSH_SECONDS: String(stack.config.notarize.batchFlushSeconds),
      RATE_LIMIT_PER_MINUTE: String(stack.config.http.rateLimitPerMinute),
      ...options.env,
    },
  });
  try {
    await waitUntilUp(url, child);
  } catch (err) {
    child.kill("SIGKILL");
    await rm(deployments, { recursive: true, force: true });
    throw err;
  }
  return {
    url,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
      await rm(deployments, { recursive: true, force: true });
    },
  };
}
