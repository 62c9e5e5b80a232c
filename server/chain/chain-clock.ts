import type { Provider } from "ethers";

/**
 * The time licenses are judged by: the chain's, never behind the latest block's timestamp (so a
 * chain whose clock was moved forward expires licenses as its contracts do), else the wall clock.
 */
export class ChainClock {
  #latest = 0;
  #observedAt = 0;
  #refreshing: Promise<void> | null = null;

  constructor(
    private readonly provider: Provider,
    private readonly refreshMs = 1000,
  ) {}

  /**
   * Unix seconds. A reading less than twice `refreshMs` old still answers while the next one is
   * fetched, so a busy node never holds up every caller at once; an older or invalidated one waits.
   */
  async nowSeconds(): Promise<number> {
    const age = Date.now() - this.#observedAt;
    if (age > this.refreshMs) {
      this.#refreshing ??= this.#refresh().finally(() => {
        this.#refreshing = null;
      });
      if (this.#observedAt === 0 || age > 2 * this.refreshMs) await this.#refreshing;
    }
    const wall = Date.now();
    return Math.max(Math.floor(wall / 1000), this.#latest + Math.floor((wall - this.#observedAt) / 1000));
  }

  /** Forgets the last reading, e.g. when a new block arrived. */
  invalidate(): void {
    this.#observedAt = 0;
  }

  async #refresh(): Promise<void> {
    try {
      const block = await this.provider.getBlock("latest");
      if (block) this.#latest = block.timestamp;
    } catch {
      // Unreachable node: the wall clock alone until it answers again.
    }
    this.#observedAt = Date.now();
  }
}
