/**
 * Starts bench/lib/bare-server.ts, the bare `node:http` reference, answering what the API answered
 * to one request: the same status, headers and body bytes.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import type { BarePlan } from "./bare-server.ts";

// Written by node:http itself, per response.
const TRANSPORT_HEADERS = new Set([
  "date",
  "connection",
  "keep-alive",
  "content-length",
  "transfer-encoding",
]);

export interface BareServer {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** The bare server in `processes` processes answering what `GET ${apiUrl}${path}` answered (with `headers`). */
export async function startBareServer(
  apiUrl: string,
  requestPath: string,
  processes: number,
  headers: Record<string, string> = {},
): Promise<BareServer> {
  const answer = await fetch(`${apiUrl}${requestPath}`, { headers });
  const kept: Record<string, string> = {};
  answer.headers.forEach((value, name) => {
    if (!TRANSPORT_HEADERS.has(name)) kept[name] = value;
  });
  const plan: BarePlan = {
    processes,
    status: answer.status,
    headers: kept,
    body: Buffer.from(await answer.arrayBuffer()).toString("base64"),
  };
  const dir = await mkdtemp(path.join(tmpdir(), "rl-bare-server-"));
  const planFile = path.join(dir, "plan.json");
  await writeFile(planFile, JSON.stringify(plan));
  const child = spawn(process.execPath, ["--import", "tsx", "bench/lib/bare-server.ts"], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, BARE_SERVER_PLAN: planFile },
  });
  const exited = new Promise((resolve) => child.once("exit", resolve)).finally(() =>
    rm(dir, { recursive: true, force: true }),
  );
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`the bare server exited with ${code}`)));
  });
  const { port } = JSON.parse(line) as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    async stop() {
      child.kill("SIGTERM");
      await exited;
    },
  };
}
