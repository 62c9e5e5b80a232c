import { MaxUint256, type ContractTransactionResponse, type Signer } from "ethers";
import type { Deployment, DeployedContract } from "../lib/deployment.ts";
import {
  DevStablecoin__factory,
  GameItems__factory,
  ItemEscrow__factory,
  LicenseToken__factory,
  PayoutSettlement__factory,
  CodeCommitments__factory,
  SplitFactory__factory,
  WorkRegistry__factory,
  type DevStablecoin,
} from "../types/typechain/index.ts";

/** Hardhat's development chains (the in-process network, `npm start`'s chain, a local Hardhat node). */
export const DEV_CHAIN_ID = 31337;
/**
 * The account of Hardhat's test mnemonic that is the settlement treasury on development chains: the
 * last of the 20 funded accounts, which no platform role (0–4) and no test or demo user (5 and up) takes.
 */
export const DEV_SETTLEMENT_TREASURY_INDEX = 19;
/** What the development treasury is minted: 1,000,000 tUSD (6 decimals). */
export const DEV_TREASURY_FUNDS = 1_000_000n * 10n ** 6n;

/**
 * Where settlements take their stablecoin from: a token that exists and a treasury that approves the
 * settlement contract on its own (a real network), or, on a development chain only, a DevStablecoin
 * deployed here, minted to the treasury account `devTreasury` signs for, and approved by it.
 */
export type SettlementSetup = { token: string; treasury: string } | { devTreasury: Signer };

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

/** A setting from its variable, or `fallback` when unset; refuses anything but a non-negative integer. */
function settingFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0)
    throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return value;
}

/**
 * The deployment's settings from PLATFORM_FEE_BPS, ESCROW_COMMISSION_BPS (up to 1500: the 15% item-trading
 * platforms charge), CONFIRMATION_WINDOW_SECONDS, DISPUTE_WINDOW_SECONDS and ADMIN_DELAY_SECONDS, each
 * defaulting to DEFAULT_SETTINGS.
 */
export function settingsFromEnv(env: NodeJS.ProcessEnv): DeploySettings {
  return {
    platformFeeBps: settingFromEnv(env, "PLATFORM_FEE_BPS", DEFAULT_SETTINGS.platformFeeBps),
    escrowCommissionBps: settingFromEnv(env, "ESCROW_COMMISSION_BPS", DEFAULT_SETTINGS.escrowCommissionBps),
    confirmationWindowSeconds: settingFromEnv(
      env,
      "CONFIRMATION_WINDOW_SECONDS",
      DEFAULT_SETTINGS.confirmationWindowSeconds,
    ),
    disputeWindowSeconds: settingFromEnv(
      env,
      "DISPUTE_WINDOW_SECONDS",
      DEFAULT_SETTINGS.disputeWindowSeconds,
    ),
    adminDelaySeconds: settingFromEnv(env, "ADMIN_DELAY_SECONDS", DEFAULT_SETTINGS.adminDelaySeconds),
  };
}

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
 * construction, so the deployer never holds them). Settlements pay in the token `settlementSetup`
 * names, or on a development chain in a DevStablecoin deployed, minted and approved here. The
 * deployer must be able to pay for about 20 transactions.
 */
export async function deployContracts(
  deployer: Signer,
  roles: DeployRoles,
  settlementSetup: SettlementSetup,
  settings: DeploySettings = DEFAULT_SETTINGS,
): Promise<Deployment> {
  const deployerAddress = await deployer.getAddress();
  const network = await deployer.provider!.getNetwork();
  if ("devTreasury" in settlementSetup && network.chainId !== BigInt(DEV_CHAIN_ID)) {
    throw new Error(
      `a development stablecoin is deployed only on chain ${DEV_CHAIN_ID}, not ${network.chainId}`,
    );
  }
  if ("token" in settlementSetup && (await deployer.provider!.getCode(settlementSetup.token)) === "0x") {
    throw new Error(`the settlement token ${settlementSetup.token} has no code on chain ${network.chainId}`);
  }

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
  let settlementToken: string;
  let settlementTreasury: string;
  let devToken: DevStablecoin | null = null;
  if ("token" in settlementSetup) {
    ({ token: settlementToken, treasury: settlementTreasury } = settlementSetup);
  } else {
    devToken = await new DevStablecoin__factory(deployer).deploy();
    await devToken.waitForDeployment();
    settlementToken = await devToken.getAddress();
    settlementTreasury = await settlementSetup.devTreasury.getAddress();
  }
  const settlement = await new PayoutSettlement__factory(deployer).deploy(
    deployerAddress,
    settlementToken,
    settlementTreasury,
  );
  const settlementInfo = await record(settlement, settlement.deploymentTransaction());
  const codes = await new CodeCommitments__factory(deployer).deploy(deployerAddress);
  const codesInfo = await record(codes, codes.deploymentTransaction());

  await confirm(registry.grantRole(await registry.REGISTRAR_ROLE(), roles.relayer));
  // Offers on a work stop selling in the transaction that supersedes it.
  await confirm(registry.setSupersessionHook(licensesInfo.address));
  await confirm(items.grantRole(await items.MINTER_ROLE(), roles.studio));
  // The relayer sends settlements as it sends card mints.
  await confirm(settlement.grantRole(await settlement.SETTLER_ROLE(), roles.relayer));
  // The relayer commits each upload of redemption codes as it is stored.
  await confirm(codes.grantRole(await codes.COMMITTER_ROLE(), roles.relayer));
  if (devToken && "devTreasury" in settlementSetup) {
    // The treasury of a development chain is funded and approves for everything, as a real one is told to.
    await confirm(devToken.mint(settlementTreasury, DEV_TREASURY_FUNDS));
    await confirm(devToken.connect(settlementSetup.devTreasury).approve(settlementInfo.address, MaxUint256));
  }

  if (roles.admin.toLowerCase() !== deployerAddress.toLowerCase()) {
    for (const contract of [registry, items, settlement, codes]) {
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
      PayoutSettlement: settlementInfo,
      CodeCommitments: codesInfo,
    },
    settlementToken,
    roles: { ...roles, settlementTreasury },
    settings,
  };
}
