/**
 * `npm run bench:crash`: a burst of BENCH_ORDERS (200) card orders paid at once through the
 * production topology — the chain in this process, the indexer, one API and two workers each in
 * its own process — during which the API and both workers are each killed with SIGKILL once, at a
 * crash point of the order's life (the API right after committing a group of payments, one worker
 * between recording and broadcasting a mint, the other just before a capture), and started again
 * as soon as they die. Deliveries that got no 200 are retried as Stripe would, but only for
 * payments the API never recorded. Reports every order fulfilled, double mints, stuck orders, and
 * the time from the last restart to the last order fulfilled. Writes bench/results/crash.json.
 */
import type { CrashPoint } from "../server/crash-points.ts";
import { CrashTopology, type PartName } from "../test/helpers/crash-topology.ts";
import { report } from "./lib/report.ts";

const ORDERS = Number(process.env.BENCH_ORDERS ?? 200);
const KILLS: { part: PartName; point: CrashPoint; hit: number }[] = [
  { part: "api", point: "webhook:after-commit", hit: 3 },
  { part: "worker-0", point: "relayer:after-record", hit: 2 },
  { part: "worker-1", point: "capture:before", hit: 10 },
];

const topology = await CrashTopology.start("bench_crash");
let closing = false;
try {
  for (const kill of KILLS) await topology.start(kill.part, `${kill.point}@${kill.hit}`);
  console.log(`${ORDERS} checkouts…`);
  const orders = await topology.checkouts(ORDERS);

  // Each armed part is started again, clean, the moment it dies.
  let lastRestart = 0;
  const killed: PartName[] = [];
  const restarts = KILLS.map(async ({ part }) => {
    await topology.part(part).exited;
    if (closing) return;
    killed.push(part);
    console.log(`${part} killed; starting it again`);
    lastRestart = Date.now();
    await topology.start(part);
  });
  console.log(`${ORDERS} orders paid at once while the API and both workers are killed…`);
  const started = Date.now();
  await topology.deliver(orders);
  // The API is killed mid-burst: Stripe retries the deliveries that got no 200 once it is back.
  await restarts[0];
  await topology.redeliverUnrecorded(orders);
  const lastFulfilled = await topology.fulfilled(orders, 600_000);
  if (killed.length < KILLS.length) throw new Error(`only ${killed.join(", ")} reached their crash points`);
  await Promise.all(restarts);
  const outcome = await topology.outcome(orders);

  await report(
    "crash",
    {
      orders: outcome.orders,
      ordersFulfilled: outcome.fulfilled,
      doubleMints: outcome.doubleMints,
      stuckOrders: outcome.stuck.filter((s) => s.startsWith("order ")).length,
      stuckOther: outcome.stuck.filter((s) => !s.startsWith("order ")).length,
      hangingAuthorizations: outcome.hangingAuthorizations,
      extraCaptures: outcome.extraCaptures,
      kills: killed.length,
      burstMs: lastFulfilled - started,
      recoveryP100Ms: lastFulfilled - lastRestart,
    },
    {
      ordersFulfilled: "must equal orders",
      doubleMints: "must be 0",
      stuckOrders: "must be 0",
      recoveryP100Ms: "last restart → last order fulfilled; target <= 15,000",
    },
  );
  if (outcome.stuck.length > 0) console.log(`stuck:\n  ${outcome.stuck.join("\n  ")}`);
} finally {
  closing = true;
  await topology.close();
}
