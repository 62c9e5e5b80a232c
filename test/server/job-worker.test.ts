import { expect } from "chai";
import { Queue, type Worker } from "bullmq";
import pino from "pino";
import { DeferredError, PermanentError } from "../../server/errors.ts";
import { closeWorkers, FETCH_GROUP, jobWorker, jobWorkers } from "../../server/jobs/job-worker.ts";
import { bullPrefix, QUEUE_NAMES } from "../../server/queues/queues.ts";
import { Recoveries, recoveryTotals } from "../../server/recoveries.ts";
import { createTestRedis, type TestRedis } from "../helpers/redis.ts";

const logger = pino({ level: "silent" });
// A queue the platform knows, on a key prefix of this file's own.
const QUEUE = QUEUE_NAMES.maintenance;

describe("job workers", function () {
  let cache: TestRedis;
  let queue: Queue;
  const workers: Worker[] = [];

  const deps = () => ({
    connection: cache.redis,
    redisPrefix: cache.prefix,
    logger,
    recoveries: new Recoveries(cache.redis, cache.prefix, logger),
  });

  function start(run: Parameters<typeof jobWorker>[3]): Worker {
    const worker = jobWorker(deps(), QUEUE, 4, run);
    workers.push(worker);
    return worker;
  }

  beforeEach(async () => {
    cache = await createTestRedis("job_worker");
    queue = new Queue(QUEUE, { connection: cache.redis, prefix: bullPrefix(cache.prefix) });
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.close(true)));
    await queue.close();
    await cache.cleanup();
  });

  it("puts a job back without spending an attempt when it defers, however often", async () => {
    let runs = 0;
    start(async () => {
      runs += 1;
      if (runs <= 3) throw new DeferredError("the relayer is resynchronizing", 10);
      return "done";
    });
    const job = await queue.add("deferred", {}, { attempts: 1 });
    const done = await waitFor(async () => {
      const current = await queue.getJob(job.id!);
      return (await current?.getState()) === "completed" ? current : null;
    });
    expect(runs).to.equal(4);
    // The one attempt allowed is the run that completed.
    expect(done!.attemptsMade).to.equal(1);
    expect(done!.returnvalue).to.equal("done");
  });

  it("fails a job at once on a permanent error, with attempts left, and retries any other error", async () => {
    let permanentRuns = 0;
    let passingRuns = 0;
    start(async (job) => {
      if (job.name === "permanent") {
        permanentRuns += 1;
        throw new PermanentError("the offer is sold out");
      }
      passingRuns += 1;
      if (passingRuns < 3) throw new Error("the node timed out");
      return "done";
    });
    const permanent = await queue.add(
      "permanent",
      {},
      { attempts: 5, backoff: { type: "fixed", delay: 10 } },
    );
    const passing = await queue.add("passing", {}, { attempts: 5, backoff: { type: "fixed", delay: 10 } });
    const failed = await waitFor(async () => {
      const current = await queue.getJob(permanent.id!);
      return (await current?.getState()) === "failed" ? current : null;
    });
    expect(permanentRuns).to.equal(1);
    expect(failed!.failedReason).to.equal("the offer is sold out");
    await waitFor(async () => ((await queue.getJobState(passing.id!)) === "completed" ? true : null));
    expect(passingRuns).to.equal(3);
  });

  it("hands a job still running after the grace period back to its queue on close, and another worker completes it", async () => {
    let started: () => void = () => undefined;
    const running = new Promise<void>((resolve) => (started = resolve));
    const stopping = start(async () => {
      started();
      return new Promise<string>(() => undefined);
    });
    const job = await queue.add("held", {}, { attempts: 1 });
    await running;
    const closedAt = Date.now();
    await closeWorkers([stopping], 200);
    expect(Date.now() - closedAt).to.be.below(5_000);
    expect(await queue.getJobState(job.id!)).to.equal("waiting");

    start(async () => "finished elsewhere");
    const done = await waitFor(async () =>
      (await queue.getJobState(job.id!)) === "completed" ? true : null,
    );
    expect(done).to.equal(true);
    const finished = await queue.getJob(job.id!);
    expect(finished!.attemptsMade).to.equal(1);
    expect((await recoveryTotals(cache.redis, cache.prefix))["handed-back-job"]).to.equal(1);
  });

  it("spreads a concurrency over workers holding FETCH_GROUP jobs at most", () => {
    const group = jobWorkers(deps(), QUEUE, 25, async () => "done");
    workers.push(...group);
    expect(FETCH_GROUP).to.equal(10);
    expect(group.map((w) => w.concurrency)).to.deep.equal([9, 8, 8]);
  });

  it("starts the jobs of a burst that arrives as fast as they are fetched, each worker once it holds FETCH_GROUP at most", async () => {
    const BURST = 150;
    let added = 0;
    const add = () => {
      added += 1;
      void queue.add("burst", {});
    };
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const fetched = new Map<string, number>();
    // Per worker, how many jobs it had fetched when it started its first one.
    const heldAtFirstStart = new Map<string, number>();
    const group = jobWorkers(deps(), QUEUE, 50, async (job) => {
      const worker = group.find((w) => job.token?.startsWith(`${w.id}:`))!;
      if (!heldAtFirstStart.has(worker.id)) heldAtFirstStart.set(worker.id, fetched.get(worker.id) ?? 0);
      await released;
      return "done";
    });
    workers.push(...group);
    for (const worker of group) {
      worker.on("active", () => {
        fetched.set(worker.id, (fetched.get(worker.id) ?? 0) + 1);
        // Every fetch brings the next job of the burst: the queue is never empty until it ends.
        if (added < BURST) add();
      });
    }
    add();
    await waitFor(async () => (heldAtFirstStart.size === group.length ? true : null));
    release();
    expect(Math.max(...heldAtFirstStart.values())).to.be.at.most(10);
    await waitFor(async () => ((await queue.getCompletedCount()) === BURST ? true : null));
  });

  it("lets a job that finishes within the grace period complete on close", async () => {
    const stopping = start(async () => {
      await new Promise((r) => setTimeout(r, 300));
      return "in time";
    });
    const job = await queue.add("short", {});
    await waitFor(async () => ((await queue.getJobState(job.id!)) === "active" ? true : null));
    await closeWorkers([stopping], 5_000);
    expect(await queue.getJobState(job.id!)).to.equal("completed");
  });
});

async function waitFor<T>(check: () => Promise<T | null>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
