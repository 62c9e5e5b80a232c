/**
 * The reference a benchmark's API figures are divided by: a bare `node:http` server, in as many
 * processes as the API (node:cluster, sharing one port as `npm run api` does), answering every
 * request with one fixed response — the status, headers and body an API answer had — so both send
 * the same bytes. Reads `{ processes, status, headers, body }` as JSON from BARE_SERVER_PLAN and
 * prints `{ "port": … }` once every process listens.
 */
import cluster from "node:cluster";
import { createServer } from "node:http";

export interface BarePlan {
  processes: number;
  status: number;
  /** Headers as the API sent them, except those node:http writes itself. */
  headers: Record<string, string>;
  body: string;
  /** Set by the primary for its processes. */
  port?: number;
}

const plan = JSON.parse(process.env.BARE_SERVER_PLAN ?? "{}") as BarePlan;

if (cluster.isPrimary) {
  // Port 0 in every process would give each its own port: take one first, then share it.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  let listening = 0;
  for (let i = 0; i < plan.processes; i++) {
    const worker = cluster.fork({ BARE_SERVER_PLAN: JSON.stringify({ ...plan, port }) });
    worker.on("listening", () => {
      if (++listening === plan.processes) process.stdout.write(`${JSON.stringify({ port })}\n`);
    });
  }
  process.on("SIGTERM", () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill("SIGTERM");
    process.exit(0);
  });
} else {
  const body = Buffer.from(plan.body);
  const headers = { ...plan.headers, "content-length": String(body.length) };
  createServer((_req, res) => {
    res.writeHead(plan.status, headers);
    res.end(body);
  }).listen(plan.port, "127.0.0.1");
}
