/**
 * `npm run reconcile`: proves the payout ledger against the chain to the minor unit — for every
 * payee, what card sales owe it equals what settlements paid it on chain (as indexed) plus what is
 * in settlements on their way plus what is pending — and that the ledger's lines add up to zero.
 * Reads the server's environment (DATABASE_URL, CHAIN_RPC_URL…). Exits 1 on any difference.
 *   npm run reconcile [-- --json]
 */
import { parseArgs } from "node:util";
import { JsonRpcProvider } from "ethers";
import pg from "pg";
import { readDeployment } from "../lib/deployment.ts";
import { loadConfigOrExit } from "../server/config.ts";
import { reconcile, reconciled } from "../server/payouts/reconcile.ts";
import { minorDigits } from "../server/payouts/units.ts";
import { IERC20Metadata__factory } from "../types/typechain/index.ts";

const { values } = parseArgs({ options: { json: { type: "boolean" } } });
const config = loadConfigOrExit();
const db = new pg.Pool({ connectionString: config.database.url, max: 2 });
const provider = new JsonRpcProvider(config.chain.rpcUrl);
try {
  const chainId = (await provider.getNetwork()).chainId;
  const deployment = await readDeployment(chainId, config.chain.deploymentsDir);
  const decimals = Number(
    await IERC20Metadata__factory.connect(deployment.settlementToken, provider).decimals(),
  );
  const started = performance.now();
  const result = await reconcile(db, { currency: config.payouts.currency, decimals });
  const ms = Math.round(performance.now() - started);
  if (values.json) console.log(JSON.stringify({ ...result, reconciled: reconciled(result), ms }, null, 2));
  else {
    const { totals } = result;
    const digits = minorDigits(result.currency);
    const money = (minor: number) => (minor / 10 ** digits).toFixed(digits);
    console.log(
      `payout ledger (${result.currency}): ${result.lines} lines, ${result.payees} payees, ${ms} ms`,
    );
    console.log(`  owed      ${money(totals.owed)}`);
    console.log(`  on chain  ${money(totals.onChain)}`);
    console.log(`  in flight ${money(totals.inFlight)}`);
    console.log(`  pending   ${money(totals.pending)}`);
    console.log(
      `  ledger lines add up to ${result.ledgerSum}; ${result.fractional} on-chain payments in fractions of a cent`,
    );
    for (const m of result.mismatches) {
      console.log(
        `  MISMATCH ${m.payee}: owed ${m.owed}, on chain ${m.onChain}, in flight ${m.inFlight}, pending ${m.pending}, difference ${m.difference}`,
      );
    }
    console.log(reconciled(result) ? "reconciled" : "NOT reconciled");
  }
  process.exitCode = reconciled(result) ? 0 : 1;
} finally {
  provider.destroy();
  await db.end();
}
