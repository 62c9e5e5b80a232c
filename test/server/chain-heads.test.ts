import { expect } from "chai";
import pino from "pino";
import { chainChangesChannel, noChangedKeys, type ChainChange } from "../../lib/chain-changes.ts";
import type { ChainHeads } from "../../lib/finality.ts";
import { ChainHeadsCache } from "../../server/chain/chain-heads.ts";
import { ChangeFeed } from "../../server/chain/change-feed.ts";
import { createTestRedis, type TestRedis } from "../helpers/redis.ts";

const CHAIN_ID = 31337;

describe("chain heads cache", function () {
  let cache: TestRedis;
  let feed: ChangeFeed;
  /** What `chain_heads` holds, and how often it was read. */
  const table = { heads: { head: 10, safe: 8, finalized: 5 } as ChainHeads, reads: 0 };
  const read = async () => {
    table.reads += 1;
    return { ...table.heads };
  };

  const publish = async (change: ChainChange) => {
    const arrived = new Promise((resolve) => feed.once("change", resolve));
    await cache.redis.publish(chainChangesChannel(cache.prefix), JSON.stringify(change));
    await arrived;
  };

  before(async () => {
    cache = await createTestRedis("chain_heads");
    feed = new ChangeFeed(cache.redis, cache.prefix, pino({ level: "silent" }));
    await feed.start();
  });
  after(async () => {
    await feed.close();
    await cache.cleanup();
  });
  beforeEach(() => {
    table.heads = { head: 10, safe: 8, finalized: 5 };
    table.reads = 0;
  });

  it("reads the heads once per time-to-live while the feed is live, however many ask at once", async () => {
    const heads = new ChainHeadsCache(read, feed, CHAIN_ID, 200);
    const answers = await Promise.all(Array.from({ length: 20 }, () => heads.heads()));
    expect(answers.every((h) => h.head === 10)).to.equal(true);
    expect(table.reads).to.equal(1);
    await heads.heads();
    expect(table.reads).to.equal(1);
    table.heads = { head: 11, safe: 9, finalized: 6 };
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect((await heads.heads()).head).to.equal(11);
    expect(table.reads).to.equal(2);
  });

  it("takes the heads a notification carries at once, a reorg's lower head included, and ignores another chain's", async () => {
    const heads = new ChainHeadsCache(read, feed, CHAIN_ID, 60_000);
    expect((await heads.heads()).head).to.equal(10);
    await publish({ kind: "heads", chainId: CHAIN_ID, heads: { head: 12, safe: 10, finalized: 7 } });
    expect(await heads.heads()).to.deep.equal({ head: 12, safe: 10, finalized: 7 });
    const rolledBack: ChainChange = {
      kind: "rolledBack",
      chainId: CHAIN_ID,
      forkBlock: 9,
      toBlock: 12,
      events: 3,
      truncated: false,
      keys: noChangedKeys(),
      heads: { head: 9, safe: 9, finalized: 7 },
    };
    await publish(rolledBack);
    expect(await heads.heads()).to.deep.equal({ head: 9, safe: 9, finalized: 7 });
    await publish({ kind: "heads", chainId: CHAIN_ID + 1, heads: { head: 99, safe: 99, finalized: 99 } });
    expect((await heads.heads()).head).to.equal(9);
    expect(table.reads).to.equal(1);
  });

  it("does not keep a read that a notification overtook", async () => {
    const heads = new ChainHeadsCache(
      async () => {
        const stale = { ...table.heads };
        await publish({ kind: "heads", chainId: CHAIN_ID, heads: { head: 13, safe: 11, finalized: 8 } });
        return stale;
      },
      feed,
      CHAIN_ID,
      60_000,
    );
    expect((await heads.heads()).head).to.equal(13);
    expect((await heads.heads()).head).to.equal(13);
  });

  it("reads on every call while the feed is not live", async () => {
    const down = new ChangeFeed(cache.redis, `${cache.prefix}:down`, pino({ level: "silent" }));
    const heads = new ChainHeadsCache(read, down, CHAIN_ID, 60_000);
    await heads.heads();
    table.heads = { head: 14, safe: 12, finalized: 9 };
    expect((await heads.heads()).head).to.equal(14);
    expect(table.reads).to.equal(2);
  });
});
