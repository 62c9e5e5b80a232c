import type { Pool } from "pg";
import { Gauge, type Registry } from "prom-client";
import { reconcile, type Reconciliation } from "../payouts/reconcile.ts";

export interface PayoutMetricsDeps {
  db: Pool;
  currency: string;
  /** The settlement token's decimals, read from the chain once. */
  decimals: () => Promise<number>;
}

/** A reconciliation is reused this long: several scrapes (or gauges of one scrape) share one. */
const REUSE_MS = 15_000;

/**
 * The payout ledger against the chain, read when `/metrics` is scraped: what payees are owed, paid on
 * chain, in flight and pending, and the difference `npm run reconcile` reports (alert when not 0).
 */
export function registerPayoutMetrics(metrics: Registry, deps: PayoutMetricsDeps): void {
  let last: { at: number; result: Promise<Reconciliation> } | null = null;
  /** The latest reconciliation, or null while the database or the chain does not answer (the gauges stay empty). */
  const current = async (): Promise<Reconciliation | null> => {
    if (!last || Date.now() - last.at > REUSE_MS) {
      const result = deps
        .decimals()
        .then((decimals) => reconcile(deps.db, { currency: deps.currency, decimals }));
      result.catch(() => {
        last = null;
      });
      last = { at: Date.now(), result };
    }
    return last.result.catch(() => null);
  };
  new Gauge({
    name: "rl_payout_minor_units",
    help: "Card revenue owed to payees (splits, referrers) in the settlement currency's minor units, by state: owed in all, paid on chain, in settlements on their way, pending",
    labelNames: ["currency", "state"],
    registers: [metrics],
    async collect() {
      const result = await current();
      if (!result) return;
      for (const state of ["owed", "onChain", "inFlight", "pending"] as const) {
        this.set({ currency: deps.currency, state }, result.totals[state]);
      }
    },
  });
  new Gauge({
    name: "rl_payout_reconciliation_difference",
    help: "Minor units by which the payout ledger and the chain's settlements disagree, summed over payees (0 when reconciled)",
    labelNames: ["currency"],
    registers: [metrics],
    async collect() {
      const result = await current();
      if (result)
        this.set({ currency: deps.currency }, result.totals.difference + Math.abs(result.ledgerSum));
    },
  });
}
