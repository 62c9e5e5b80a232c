/**
 * Load generator run in its own process, so it does not share an event loop with the server it
 * measures. Reads a plan as JSON on stdin, runs autocannon, writes the summary as JSON on stdout.
 */
import autocannon from "autocannon";

export interface LoadPlan {
  url: string;
  method: "GET" | "POST";
  /** Cycled through in order; each request takes the next. */
  requests: { path: string; body?: string }[];
  connections: number;
  /** Seconds to run, or … */
  duration?: number;
  /** … the number of requests to send. */
  amount?: number;
  /** Sent with every request besides the JSON content type (a session token, say). */
  headers?: Record<string, string>;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  reqPerSec: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  /** Bytes received, bodies and headers. */
  bytes: number;
}

const chunks: Buffer[] = [];
for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
const plan = JSON.parse(Buffer.concat(chunks).toString("utf8")) as LoadPlan;
let next = 0;
const started = performance.now();
const result = await autocannon({
  url: plan.url,
  method: plan.method,
  connections: plan.connections,
  ...(plan.amount ? { amount: plan.amount } : { duration: plan.duration ?? 10 }),
  headers: { "content-type": "application/json", ...plan.headers },
  requests: [
    {
      setupRequest: (req) => {
        const r = plan.requests[next++ % plan.requests.length]!;
        return { ...req, path: r.path, ...(r.body ? { body: r.body } : {}) };
      },
    },
  ],
});
const seconds = (performance.now() - started) / 1000;
const summary: LoadResult = {
  requests: result.requests.total,
  seconds,
  reqPerSec: plan.amount ? result.requests.total / seconds : result.requests.average,
  p50: result.latency.p50,
  p99: result.latency.p99,
  non2xx: result.non2xx,
  errors: result.errors,
  bytes: result.throughput.total,
};
process.stdout.write(JSON.stringify(summary));
