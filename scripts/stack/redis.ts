import { spawn, execFileSync } from "node:child_process";
import { freePort, waitForPort } from "./free-port.ts";

export interface StackRedis {
  url: string;
  kind: "external" | "private";
  stop(): Promise<void>;
}

export class RedisMissingError extends Error {
  constructor() {
    super(
      "Redis is needed: set REDIS_URL, or install it (apt-get install redis-server, or brew install redis)",
    );
  }
}

function hasRedisServer(): boolean {
  try {
    execFileSync("redis-server", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** `REDIS_URL` when set; else a private, memory-only `redis-server` on a free port. */
export async function startRedis(redisUrl: string | undefined): Promise<StackRedis> {
  if (redisUrl) return { url: redisUrl, kind: "external", stop: async () => {} };
  if (!hasRedisServer()) throw new RedisMissingError();
  const port = await freePort();
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"],
    { stdio: "ignore" },
  );
  await waitForPort(port);
  return {
    url: `redis://127.0.0.1:${port}`,
    kind: "private",
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
