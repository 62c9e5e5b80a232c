/**
 * `npm start`: brings up the Rights Ledger stack on this machine and keeps it running until Ctrl-C.
 */
import { startDevChain } from "./dev-chain.ts";

const chain = await startDevChain({ rpcUrl: process.env.CHAIN_RPC_URL || undefined });
console.log(`chain      ${chain.url}  (chain id ${chain.chainId})`);
for (const [name, info] of Object.entries(chain.deployment.contracts)) {
  console.log(`  ${name.padEnd(13)} ${info.address}`);
}
console.log("ready — press Ctrl-C to stop");

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await chain.close();
  process.exit(0);
}
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
