/**
 * The reference a benchmark's API figures are divided by: a bare `node:http` server, in as many
 * processes as the API (node:cluster, sharing one port as `npm run api` does), answering every
 * request with one fixed response — the status, headers and body an API answer had — so both send
 * the same bytes. Reads `{ processes, status, headers, body }` as JSON from the file BARE_SERVER_PLAN names (a
 * body may be larger than an environment variable may hold) and
 * prints `{ "port": … }` once every process listens; bench/lib/bare-reference.ts starts it.
 */
import cluster from "node:cluster";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";

export interface BarePlan {
  processes: number;
  status: number;
  /** Headers as the API sent them, except those node:http writes itself. */
  headers: Record<string, string>;
  /** The body's bytes, base64. */
  body: string;
}

const plan = JSON.parse(readFileSync(process.env.BARE_SERVER_PLAN!, "utf8")) as BarePlan;

if (cluster.isPrimary) {
  // Port 0 in every process would give each its own port: take one first, then share it.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  let listening = 0;
  for (let i = 0; i < plan.processes; i++) {
    const worker = cluster.fork({ BARE_SERVER_PORT: String(port) });
    worker.on("listening", () => {
      if (++listening === plan.processes) process.stdout.write(`${JSON.stringify({ port })}\n`);
    });
  }
  process.on("SIGTERM", () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill("SIGTERM");
    process.exit(0);
  });
} else {
  const body = Buffer.from(plan.body, "base64");
  const headers = { ...plan.headers, "content-length": String(body.length) };
  createServer((_req, res) => {
    res.writeHead(plan.status, headers);
    res.end(body);
  }).listen(Number(process.env.BARE_SERVER_PORT), "127.0.0.1");
}
