import { Interface, MaxUint256, isAddress, type Signer } from "ethers";
import { DEV_CHAIN_ID, DEV_SETTLEMENT_TREASURY_INDEX, type SettlementSetup } from "./deploy-contracts.ts";

/** The variables that name the settlement's stablecoin and treasury. */
export interface SettlementEnv {
  SETTLEMENT_TOKEN?: string;
  SETTLEMENT_TREASURY?: string;
}

function addressOf(env: SettlementEnv, variable: keyof SettlementEnv): string | undefined {
  const value = env[variable];
  if (value === undefined || value === "") return undefined;
  if (!isAddress(value)) throw new Error(`${variable} must be an address, got "${value}"`);
  return value;
}

/**
 * Where a deployment's settlements pay from. SETTLEMENT_TOKEN names the stablecoin and SETTLEMENT_TREASURY
 * the account that holds it; both are required unless the chain is a development chain, where a
 * DevStablecoin is deployed and funded instead, held by SETTLEMENT_TREASURY (one of `signers`) or by
 * account DEV_SETTLEMENT_TREASURY_INDEX. A stablecoin is never invented on any other chain.
 */
export async function settlementSetupFromEnv(
  env: SettlementEnv,
  chainId: number,
  signers: Signer[],
): Promise<SettlementSetup> {
  const token = addressOf(env, "SETTLEMENT_TOKEN");
  const treasury = addressOf(env, "SETTLEMENT_TREASURY");
  if (token) {
    if (!treasury)
      throw new Error("SETTLEMENT_TREASURY is required with SETTLEMENT_TOKEN: the account that pays");
    return { token, treasury };
  }
  if (chainId !== DEV_CHAIN_ID) {
    throw new Error(
      `SETTLEMENT_TOKEN is required on chain ${chainId}: the stablecoin card revenue is settled in ` +
        `(a development stablecoin is deployed only on chain ${DEV_CHAIN_ID})`,
    );
  }
  if (!treasury) {
    const devTreasury = signers[DEV_SETTLEMENT_TREASURY_INDEX];
    if (!devTreasury) {
      throw new Error(
        `the network has ${signers.length} accounts; the development treasury is account ${DEV_SETTLEMENT_TREASURY_INDEX}`,
      );
    }
    return { devTreasury };
  }
  const addresses = await Promise.all(signers.map((s) => s.getAddress()));
  const devTreasury = signers[addresses.findIndex((a) => a.toLowerCase() === treasury.toLowerCase())];
  if (!devTreasury) throw new Error(`SETTLEMENT_TREASURY ${treasury} is not an account of this network`);
  return { devTreasury };
}

/** The transaction the treasury sends so settlements can draw on it, as the deploy script prints it. */
export function treasuryApproval(
  token: string,
  settlement: string,
): { to: string; data: string; call: string } {
  const erc20 = new Interface(["function approve(address spender, uint256 amount) returns (bool)"]);
  return {
    to: token,
    data: erc20.encodeFunctionData("approve", [settlement, MaxUint256]),
    call: `approve(${settlement}, ${MaxUint256})`,
  };
}
