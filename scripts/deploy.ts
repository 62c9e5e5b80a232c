/**
 * Deploys Rights Ledger to the selected network and writes deployments/<chainId>.json.
 *
 *   npx hardhat run scripts/deploy.ts --network localhost
 *
 * Role holders come from DEPLOY_ADMIN, DEPLOY_RELAYER, DEPLOY_ARBITER, DEPLOY_TREASURY, DEPLOY_STUDIO
 * and DEPLOY_REVOKER; any that is unset falls back to the network's accounts 0–4 (on a development
 * chain, Hardhat's well-known test accounts), the revoker to the relayer. Settlements pay in the
 * stablecoin SETTLEMENT_TOKEN from SETTLEMENT_TREASURY, which must then approve the settlement contract
 * (the script prints the call); on a development chain without them a DevStablecoin is deployed, and
 * account 19 is funded with it and approves.
 */
import { network } from "hardhat";
import { isAddress } from "ethers";
import { writeDeployment } from "../lib/deployment.ts";
import { deployContracts, settingsFromEnv, type DeployRoles } from "./deploy-contracts.ts";
import { settlementSetupFromEnv, treasuryApproval } from "./settlement-setup.ts";

const ROLE_VARIABLES: Record<Exclude<keyof DeployRoles, "revoker">, string> = {
  admin: "DEPLOY_ADMIN",
  relayer: "DEPLOY_RELAYER",
  arbiter: "DEPLOY_ARBITER",
  treasury: "DEPLOY_TREASURY",
  studio: "DEPLOY_STUDIO",
};

function addressFromEnv(variable: string): string | undefined {
  const fromEnv = process.env[variable];
  if (fromEnv === undefined || fromEnv === "") return undefined;
  if (!isAddress(fromEnv)) throw new Error(`${variable} must be an address, got "${fromEnv}"`);
  return fromEnv;
}

const { ethers } = await network.create();
const signers = await ethers.getSigners();
const [deployer] = signers;
if (!deployer) throw new Error("the selected network has no accounts to deploy with");

const roles = {} as DeployRoles;
(Object.keys(ROLE_VARIABLES) as (keyof typeof ROLE_VARIABLES)[]).forEach((role, index) => {
  roles[role] = addressFromEnv(ROLE_VARIABLES[role]) ?? (signers[index] ?? deployer).address;
});
// The workers revoke with the relayer's key unless the revoker is a wallet of its own.
roles.revoker = addressFromEnv("DEPLOY_REVOKER") ?? roles.relayer;

const chainId = Number((await ethers.provider.getNetwork()).chainId);
const settlementSetup = await settlementSetupFromEnv(process.env, chainId, signers);

const deployment = await deployContracts(deployer, roles, settlementSetup, settingsFromEnv(process.env));
const file = await writeDeployment(deployment, process.env.DEPLOYMENTS_DIR ?? "deployments");
for (const [name, info] of Object.entries(deployment.contracts)) {
  console.log(`${name.padEnd(16)} ${info.address}  (block ${info.blockNumber})`);
}
console.log(
  `settlement token ${deployment.settlementToken}, treasury ${deployment.roles.settlementTreasury}`,
);
if ("token" in settlementSetup) {
  const approval = treasuryApproval(
    deployment.settlementToken,
    deployment.contracts.PayoutSettlement.address,
  );
  console.log(
    `the treasury ${deployment.roles.settlementTreasury} must now approve the settlement contract; send from it:\n` +
      `  to   ${approval.to}\n  call ${approval.call}\n  data ${approval.data}`,
  );
}
console.log(`wrote ${file}`);
