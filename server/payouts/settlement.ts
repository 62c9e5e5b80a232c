import { randomUUID } from "node:crypto";
import { ZeroAddress } from "ethers";
import type { Pool } from "pg";
import type { Logger } from "pino";
import { withTransaction } from "../../lib/transaction.ts";
import { TransactionRevertedError, type Relayer } from "../chain/relayer.ts";
import type { Checkpoint } from "../crash-points.ts";
import {
  cancelSettlement,
  dueBalances,
  insertSettlement,
  markSettlement,
  openSettlements,
  settlementPayload,
  type DueBalance,
  type Settlement,
} from "./settlement-store.ts";
import { settlementIdOf, tokenUnits } from "./units.ts";
import type { IPayoutSettlement } from "../../types/typechain/index.ts";

export interface SettlementDeps {
  db: Pool;
  relayer: Relayer;
  /** The settlement contract, for encoding and reads. */
  contract: Pick<IPayoutSettlement, "interface" | "isSettled" | "getAddress" | "treasury">;
  /** The stablecoin settlements pay in, and the card currency it stands for. */
  token: { address: string; decimals: number; currency: string };
  clock: { nowSeconds(): Promise<number> };
  holdbackSeconds: number;
  maxPayees: number;
  maxPaymentRefs: number;
  logger: Logger;
  checkpoint: Checkpoint;
}

export interface SettlementRun {
  paid: string[];
  cancelled: string[];
}

const PURPOSE = "settlePayouts";
/** Refusals that say the settlement itself is malformed: it is cancelled and its bookings settled afresh. */
const MALFORMED = new Set([
  "SettlementEmpty",
  "SettlementLengthMismatch",
  "SettlementTooLarge",
  "PayeesNotAscending",
  "InvalidPayee",
  "ZeroAmount",
]);
/** Settlements prepared in one run at most; the next run takes the rest. */
const MAX_PER_RUN = 20;

/** Takes payees, lowest address first, while the payments they cover fit in one settlement (at least one payee). */
function fitting(due: readonly DueBalance[], maxPaymentRefs: number): DueBalance[] {
  const taken: DueBalance[] = [];
  const refs = new Set<string>();
  for (const balance of due) {
    const added = balance.paymentRefs.filter((r) => !refs.has(r)).length;
    if (taken.length > 0 && refs.size + added > maxPaymentRefs) break;
    for (const ref of balance.paymentRefs) refs.add(ref);
    taken.push(balance);
  }
  return taken;
}

/**
 * Pays the payout ledger's settled balances on chain. First finishes settlements a previous run
 * left open (a worker killed mid-way), then prepares new ones from bookings older than the
 * holdback and pays them. A settlement is recorded (with its booking) before its transaction is
 * sent, the transaction is sent once per settlement by the relayer's ledger, and the contract
 * refuses a settlement id twice: a crash anywhere pays nothing twice and loses nothing.
 */
export async function settlePayouts(deps: SettlementDeps): Promise<SettlementRun> {
  const run: SettlementRun = { paid: [], cancelled: [] };
  // One run at a time across worker processes (a run may outlast the interval); a process that
  // dies holding the lock ends its session, which releases it.
  const client = await deps.db.connect();
  try {
    const { rows } = await client.query<{ locked: boolean }>(
      `SELECT pg_try_advisory_lock(hashtext('payout-settlement-run')) AS locked`,
    );
    if (!rows[0]!.locked) return run;
    try {
      for (const open of await openSettlements(deps.db)) await finish(deps, open, run);
      // The contract refuses to pay these; their balances stay pending rather than block others.
      const excluded = [await deps.contract.treasury(), await deps.contract.getAddress(), ZeroAddress];
      for (let i = 0; i < MAX_PER_RUN; i++) {
        const prepared = await prepare(deps, excluded);
        if (!prepared) break;
        deps.checkpoint("settlement:after-prepare");
        await finish(deps, prepared, run);
      }
    } finally {
      await client.query(`SELECT pg_advisory_unlock(hashtext('payout-settlement-run'))`);
    }
  } finally {
    client.release();
  }
  return run;
}

/** Records the next settlement of what is due, or answers null when nothing is. */
async function prepare(deps: SettlementDeps, excluded: readonly string[]): Promise<Settlement | null> {
  const now = await deps.clock.nowSeconds();
  const cutoff = new Date((now - deps.holdbackSeconds) * 1000);
  const { currency, address: token, decimals } = deps.token;
  return withTransaction(deps.db, async (client) => {
    // One preparer at a time across worker processes: two would cover the same bookings.
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('payout-settlement'))`);
    const due = fitting(
      await dueBalances(client, currency, cutoff, deps.maxPayees, excluded),
      deps.maxPaymentRefs,
    );
    if (due.length === 0) return null;
    const id = randomUUID();
    await insertSettlement(
      client,
      { id, currency, token: token.toLowerCase(), cutoff, bookedAt: new Date(now * 1000) },
      due,
      (minor) => tokenUnits(minor, currency, decimals),
    );
    deps.logger.info({ settlementId: id, payees: due.length }, "settlement prepared");
    return { id, currency, token: token.toLowerCase(), status: "prepared" as const, txHash: null };
  });
}

/** Sends a settlement's transaction (once) and records how it ended. */
async function finish(deps: SettlementDeps, settlement: Settlement, run: SettlementRun): Promise<void> {
  const { relayer, contract, db } = deps;
  const onChainId = settlementIdOf(settlement.id);
  let hash = settlement.txHash ?? (await relayer.sentFor(PURPOSE, settlement.id));
  if (!hash) {
    const { payees, paymentRefs } = await settlementPayload(db, settlement.id);
    try {
      ({ hash } = await relayer.sendOnce({
        to: await contract.getAddress(),
        data: contract.interface.encodeFunctionData("settle", [
          onChainId,
          payees.map((p) => p.payee),
          payees.map((p) => p.tokenAmount),
          paymentRefs,
        ]),
        purpose: PURPOSE,
        ref: settlement.id,
      }));
    } catch (err) {
      if (!(err instanceof TransactionRevertedError)) throw err;
      if (err.errorName === "SettlementIdUsed") {
        await markSettlement(db, settlement.id, ["prepared", "sent"], "paid");
        run.paid.push(settlement.id);
        return;
      }
      if (err.errorName && MALFORMED.has(err.errorName)) {
        await cancel(deps, settlement.id, err.message, run);
        return;
      }
      // The treasury's balance or allowance falls short, or the relayer lacks its role: an
      // operator must act, and the settlement waits for them rather than being booked again and again.
      throw new Error(`settlement ${settlement.id} cannot be paid yet: ${err.message}`, { cause: err });
    }
    deps.checkpoint("settlement:after-send");
    await markSettlement(db, settlement.id, ["prepared"], "sent", { txHash: hash });
  }
  const receipt = await relayer.wait(hash);
  if (receipt.status === 1 || (await contract.isSettled(onChainId))) {
    await markSettlement(db, settlement.id, ["prepared", "sent"], "paid", { txHash: hash });
    run.paid.push(settlement.id);
    deps.logger.info({ settlementId: settlement.id, txHash: hash }, "settlement paid on chain");
    return;
  }
  await cancel(deps, settlement.id, `transaction ${hash} reverted`, run);
}

async function cancel(deps: SettlementDeps, id: string, error: string, run: SettlementRun): Promise<void> {
  const bookedAt = new Date((await deps.clock.nowSeconds()) * 1000);
  const cancelled = await withTransaction(deps.db, (client) => cancelSettlement(client, id, error, bookedAt));
  if (!cancelled) return;
  run.cancelled.push(id);
  deps.logger.error(
    { settlementId: id, error },
    "settlement refused on chain; its bookings will be settled again",
  );
}
