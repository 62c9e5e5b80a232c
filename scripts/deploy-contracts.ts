import type { ContractTransactionResponse, Signer } from "ethers";
import type { Deployment, DeployedContract } from "../lib/deployment.ts";
import {
  GameItems__factory,
  ItemEscrow__factory,
  LicenseToken__factory,
  SplitFactory__factory,
  WorkRegistry__factory,
} from "../types/typechain/index.ts";

export interface DeployRoles {
  /** Holds DEFAULT_ADMIN_ROLE everywhere. */
  admin: string;
  /** The platform's transaction sender: registrar of batches and minter of card-paid licenses. */
  relayer: string;
  /** Resolves escrow disputes. */
  arbiter: string;
  /** Receives platform fees and escrow commissions. */
  treasury: string;
  /** Mints game items. */
  studio: string;
  /** Revokes licenses whose card payment was refunded or charged back: a key the workers hold. */
  revoker: string;
}

export interface DeploySettings {
  platformFeeBps: number;
  escrowCommissionBps: number;
  confirmationWindowSeconds: number;
  /** The arbiter's time on an escrow dispute, after which anyone can unwind the trade. */
  disputeWindowSeconds: number;
  /** How long a handover of DEFAULT_ADMIN_ROLE waits between its start and its acceptance. */
  adminDelaySeconds: number;
}

export const DEFAULT_SETTINGS: DeploySettings = {
  platformFeeBps: 250,
  escrowCommissionBps: 250,
  confirmationWindowSeconds: 3 * 24 * 3600,
  disputeWindowSeconds: 7 * 24 * 3600,
  adminDelaySeconds: 3 * 24 * 3600,
};

async function record(
  contract: { waitForDeployment(): Promise<unknown>; getAddress(): Promise<string> },
  tx: ContractTransactionResponse | null,
): Promise<DeployedContract> {
  await contract.waitForDeployment();
  if (!tx) throw new Error("deployment transaction missing");
  const receipt = await tx.wait();
  if (!receipt) throw new Error(`deployment ${tx.hash} has no receipt`);
  return { address: await contract.getAddress(), blockNumber: receipt.blockNumber, txHash: tx.hash };
}

async function confirm(tx: Promise<ContractTransactionResponse>): Promise<void> {
  await (await tx).wait();
}

/**
 * Deploys every contract with `deployer`, grants roles, and hands admin over to `roles.admin`
 * when it is another account (contracts with delayed admin handover take their roles at
 * construction, so the deployer never holds them). The deployer must be able to pay for about
 * 15 transactions.
 */
export async function deployContracts(
  deployer: Signer,
  roles: DeployRoles,
  settings: DeploySettings = DEFAULT_SETTINGS,
): Promise<Deployment> {
  const deployerAddress = await deployer.getAddress();
  const network = await deployer.provider!.getNetwork();

  const registry = await new WorkRegistry__factory(deployer).deploy(deployerAddress);
  const registryInfo = await record(registry, registry.deploymentTransaction());
  const splits = await new SplitFactory__factory(deployer).deploy();
  const splitsInfo = await record(splits, splits.deploymentTransaction());
  const licenses = await new LicenseToken__factory(deployer).deploy(
    roles.admin,
    settings.adminDelaySeconds,
    registryInfo.address,
    splitsInfo.address,
    roles.treasury,
    settings.platformFeeBps,
    roles.relayer,
    roles.revoker,
  );
  const licensesInfo = await record(licenses, licenses.deploymentTransaction());
  const items = await new GameItems__factory(deployer).deploy(deployerAddress);
  const itemsInfo = await record(items, items.deploymentTransaction());
  const escrow = await new ItemEscrow__factory(deployer).deploy(
    roles.admin,
    settings.adminDelaySeconds,
    roles.treasury,
    roles.arbiter,
    settings.escrowCommissionBps,
    settings.confirmationWindowSeconds,
    settings.disputeWindowSeconds,
    [itemsInfo.address],
  );
  const escrowInfo = await record(escrow, escrow.deploymentTransaction());

  await confirm(registry.grantRole(await registry.REGISTRAR_ROLE(), roles.relayer));
  // Offers on a work stop selling in the transaction that supersedes it.
  await confirm(registry.setSupersessionHook(licensesInfo.address));
  await confirm(items.grantRole(await items.MINTER_ROLE(), roles.studio));

  if (roles.admin.toLowerCase() !== deployerAddress.toLowerCase()) {
    for (const contract of [registry, items]) {
      const adminRole = await contract.DEFAULT_ADMIN_ROLE();
      await confirm(contract.grantRole(adminRole, roles.admin));
      await confirm(contract.renounceRole(adminRole, deployerAddress));
    }
  }

  return {
    chainId: Number(network.chainId),
    deployedAt: new Date().toISOString(),
    contracts: {
      WorkRegistry: registryInfo,
      SplitFactory: splitsInfo,
      LicenseToken: licensesInfo,
      GameItems: itemsInfo,
      ItemEscrow: escrowInfo,
    },
    roles,
    settings,
  };
}
