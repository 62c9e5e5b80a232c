import type { Redis } from "ioredis";
import { Counter, Gauge, type Registry } from "prom-client";
import { AppError } from "../errors.ts";

/** What the relayer pays gas for on someone's behalf. */
export type GasUse = "registration" | "offer" | "cardMint" | "referrer" | "split";

export interface GasBudgetSettings {
  /** Gas the relayer spends for one wallet in a UTC day. */
  perWalletPerDay: number;
  /** Gas the relayer spends for everyone in a UTC day. */
  perDay: number;
  /** Gas counted for each use (a little above what it costs). */
  gasPerUse: Record<GasUse, number>;
  /** Gas counted on top for each item a use serves, where its cost grows with them (a split's recipients). */
  gasPerItem?: Partial<Record<GasUse, number>>;
}

export interface ReserveOptions {
  /** Items the use serves (a split's recipients), each counted at `gasPerItem`. */
  items?: number;
  now?: Date;
}

const DAY_SECONDS = 86_400;

// Both counters move together or not at all, so a refusal never spends part of a budget.
const RESERVE = `
local wallet = tonumber(redis.call('GET', KEYS[1]) or '0')
local total = tonumber(redis.call('GET', KEYS[2]) or '0')
local gas = tonumber(ARGV[1])
if wallet + gas > tonumber(ARGV[2]) then return {1, wallet, total} end
if total + gas > tonumber(ARGV[3]) then return {2, wallet, total} end
redis.call('INCRBY', KEYS[1], gas)
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('INCRBY', KEYS[2], gas)
redis.call('EXPIRE', KEYS[2], ARGV[4])
return {0, wallet + gas, total + gas}
`;

const dayOf = (now: Date) => now.toISOString().slice(0, 10);

/**
 * The relayer's gas budget: each registration, offer publication, card mint, referrer approval and
 * split creation it will pay for is counted against the wallet it serves and against the day's
 * total, in Redis (shared by every API process), before it is accepted; past either budget it is
 * refused with 429 until the next UTC day.
 */
export class GasBudget {
  readonly #exhausted: Counter<"scope"> | null;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly settings: GasBudgetSettings,
    metrics?: Registry,
  ) {
    this.#exhausted = metrics
      ? new Counter({
          name: "rl_relayer_gas_budget_exhausted_total",
          help: "Relayer uses refused because a gas budget was spent, by scope (wallet or daily)",
          labelNames: ["scope"],
          registers: [metrics],
        })
      : null;
    if (metrics) {
      const remainingToday = () => this.remainingToday();
      new Gauge({
        name: "rl_relayer_gas_budget_remaining",
        help: "Gas left in the relayer's budget for today, for everyone",
        registers: [metrics],
        async collect() {
          this.set(await remainingToday());
        },
      });
    }
  }

  #keys(wallet: string, now: Date): [string, string] {
    const day = dayOf(now);
    return [`${this.prefix}:gas:${day}:wallet:${wallet.toLowerCase()}`, `${this.prefix}:gas:${day}:total`];
  }

  /** Gas left today for everyone. */
  async remainingToday(now = new Date()): Promise<number> {
    const used = Number((await this.redis.get(this.#keys("", now)[1])) ?? 0);
    return Math.max(0, this.settings.perDay - used);
  }

  /**
   * Counts `use` for `wallet`, or throws 429 GAS_BUDGET_EXCEEDED when the wallet's or the day's
   * budget would be passed. Resolves with a function that gives the gas back (for a request that
   * turns out to be a repeat of one already counted).
   */
  async reserve(
    use: GasUse,
    wallet: string,
    { items = 0, now = new Date() }: ReserveOptions = {},
  ): Promise<() => Promise<void>> {
    const gas = this.settings.gasPerUse[use] + items * (this.settings.gasPerItem?.[use] ?? 0);
    const keys = this.#keys(wallet, now);
    const [refused, walletUsed, totalUsed] = (await this.redis.eval(
      RESERVE,
      2,
      ...keys,
      gas,
      this.settings.perWalletPerDay,
      this.settings.perDay,
      2 * DAY_SECONDS,
    )) as [number, number, number];
    if (refused) {
      const scope = refused === 1 ? "wallet" : "daily";
      this.#exhausted?.inc({ scope });
      const resetsAt = new Date(`${dayOf(now)}T00:00:00.000Z`);
      resetsAt.setUTCDate(resetsAt.getUTCDate() + 1);
      const limitGas = scope === "wallet" ? this.settings.perWalletPerDay : this.settings.perDay;
      throw new AppError(
        "GAS_BUDGET_EXCEEDED",
        429,
        scope === "wallet"
          ? `this wallet has used its gas budget for today; retry after ${resetsAt.toISOString()}`
          : `the platform has used its gas budget for today; retry after ${resetsAt.toISOString()}`,
        {
          scope,
          use,
          limitGas,
          usedGas: scope === "wallet" ? walletUsed : totalUsed,
          retryAfterSeconds: Math.ceil((resetsAt.getTime() - now.getTime()) / 1000),
          resetsAt: resetsAt.toISOString(),
        },
      );
    }
    return async () => {
      await this.redis.multi().decrby(keys[0], gas).decrby(keys[1], gas).exec();
    };
  }
}
