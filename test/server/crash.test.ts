/**
 * Crash suite: the production topology (indexer, API and two workers, each its own process, on a
 * test chain) with one part killed by SIGKILL per run, at a crash point of an order's life chosen
 * by the run's plan (before and after each commit, broadcast and capture) or, for the indexer, at a
 * moment. After the part is started again, every order whose payment the API recorded must be
 * fulfilled and captured exactly once within 15 s — with no webhook replayed for it — and once
 * Stripe has retried the deliveries that got no 200, every order is, with nothing left stuck and
 * no authorization held, and every sale is booked once in the payout ledger and settled on chain
 * once, the ledger reconciling with the chain to the cent. CI runs every order crash point once; CRASH_RUNS runs more (cycling through
 * the points with other generated hits and targets), CRASH_SEED chooses another plan.
 */
import { expect } from "chai";
import { CRASH_POINTS, type CrashPoint } from "../../server/crash-points.ts";
import { CrashTopology, type PaidOrder, type PartName } from "../helpers/crash-topology.ts";

// The API passes the webhook's points and queues what it commits; the workers pass the rest. The
// orders here are paid by wallet with no email, so they send no mail: test/server/mail-crash.test.ts
// kills a worker at the mail's points.
const ORDER_POINTS = CRASH_POINTS.filter((p) => !p.startsWith("mail:"));
const API_POINTS = ORDER_POINTS.filter((p) => p.startsWith("webhook:") || p.startsWith("outbox:"));
const WORKER_POINTS = ORDER_POINTS.filter((p) => !API_POINTS.includes(p));
const TARGETS: { part: "api" | "worker" | "indexer"; point: CrashPoint | null }[] = [
  ...API_POINTS.map((point) => ({ part: "api" as const, point })),
  ...WORKER_POINTS.map((point) => ({ part: "worker" as const, point })),
  { part: "indexer", point: null },
];
const RUNS = Number(process.env.CRASH_RUNS ?? TARGETS.length);
const SEED = Number(process.env.CRASH_SEED ?? 23);
/** Orders paid at once per batch; a run pays batches until its part is killed (at most MAX_BATCHES). */
const BATCH = 6;
const MAX_BATCHES = 6;
const RECOVERY_BOUND_MS = 15_000;

interface CrashRun {
  part: PartName;
  /** Where the part is killed, and the how-many-th time it gets there; null: killed after `killAfterMs`. */
  point: CrashPoint | null;
  hit: number;
  killAfterMs: number;
}

/** A small seeded generator (mulberry32): the same seed gives the same plan. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function plan(seed: number, runs: number): CrashRun[] {
  const random = generator(seed);
  return Array.from({ length: runs }, (_, i) => {
    const { part, point } = TARGETS[i % TARGETS.length]!;
    return {
      part: part === "worker" ? (random() < 0.5 ? "worker-0" : "worker-1") : part,
      point,
      hit: 1 + Math.floor(random() * 2),
      killAfterMs: Math.floor(random() * 1500),
    };
  });
}

/** Settlements run in whichever worker takes the scheduled job: both workers are armed, the first to get there dies. */
const eitherWorker = (run: CrashRun): boolean => run.point?.startsWith("settlement:") ?? false;

const describeRun = (run: CrashRun) =>
  run.point
    ? `${eitherWorker(run) ? "a worker" : run.part} killed the ${run.hit === 1 ? "1st" : "2nd"} time it reaches ${run.point}`
    : `${run.part} killed ${run.killAfterMs} ms into a burst`;

describe("crash suite: parts of the production topology killed mid-order", function () {
  this.timeout(180_000);
  let topology: CrashTopology;
  const recoveries: { run: string; ms: number }[] = [];

  before(async function () {
    this.timeout(300_000);
    topology = await CrashTopology.start("crash");
  });
  after(async () => {
    await topology?.close();
    if (recoveries.length > 0) {
      console.log(`      ${recoveries.length} crash runs (seed ${SEED}); recovery after restart:`);
      for (const r of recoveries) console.log(`        ${String(r.ms).padStart(6)} ms  ${r.run}`);
    }
  });

  for (const run of plan(SEED, RUNS)) {
    it(`after ${describeRun(run)}, every paid order is fulfilled and captured once within 15 s of its restart, its sale booked and settled once`, async () => {
      const spec = run.point ? `${run.point}@${run.hit}` : undefined;
      const armed: PartName[] = eitherWorker(run) ? ["worker-0", "worker-1"] : [run.part];
      const targets = spec
        ? await Promise.all(armed.map((name) => topology.start(name, spec)))
        : [topology.part(run.part)];
      const died = Promise.race(targets.map((t, i) => t.exited.then(() => i)));
      const orders: PaidOrder[] = [];
      let killed = false;
      for (let batch = 0; batch < MAX_BATCHES && !killed; batch++) {
        const paid = await topology.checkouts(BATCH);
        orders.push(...paid);
        if (!run.point) setTimeout(() => void targets[0]!.kill(), run.killAfterMs);
        await topology.deliver(paid);
        const through = topology.fulfilled(orders, 60_000).then(() => false);
        // Once the part is killed, this batch is waited for after its restart instead.
        through.catch(() => undefined);
        killed = await Promise.race([died.then(() => true), through]);
      }
      expect(killed, `${spec} was not reached in ${MAX_BATCHES} batches`).to.equal(true);
      if (spec) expect(targets[await died]!.stderr()).to.contain(`crash point ${spec}`);

      const paid = await topology.recorded(orders);
      const restartedAt = Date.now();
      // The dead part comes back, and an armed one still running is started again unarmed.
      for (const name of armed) await topology.start(name);
      // Stripe retries what got no 200; a payment the API recorded before dying gets no help.
      const retried = topology.redeliverUnrecorded(orders);
      const recovery = Math.max(0, (await topology.fulfilled(paid, 60_000)) - restartedAt);
      recoveries.push({ run: describeRun(run), ms: recovery });
      expect(recovery).to.be.at.most(RECOVERY_BOUND_MS);
      await retried;
      await topology.fulfilled(orders, 60_000);

      const outcome = await topology.outcome(orders);
      expect(outcome).to.deep.equal({
        orders: orders.length,
        fulfilled: orders.length,
        doubleMints: 0,
        stuck: [],
        hangingAuthorizations: 0,
        extraCaptures: 0,
        unsettledSales: 0,
        ledgerDifference: 0,
      });
    });
  }
});
