/**
 * The layout of the scale benchmark's chain (see scale-data.ts): how many of each row a scale
 * holds, where each activity sits (block, log index, transaction) and what it is about — every value
 * a pure function of (seed, kind, index), so a row and the event that produced it agree without
 * either being kept in memory.
 *
 * Activities happen in epochs; within one, in the order a market needs them (works are committed,
 * revealed, given splits and offers, then licensed, transferred, traded), so every row refers only
 * to what already happened. Twelve transactions a block, each with up to eight logs.
 */
import { LANGUAGES } from "./scale-words.ts";

/** Row counts at a scale; scale 1 is 100 times the other benchmarks' data. */
export interface ScaleSizes {
  works: number;
  holders: number;
  creators: number;
  splits: number;
  offers: number;
  licenses: number;
  /** Licenses of work 1, the work whose evidence bundle is measured (every tenth license). */
  hotWorkLicenses: number;
  licenseTransfers: number;
  listings: number;
  /** Listings still open; the others were bought, confirmed and claimed. */
  openListings: number;
  items: number;
  itemBalances: number;
  itemTransfers: number;
  /** chain_events rows, every activity's logs together. */
  events: number;
}

export const EVENTS_PER = {
  commit: 1,
  reveal: 1,
  split: 1,
  offer: 1,
  item: 1,
  purchase: 4,
  licenseTransfer: 1,
  list: 2,
  buy: 1,
  confirm: 1,
  claim: 2,
  itemTransfer: 1,
} as const;

export type Kind = keyof typeof EVENTS_PER;
/** The order of activities within an epoch. */
export const KINDS = Object.keys(EVENTS_PER) as Kind[];

export function scaleSizes(scale: number): ScaleSizes {
  const n = (full: number, multipleOf = 1) =>
    Math.max(multipleOf, Math.round((full * scale) / multipleOf) * multipleOf);
  const works = n(1_000_000);
  const licenses = n(1_000_000, 10);
  const listings = n(200_000, 2);
  const events = n(10_000_000);
  const sizes = {
    works,
    holders: n(100_000),
    creators: n(50_000),
    splits: n(10_000),
    offers: n(100_000),
    licenses,
    hotWorkLicenses: licenses / 10,
    licenseTransfers: n(200_000),
    listings,
    openListings: listings / 2,
    items: n(1_000),
  };
  const withBalances = { ...sizes, itemBalances: sizes.holders };
  const counts = activityCounts({ ...withBalances, itemTransfers: 0, events });
  const others = KINDS.reduce((sum, kind) => sum + counts[kind] * EVENTS_PER[kind], 0);
  if (others > events) throw new Error(`scale ${scale} leaves no room for item transfers`);
  return { ...withBalances, itemTransfers: events - others, events };
}

export function activityCounts(s: ScaleSizes): Record<Kind, number> {
  const closed = s.listings - s.openListings;
  return {
    commit: s.works,
    reveal: s.works,
    split: s.splits,
    offer: s.offers,
    item: s.items,
    purchase: s.licenses,
    licenseTransfer: s.licenseTransfers,
    list: s.listings,
    buy: closed,
    confirm: closed,
    claim: closed,
    itemTransfer: s.itemTransfers,
  };
}

/** The first work as a real chain registered it, so that its evidence can be built against that chain. */
export interface AnchoredWork {
  contentHash: string;
  creator: string;
  cid: string;
  metadataUri: string;
  txHash: string;
  blockNumber: number;
  logIndex: number;
  blockHash: string;
  /** Unix seconds. */
  blockTime: number;
}

export interface ScaleOptions {
  scale: number;
  seed: number;
  chainId: number;
  /** Lower-case addresses of the deployment's contracts. */
  contracts: {
    WorkRegistry: string;
    LicenseToken: string;
    SplitFactory: string;
    GameItems: string;
    ItemEscrow: string;
  };
  /** Work 1 as registered on a real chain; generated blocks then follow its block. */
  anchor?: AnchoredWork;
  /** Unix seconds of the first generated block (default 2025-01-01); blocks span two years. */
  startTime?: number;
}

export const TXS_PER_BLOCK = 12;
const LOGS_PER_TX = 8;
const TWO_YEARS = 2 * 365 * 24 * 3600;
export const ZERO_ADDRESS = `0x${"0".repeat(40)}`;

// --- pure pseudo-random values of (seed, salt, index) ---

function mix(a: number, b: number, c: number, d: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) ^ Math.imul(c + 0x68e31da4, 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 13), 0x297a2d39) ^ Math.imul(d + 0x1b873593, 0x165667b1);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export const SALT = {
  address: 1,
  holder: 2,
  creator: 3,
  txHash: 4,
  blockHash: 5,
  contentHash: 6,
  cid: 7,
  metadata: 8,
  text: 9,
  offer: 10,
  license: 11,
  listing: 12,
  item: 13,
  split: 14,
  work: 15,
} as const;

const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";

/** The layout of one generated chain: where each activity sits and what it is about. */
export class ScalePlan {
  readonly sizes: ScaleSizes;
  readonly counts: Record<Kind, number>;
  readonly firstBlock: number;
  readonly lastBlock: number;
  readonly blockSeconds: number;
  readonly startTime: number;
  /** For each transaction slot in chain order, its activity kind (an index into KINDS) and the activity's index. */
  readonly slotKind: Uint8Array;
  readonly slotIndex: Int32Array;
  /** For each kind, the slot of each of its activities. */
  readonly slotOf: Record<Kind, Int32Array>;
  readonly epochs: number;
  readonly #holders: string[];
  readonly #creators: string[];

  constructor(readonly options: ScaleOptions) {
    this.sizes = scaleSizes(options.scale);
    this.counts = activityCounts(this.sizes);
    const slots = KINDS.reduce((sum, kind) => sum + this.counts[kind], 0);
    // Each epoch opens at least two offers, so its purchases have work 1's and another to choose from.
    this.epochs = Math.max(
      1,
      Math.min(1000, Math.floor(this.sizes.works / 10), Math.floor(this.sizes.offers / 2)),
    );
    this.slotKind = new Uint8Array(slots);
    this.slotIndex = new Int32Array(slots);
    this.slotOf = Object.fromEntries(KINDS.map((k) => [k, new Int32Array(this.counts[k])])) as Record<
      Kind,
      Int32Array
    >;
    let slot = 0;
    for (let e = 0; e < this.epochs; e++) {
      KINDS.forEach((kind, k) => {
        const n = this.counts[kind];
        const end = Math.floor(((e + 1) * n) / this.epochs);
        for (let j = Math.floor((e * n) / this.epochs); j < end; j++) {
          this.slotKind[slot] = k;
          this.slotIndex[slot] = j;
          this.slotOf[kind][j] = slot++;
        }
      });
    }
    this.firstBlock = (options.anchor?.blockNumber ?? 0) + 1;
    this.lastBlock = this.firstBlock + Math.floor((slots - 1) / TXS_PER_BLOCK);
    this.startTime = options.startTime ?? Date.UTC(2025, 0, 1) / 1000;
    this.blockSeconds = Math.max(1, Math.floor(TWO_YEARS / (this.lastBlock - this.firstBlock + 1)));
    this.#holders = Array.from({ length: this.sizes.holders }, (_, i) => this.hex(SALT.holder, i, 40));
    this.#creators = Array.from({ length: this.sizes.creators }, (_, i) => this.hex(SALT.creator, i, 40));
  }

  /** A uniform value in [0, 1). */
  rand(salt: number, index: number, field = 0): number {
    return mix(this.options.seed, salt, index, field) / 4294967296;
  }

  /** `chars` pseudo-random hex digits, 0x-prefixed. */
  hex(salt: number, index: number, chars: number): string {
    let out = "0x";
    for (let i = 0; out.length < chars + 2; i++) {
      out += mix(this.options.seed, salt, index, i).toString(16).padStart(8, "0");
    }
    return out.slice(0, chars + 2);
  }

  base32(salt: number, index: number, chars: number): string {
    let out = "";
    for (let i = 0; out.length < chars; i++) {
      let word = mix(this.options.seed, salt, index, i);
      for (let j = 0; j < 6 && out.length < chars; j++, word >>>= 5) out += BASE32[word & 31];
    }
    return out;
  }

  // --- positions ---

  blockOf(slot: number): number {
    return this.firstBlock + Math.floor(slot / TXS_PER_BLOCK);
  }

  logIndexOf(slot: number, log = 0): number {
    return (slot % TXS_PER_BLOCK) * LOGS_PER_TX + log;
  }

  txHashOf(slot: number): string {
    return this.hex(SALT.txHash, slot, 64);
  }

  blockHashOf(block: number): string {
    return this.options.anchor && block === this.options.anchor.blockNumber
      ? this.options.anchor.blockHash
      : this.hex(SALT.blockHash, block, 64);
  }

  blockTimeOf(block: number): number {
    return this.startTime + (block - this.firstBlock) * this.blockSeconds;
  }

  /** Where the `log`th event of the `index`th activity of `kind` is: block, log index, transaction. */
  at(kind: Kind, index: number, log = 0): { block: number; logIndex: number; txHash: string } {
    if (kind === "reveal" && index === 0 && this.options.anchor) {
      const a = this.options.anchor;
      return { block: a.blockNumber, logIndex: a.logIndex, txHash: a.txHash };
    }
    const slot = this.slotOf[kind][index]!;
    return { block: this.blockOf(slot), logIndex: this.logIndexOf(slot, log), txHash: this.txHashOf(slot) };
  }

  // --- who and what ---

  /** Holders are skewed: a few hold many licenses, most a handful. */
  holder(salt: number, index: number): string {
    const u = this.rand(salt, index, 99);
    return this.#holders[Math.floor(this.#holders.length * u * u)]!;
  }

  holderAt(i: number): string {
    return this.#holders[i]!;
  }

  creatorOfWork(w: number): string {
    if (w === 0 && this.options.anchor) return this.options.anchor.creator;
    const u = this.rand(SALT.creator, w);
    return this.#creators[Math.floor(this.#creators.length * u * u)]!;
  }

  contentHashOf(w: number): string {
    return w === 0 && this.options.anchor
      ? this.options.anchor.contentHash
      : this.hex(SALT.contentHash, w, 64);
  }

  cidOf(w: number): string {
    return w === 0 && this.options.anchor
      ? this.options.anchor.cid
      : `bafkrei${this.base32(SALT.cid, w, 52)}`;
  }

  metadataUriOf(w: number): string {
    return w === 0 && this.options.anchor
      ? this.options.anchor.metadataUri
      : `ipfs://bafkrei${this.base32(SALT.metadata, w, 52)}`;
  }

  /** A version of its predecessor: one odd-numbered work in ten; versions are never parents. */
  parentOf(w: number): number | null {
    return w % 2 === 1 && this.rand(SALT.work, w, 1) < 0.1 ? w - 1 : null;
  }

  /** The work an offer is for: one work in ten has one, work 1 the first. */
  workOfOffer(o: number): number {
    return Math.floor((o * this.sizes.works) / this.sizes.offers);
  }

  splitOfOffer(o: number): number {
    return Math.floor((o * this.sizes.splits) / this.sizes.offers);
  }

  splitAddress(s: number): string {
    return this.hex(SALT.split, s, 40);
  }

  /** Offer terms: a tenth perpetual, the rest one to three years. */
  durationOf(o: number): number {
    const u = this.rand(SALT.offer, o, 1);
    return o !== 0 && u < 0.1 ? 0 : (1 + Math.floor(u * 3)) * 365 * 24 * 3600;
  }

  priceOf(o: number): bigint {
    return BigInt(1 + Math.floor(this.rand(SALT.offer, o, 2) * 1000)) * 10n ** 15n;
  }

  /** The epoch of the `index`th of `count` activities of a kind (the inverse of the split in the constructor). */
  epochOf(count: number, index: number): number {
    return Math.floor(((index + 1) * this.epochs - 1) / count);
  }

  /** The offer of license `l`: every tenth is work 1's; the rest favour early, popular offers. */
  offerOfLicense(l: number): number {
    if (l % 10 === 0) return 0;
    const epoch = this.epochOf(this.sizes.licenses, l);
    // Offers of an epoch are created before its purchases.
    const open = Math.max(1, Math.floor(((epoch + 1) * this.sizes.offers) / this.epochs));
    const u = this.rand(SALT.license, l, 1);
    return 1 + Math.floor((open - 1) * u * u);
  }

  /** The license a transfer moves: evenly spread, each moved at most once. */
  licenseOfTransfer(t: number): number {
    return Math.floor((t * this.sizes.licenses) / this.sizes.licenseTransfers);
  }

  /** Listings with odd numbers were bought, confirmed and claimed. */
  closedListing(c: number): number {
    return 2 * c + 1;
  }

  itemOf(salt: number, index: number): number {
    const u = this.rand(salt, index, 3);
    return Math.floor(this.sizes.items * u * u);
  }

  /** Title and description of work `w`, in one of the languages. */
  textOf(w: number): { language: string; title: string; description: string } {
    let u = this.rand(SALT.text, w, 0);
    const language = LANGUAGES.find((l) => (u -= l.weight) < 0) ?? LANGUAGES[0]!;
    const words = (count: number, field: number) =>
      Array.from({ length: count }, (_, i) => {
        const v = this.rand(SALT.text, w, field * 64 + i);
        return language.words[Math.floor(language.words.length * v * v)]!;
      }).join(language.separator);
    const titleWords = 2 + Math.floor(this.rand(SALT.text, w, 1) * 4);
    const descriptionWords = 8 + Math.floor(this.rand(SALT.text, w, 2) * 18);
    return { language: language.code, title: words(titleWords, 1), description: words(descriptionWords, 2) };
  }
}
