import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { network } from "hardhat";
import { Interface, MaxUint256, Wallet } from "ethers";
import { readDeployment, writeDeployment } from "../../lib/deployment.ts";
import {
  deployContracts,
  DEV_SETTLEMENT_TREASURY_INDEX,
  DEV_TREASURY_FUNDS,
  type DeployRoles,
} from "../../scripts/deploy-contracts.ts";
import { settlementSetupFromEnv, treasuryApproval } from "../../scripts/settlement-setup.ts";
import {
  DevStablecoin__factory,
  GameItems__factory,
  IERC20Metadata__factory,
  ItemEscrow__factory,
  LicenseToken__factory,
  PayoutSettlement__factory,
  CodeCommitments__factory,
  WorkRegistry__factory,
} from "../../types/typechain/index.ts";

const run = promisify(execFile);

/** Every platform role held by one account. */
function everyRole(address: string): DeployRoles {
  return {
    admin: address,
    relayer: address,
    arbiter: address,
    treasury: address,
    studio: address,
    revoker: address,
  };
}

describe("deployment", function () {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "rl-deploy-"));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it("deploys every contract, grants each role to its holder and leaves the deployer no admin power", async () => {
    const { ethers } = await network.create();
    const signers = await ethers.getSigners();
    const [deployer, admin, relayer, arbiter, treasury, studio, revoker] = signers;
    const settlementTreasury = signers[DEV_SETTLEMENT_TREASURY_INDEX]!;
    const roles = {
      admin: admin!.address,
      relayer: relayer!.address,
      arbiter: arbiter!.address,
      treasury: treasury!.address,
      studio: studio!.address,
      revoker: revoker!.address,
    };
    const deployment = await deployContracts(
      deployer!,
      roles,
      { devTreasury: settlementTreasury },
      {
        platformFeeBps: 300,
        escrowCommissionBps: 150,
        confirmationWindowSeconds: 86_400,
        disputeWindowSeconds: 2 * 86_400,
        adminDelaySeconds: 3600,
      },
    );
    const c = deployment.contracts;
    const registry = WorkRegistry__factory.connect(c.WorkRegistry.address, deployer);
    const licenses = LicenseToken__factory.connect(c.LicenseToken.address, deployer);
    const items = GameItems__factory.connect(c.GameItems.address, deployer);
    const escrow = ItemEscrow__factory.connect(c.ItemEscrow.address, deployer);
    const settlement = PayoutSettlement__factory.connect(c.PayoutSettlement.address, deployer);
    const codes = CodeCommitments__factory.connect(c.CodeCommitments.address, deployer);
    const token = IERC20Metadata__factory.connect(deployment.settlementToken, deployer);

    expect(await registry.hasRole(await registry.REGISTRAR_ROLE(), relayer!.address)).to.equal(true);
    expect(await licenses.hasRole(await licenses.MINTER_ROLE(), relayer!.address)).to.equal(true);
    expect(await items.hasRole(await items.MINTER_ROLE(), studio!.address)).to.equal(true);
    expect(await escrow.arbiter()).to.equal(arbiter!.address);
    expect(await escrow.isItemToken(c.GameItems.address)).to.equal(true);
    expect(await licenses.hasRole(await licenses.REVOKER_ROLE(), revoker!.address)).to.equal(true);
    expect(await licenses.hasRole(await licenses.REVOKER_ROLE(), admin!.address)).to.equal(false);
    for (const contract of [licenses, escrow]) {
      expect(await contract.defaultAdmin()).to.equal(admin!.address);
      expect(await contract.defaultAdminDelay()).to.equal(3600n);
    }
    expect(await settlement.hasRole(await settlement.SETTLER_ROLE(), relayer!.address)).to.equal(true);
    expect(await settlement.hasRole(await settlement.SETTLER_ROLE(), admin!.address)).to.equal(false);
    expect(await codes.hasRole(await codes.COMMITTER_ROLE(), relayer!.address)).to.equal(true);
    expect(await codes.hasRole(await codes.COMMITTER_ROLE(), admin!.address)).to.equal(false);
    for (const contract of [registry, licenses, items, escrow, settlement, codes]) {
      const adminRole = await contract.DEFAULT_ADMIN_ROLE();
      expect(await contract.hasRole(adminRole, admin!.address)).to.equal(true);
      expect(await contract.hasRole(adminRole, deployer!.address)).to.equal(false);
    }
    expect(await licenses.platformFeeBps()).to.equal(300n);
    expect(await licenses.treasury()).to.equal(treasury!.address);
    expect(await escrow.commissionBps()).to.equal(150n);
    expect(await escrow.confirmationWindow()).to.equal(86_400n);
    expect(await escrow.disputeWindow()).to.equal(2n * 86_400n);
    expect(await licenses.splitFactory()).to.equal(c.SplitFactory.address);
    expect(await licenses.registry()).to.equal(c.WorkRegistry.address);
    expect(await settlement.token()).to.equal(deployment.settlementToken);
    expect(await settlement.treasury()).to.equal(settlementTreasury.address);
    expect(deployment.roles.settlementTreasury).to.equal(settlementTreasury.address);
    expect(await token.decimals()).to.equal(6n);
    expect(await token.balanceOf(settlementTreasury.address)).to.equal(DEV_TREASURY_FUNDS);
    expect(await token.allowance(settlementTreasury.address, c.PayoutSettlement.address)).to.equal(
      MaxUint256,
    );
    for (const info of Object.values(c)) {
      expect(await ethers.provider.getCode(info.address)).to.not.equal("0x");
      const receipt = await ethers.provider.getTransactionReceipt(info.txHash);
      expect(receipt!.blockNumber).to.equal(info.blockNumber);
    }

    await writeDeployment(deployment, dir);
    expect(await readDeployment(deployment.chainId, dir)).to.deep.equal(deployment);
  });

  it("settles in a named token from a named treasury, minting and approving nothing on its behalf", async () => {
    const { ethers } = await network.create();
    const [deployer, holder] = await ethers.getSigners();
    const stablecoin = await new DevStablecoin__factory(deployer).deploy();
    const tokenAddress = await stablecoin.getAddress();
    const treasury = Wallet.createRandom().address;
    const supply = await stablecoin.totalSupply();
    const roles = everyRole(holder!.address);

    const deployment = await deployContracts(deployer!, roles, { token: tokenAddress, treasury });

    const settlement = PayoutSettlement__factory.connect(
      deployment.contracts.PayoutSettlement.address,
      deployer,
    );
    expect(deployment.settlementToken).to.equal(tokenAddress);
    expect(deployment.roles.settlementTreasury).to.equal(treasury);
    expect(await settlement.token()).to.equal(tokenAddress);
    expect(await settlement.treasury()).to.equal(treasury);
    expect(await stablecoin.totalSupply()).to.equal(supply);
    expect(await stablecoin.allowance(treasury, await settlement.getAddress())).to.equal(0n);
  });

  it("refuses a settlement token without code, and a development stablecoin on any chain but Hardhat's", async () => {
    const { ethers } = await network.create();
    const [deployer] = await ethers.getSigners();
    const roles = everyRole(deployer!.address);
    const nowhere = Wallet.createRandom().address;
    const noCode = await deployContracts(deployer!, roles, { token: nowhere, treasury: nowhere }).catch(
      (err: Error) => err,
    );
    expect((noCode as Error).message).to.equal(`the settlement token ${nowhere} has no code on chain 31337`);

    const other = await network.create({ override: { chainId: 8453 } });
    const [otherDeployer, otherTreasury] = await other.ethers.getSigners();
    const invented = await deployContracts(otherDeployer!, roles, { devTreasury: otherTreasury! }).catch(
      (err: Error) => err,
    );
    expect((invented as Error).message).to.match(
      /development stablecoin is deployed only on chain 31337, not 8453/,
    );
    expect(await other.ethers.provider.getTransactionCount(otherDeployer!.address)).to.equal(0);
  });

  it("takes the settlement token and treasury from SETTLEMENT_TOKEN and SETTLEMENT_TREASURY, required outside Hardhat's chain", async () => {
    const { ethers } = await network.create();
    const signers = await ethers.getSigners();
    const token = "0x000000000000000000000000000000000000beef";
    const treasury = "0x000000000000000000000000000000000000dEaD";
    const fail = (promise: Promise<unknown>) =>
      promise.then(
        () => null,
        (err: Error) => err.message,
      );

    expect(
      await settlementSetupFromEnv({ SETTLEMENT_TOKEN: token, SETTLEMENT_TREASURY: treasury }, 1, []),
    ).to.deep.equal({
      token,
      treasury,
    });
    expect(await fail(settlementSetupFromEnv({}, 1, signers))).to.match(
      /SETTLEMENT_TOKEN is required on chain 1/,
    );
    expect(await fail(settlementSetupFromEnv({ SETTLEMENT_TOKEN: token }, 31337, signers))).to.match(
      /SETTLEMENT_TREASURY is required with SETTLEMENT_TOKEN/,
    );
    expect(await fail(settlementSetupFromEnv({ SETTLEMENT_TOKEN: "usdc" }, 1, signers))).to.match(
      /SETTLEMENT_TOKEN must be an address, got "usdc"/,
    );
    expect(await fail(settlementSetupFromEnv({ SETTLEMENT_TREASURY: treasury }, 31337, signers))).to.match(
      /SETTLEMENT_TREASURY 0x0+dEaD is not an account of this network/,
    );
    expect(await settlementSetupFromEnv({}, 31337, signers)).to.deep.equal({
      devTreasury: signers[DEV_SETTLEMENT_TREASURY_INDEX],
    });
    expect(
      await settlementSetupFromEnv({ SETTLEMENT_TREASURY: signers[7]!.address }, 31337, signers),
    ).to.deep.equal({ devTreasury: signers[7] });
  });

  it("spells out the treasury's approval of the settlement contract for everything", () => {
    const token = "0x000000000000000000000000000000000000bEEF";
    const settlement = "0x000000000000000000000000000000000000c0DE";
    const approval = treasuryApproval(token, settlement);
    const erc20 = new Interface(["function approve(address spender, uint256 amount) returns (bool)"]);
    expect(approval.to).to.equal(token);
    expect(erc20.decodeFunctionData("approve", approval.data).toArray()).to.deep.equal([
      settlement,
      MaxUint256,
    ]);
    expect(approval.call).to.equal(`approve(${settlement}, ${MaxUint256})`);
  });

  it("rejects a missing deployment file with a message naming it", async () => {
    const missing = await readDeployment(999, dir).catch((err: Error) => err);
    expect((missing as Error).message).to.match(/no deployment for chain 999: .*999\.json is missing/);
  });

  it("runs as a script that writes deployments/<chainId>.json with the role holders from the environment", async () => {
    const out = path.join(dir, "script");
    const holder = "0x000000000000000000000000000000000000dEaD";
    const { stdout } = await run("npx", ["hardhat", "run", "scripts/deploy.ts"], {
      env: {
        ...process.env,
        DEPLOYMENTS_DIR: out,
        DEPLOY_TREASURY: holder,
        HARDHAT_DISABLE_TELEMETRY_PROMPT: "true",
      },
    });
    expect(stdout).to.match(/WorkRegistry\s+0x[0-9a-fA-F]{40}/);
    expect(stdout).to.not.match(/must now approve/);
    const written = await readDeployment(31337, out);
    expect(written.roles.treasury).to.equal(holder);
    expect(written.roles.revoker, "the revoker defaults to the relayer").to.equal(written.roles.relayer);
    expect(Object.keys(written.contracts).sort()).to.deep.equal([
      "CodeCommitments",
      "GameItems",
      "ItemEscrow",
      "LicenseToken",
      "PayoutSettlement",
      "SplitFactory",
      "WorkRegistry",
    ]);
    expect(written.roles.settlementTreasury, "account 19 holds the development stablecoin").to.equal(
      "0x8626f6940E2eb28930eFb4CeF49B2d1F2C9C1199",
    );
  });

  it("stops before deploying anything when SETTLEMENT_TOKEN names no contract, writing no deployment file", async () => {
    const out = path.join(dir, "no-token");
    const failure = await run("npx", ["hardhat", "run", "scripts/deploy.ts"], {
      env: {
        ...process.env,
        DEPLOYMENTS_DIR: out,
        SETTLEMENT_TOKEN: "0x000000000000000000000000000000000000bEEF",
        SETTLEMENT_TREASURY: "0x000000000000000000000000000000000000dEaD",
        HARDHAT_DISABLE_TELEMETRY_PROMPT: "true",
      },
    }).then(
      () => null,
      (err: { stderr: string; code: number }) => err,
    );
    expect(failure, "the script fails").to.not.equal(null);
    expect(failure!.stderr).to.match(/the settlement token 0x0+bEEF has no code on chain 31337/);
    const missing = await readDeployment(31337, out).catch((err: Error) => err);
    expect(missing).to.be.instanceOf(Error);
  });
});
