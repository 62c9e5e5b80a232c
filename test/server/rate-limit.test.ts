import { expect } from "chai";
import { SharedWindowCounter } from "../../server/http/rate-limit.ts";
import { createTestRedis, type TestRedis } from "../helpers/redis.ts";

describe("rate limit: shared window counter", function () {
  let cache: TestRedis;
  const counters: SharedWindowCounter[] = [];
  // Timers never fire in these tests: every sync to Redis is an explicit flush.
  const counter = (limit: number, rule: string) => {
    const c = new SharedWindowCounter({
      redis: cache.redis,
      prefix: cache.prefix,
      rule,
      limit,
      windowSeconds: 60,
      syncMs: 3_600_000,
    });
    counters.push(c);
    return c;
  };
  const now = 1_800_000_000_000;
  const window = Math.floor(now / 1000 / 60);

  before(async () => {
    cache = await createTestRedis("rate_limit_counter");
  });
  after(async () => {
    for (const c of counters) await c.close();
    await cache.cleanup();
  });

  it("counts each request of one process exactly and adds them to Redis on flush", async () => {
    const c = counter(1000, "exact");
    const counts = [];
    for (let i = 0; i < 25; i++) counts.push(await c.hit("10.0.0.1", now));
    expect(counts).to.deep.equal(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(await cache.redis.get(`${cache.prefix}:ratelimit:exact:10.0.0.1:${window}`)).to.equal(null);
    await c.flush();
    expect(await cache.redis.get(`${cache.prefix}:ratelimit:exact:10.0.0.1:${window}`)).to.equal("25");
    expect(await cache.redis.ttl(`${cache.prefix}:ratelimit:exact:10.0.0.1:${window}`)).to.be.within(1, 61);
  });

  it("counts in Redis before answering once a key nears its limit", async () => {
    const c = counter(10, "near");
    for (let i = 0; i < 8; i++) await c.hit("10.0.0.2", now);
    expect(await cache.redis.get(`${cache.prefix}:ratelimit:near:10.0.0.2:${window}`)).to.equal(null);
    expect(await c.hit("10.0.0.2", now)).to.equal(9);
    expect(await cache.redis.get(`${cache.prefix}:ratelimit:near:10.0.0.2:${window}`)).to.equal("9");
  });

  it("lets at least the limit and at most one sync period more through across processes", async () => {
    const limit = 50;
    const a = counter(limit, "shared");
    const b = counter(limit, "shared");
    let allowed = 0;
    for (let i = 0; i < 200; i++) {
      const count = await (i % 2 === 0 ? a : b).hit("10.0.0.3", now);
      if (count <= limit) allowed += 1;
      // One sync period: ten requests, five on each process.
      if (i % 10 === 9) await Promise.all([a.flush(), b.flush()]);
    }
    await Promise.all([a.flush(), b.flush()]);
    expect(allowed).to.be.within(limit, limit + 5);
    expect(await cache.redis.get(`${cache.prefix}:ratelimit:shared:10.0.0.3:${window}`)).to.equal("200");
  });

  it("starts each window from zero", async () => {
    const c = counter(5, "windows");
    for (let i = 0; i < 7; i++) await c.hit("10.0.0.4", now);
    expect(await c.hit("10.0.0.4", now)).to.equal(8);
    expect(await c.hit("10.0.0.4", now + 60_000)).to.equal(1);
  });
});
