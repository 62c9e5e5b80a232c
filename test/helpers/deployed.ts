/**
 * The contracts deployed by the deploy script on a Hardhat network, with named accounts: settlements pay
 * in a development stablecoin from account 19, funded and approving, and the relayer settles.
 */
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { NetworkConnection } from "hardhat/types/network";
import type { Deployment } from "../../lib/deployment.ts";
import { deployContracts, DEV_SETTLEMENT_TREASURY_INDEX } from "../../scripts/deploy-contracts.ts";
import {
  DevStablecoin__factory,
  GameItems__factory,
  ItemEscrow__factory,
  LicenseToken__factory,
  PayoutSettlement__factory,
  SplitFactory__factory,
  WorkRegistry__factory,
} from "../../types/typechain/index.ts";

export async function deployAll(conn: NetworkConnection) {
  const signers = await conn.ethers.getSigners();
  const [admin, relayer, arbiter, treasury, studio, creator, coCreator, buyer, buyer2, referrer] =
    signers as [HardhatEthersSigner, ...HardhatEthersSigner[]] as HardhatEthersSigner[];
  const settlementTreasury = signers[DEV_SETTLEMENT_TREASURY_INDEX]!;
  const deployment: Deployment = await deployContracts(
    admin!,
    {
      admin: admin!.address,
      relayer: relayer!.address,
      arbiter: arbiter!.address,
      treasury: treasury!.address,
      studio: studio!.address,
      revoker: relayer!.address,
    },
    { devTreasury: settlementTreasury },
  );
  const at = deployment.contracts;
  return {
    deployment,
    registry: WorkRegistry__factory.connect(at.WorkRegistry.address, creator),
    splits: SplitFactory__factory.connect(at.SplitFactory.address, creator),
    licenses: LicenseToken__factory.connect(at.LicenseToken.address, creator),
    items: GameItems__factory.connect(at.GameItems.address, studio),
    escrow: ItemEscrow__factory.connect(at.ItemEscrow.address, buyer),
    settlement: PayoutSettlement__factory.connect(at.PayoutSettlement.address, relayer),
    stablecoin: DevStablecoin__factory.connect(deployment.settlementToken, settlementTreasury),
    admin: admin!,
    relayer: relayer!,
    arbiter: arbiter!,
    treasury: treasury!,
    studio: studio!,
    creator: creator!,
    coCreator: coCreator!,
    buyer: buyer!,
    buyer2: buyer2!,
    referrer: referrer!,
    settlementTreasury,
  };
}

export type Deployed = Awaited<ReturnType<typeof deployAll>>;
