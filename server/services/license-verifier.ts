import type { ChainHeads } from "../../lib/finality.ts";
import { finalityOf, NO_HEADS, type Finality } from "../../lib/finality.ts";
import type { ChainChange } from "../../lib/chain-changes.ts";
import type { ChainClock } from "../chain/chain-clock.ts";
import type { ChangeFeed } from "../chain/change-feed.ts";
import type { LicensesRepository, LicenseState, ValidLicense } from "../repositories/licenses.ts";
import type { WorksRepository } from "../repositories/works.ts";
import type { LicenseCheck } from "../../lib/api/licenses.ts";

interface Entry {
  license: ValidLicense | null;
  /** Chain time (ms) after which the entry must not be served. */
  until: number;
}

interface TokenEntry {
  state: LicenseState | null;
  /** Wall-clock time (ms) after which the entry must not be served. */
  until: number;
}

const MAX_ENTRIES = 100_000;

/**
 * Answers "does this wallet hold a valid license to this work?" — the hot path integrators call on
 * every content access. Answers come from PostgreSQL and are cached in memory until the indexer
 * announces a change to the work, the holder or the token, until the license would expire, or for
 * `ttlMs` at most. Nothing is cached while the change feed is down, and an answer read while a
 * change arrived is not cached, so a revocation is reflected as soon as its notification lands;
 * `ttlMs` bounds staleness only if a notification is lost.
 */
export class LicenseVerifier {
  readonly #entries = new Map<string, Entry>();
  readonly #byWork = new Map<string, Set<string>>();
  readonly #byHolder = new Map<string, Set<string>>();
  // Revocations and renewals name only the token, so positive answers are also found by token.
  readonly #byToken = new Map<string, Set<string>>();
  // Licenses by token id, for requests that name the license they were granted under.
  readonly #tokens = new Map<string, TokenEntry>();
  #heads: ChainHeads = NO_HEADS;
  // Bumped by every change and reset: an answer read before a change must not be cached after it.
  #generation = 0;
  #headsAt = 0;

  constructor(
    private readonly licenses: LicensesRepository,
    private readonly works: WorksRepository,
    private readonly feed: ChangeFeed,
    private readonly clock: ChainClock,
    private readonly ttlMs = 10_000,
  ) {
    feed.on("change", (change) => this.#onChange(change));
    feed.on("reset", () => this.clear());
  }

  async verify(workId: string, holder: string): Promise<LicenseCheck> {
    const now = (await this.clock.nowSeconds()) * 1000;
    const key = `${workId}:${holder}`;
    let entry = this.#entries.get(key);
    if (!entry || entry.until <= now || !this.feed.live) {
      const generation = this.#generation;
      const license = await this.licenses.bestValid(workId, holder, now / 1000);
      const expiresMs = license && license.expiresAt !== 0 ? license.expiresAt * 1000 : Infinity;
      entry = { license, until: Math.min(now + this.ttlMs, expiresMs) };
      if (this.feed.live && generation === this.#generation) this.#remember(key, workId, holder, entry);
    }
    const heads = await this.#currentHeads(Date.now());
    const license = entry.license;
    if (!license) return { valid: false, tokenId: null, validUntil: null, perpetual: false, finality: null };
    return {
      valid: true,
      tokenId: license.tokenId,
      validUntil: license.expiresAt === 0 ? null : new Date(license.expiresAt * 1000).toISOString(),
      perpetual: license.expiresAt === 0,
      finality: finalityOf(license.updatedBlock, heads),
    };
  }

  /**
   * License `tokenId` as the indexer last wrote it (null when it holds none), with its finality
   * now; cached as `verify`'s answers are, and dropped when a change names the token.
   */
  async license(tokenId: string): Promise<{ state: LicenseState; finality: Finality } | null> {
    const now = Date.now();
    let entry = this.#tokens.get(tokenId);
    if (!entry || entry.until <= now || !this.feed.live) {
      const generation = this.#generation;
      entry = { state: await this.licenses.state(tokenId), until: now + this.ttlMs };
      if (this.feed.live && generation === this.#generation) {
        if (this.#tokens.size >= MAX_ENTRIES) this.#tokens.clear();
        this.#tokens.set(tokenId, entry);
      }
    }
    if (!entry.state) return null;
    const heads = await this.#currentHeads(Date.now());
    return { state: entry.state, finality: finalityOf(entry.state.updatedBlock, heads) };
  }

  clear(): void {
    this.#generation += 1;
    this.#tokens.clear();
    this.#entries.clear();
    this.#byWork.clear();
    this.#byHolder.clear();
    this.#byToken.clear();
    this.#headsAt = 0;
  }

  get size(): number {
    return this.#entries.size;
  }

  async #currentHeads(now: number): Promise<ChainHeads> {
    if (!this.feed.live || now - this.#headsAt > 1000) {
      this.#heads = await this.works.heads();
      this.#headsAt = now;
    }
    return this.#heads;
  }

  #remember(key: string, workId: string, holder: string, entry: Entry): void {
    if (this.#entries.size >= MAX_ENTRIES) this.clear();
    this.#entries.set(key, entry);
    let forWork = this.#byWork.get(workId);
    if (!forWork) this.#byWork.set(workId, (forWork = new Set()));
    forWork.add(key);
    let forHolder = this.#byHolder.get(holder);
    if (!forHolder) this.#byHolder.set(holder, (forHolder = new Set()));
    forHolder.add(key);
    if (entry.license) {
      let forToken = this.#byToken.get(entry.license.tokenId);
      if (!forToken) this.#byToken.set(entry.license.tokenId, (forToken = new Set()));
      forToken.add(key);
    }
  }

  #drop(index: Map<string, Set<string>>, id: string): void {
    for (const key of index.get(id) ?? []) this.#entries.delete(key);
    index.delete(id);
  }

  #onChange(change: ChainChange): void {
    this.#generation += 1;
    this.#heads = change.heads;
    this.#headsAt = Date.now();
    this.clock.invalidate();
    if (change.kind === "heads") return;
    if (change.truncated) return this.clear();
    for (const workId of change.keys.workIds) this.#drop(this.#byWork, workId);
    for (const account of change.keys.accounts) this.#drop(this.#byHolder, account);
    for (const tokenId of change.keys.tokenIds) {
      this.#drop(this.#byToken, tokenId);
      this.#tokens.delete(tokenId);
    }
  }
}
