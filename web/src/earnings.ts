/** Earnings: the API calls of the Earnings page, and the split's payouts sent from the connected wallet. */
import { Interface } from "ethers";
import type { DailyEarnings, Earnings } from "../../lib/api/earnings.ts";
import { api, query, raw } from "./api.ts";
import type { Wallet } from "./wallet.tsx";

const revenueSplit = new Interface([
  "function release(address token, address account) returns (uint256)",
  "function distribute(address token)",
]);

export function getEarnings(signal?: AbortSignal): Promise<Earnings> {
  return api<Earnings>("/v1/earnings", { signal });
}

/** Sales per day from `from` to `to` (UTC dates), the last 30 days by the chain's clock when not given. */
export function getDailyEarnings(
  signal?: AbortSignal,
  range: { from?: string; to?: string } = {},
): Promise<DailyEarnings> {
  return api<DailyEarnings>(`/v1/earnings/daily${query(range)}`, { signal });
}

/** The signed-in wallet's ledger lines as a CSV file, for a download link. */
export async function ledgerCsv(): Promise<Blob> {
  return (await raw("/v1/earnings/ledger.csv", { headers: { accept: "text/csv" } })).blob();
}

/** Pays `account` what the split owes it in `token`, from the connected wallet; resolves once mined. */
export function withdraw(wallet: Wallet, split: string, token: string, account: string): Promise<string> {
  return wallet.sendTransaction({
    to: split,
    data: revenueSplit.encodeFunctionData("release", [token, account]),
  });
}

/** Pays every recipient of the split what it owes them in `token`, from the connected wallet. */
export function distribute(wallet: Wallet, split: string, token: string): Promise<string> {
  return wallet.sendTransaction({ to: split, data: revenueSplit.encodeFunctionData("distribute", [token]) });
}
