import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { network } from "hardhat";
import { readDeployment, writeDeployment } from "../../lib/deployment.ts";
import { deployContracts } from "../../scripts/deploy-contracts.ts";
import {
  GameItems__factory,
  ItemEscrow__factory,
  LicenseToken__factory,
  WorkRegistry__factory,
} from "../../types/typechain/index.ts";

const run = promisify(execFile);

describe("deployment", function () {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "rl-deploy-"));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it("deploys every contract, grants each role to its holder and leaves the deployer no admin power", async () => {
    const { ethers } = await network.create();
    const [deployer, admin, relayer, arbiter, treasury, studio, revoker] = await ethers.getSigners();
    const roles = {
      admin: admin!.address,
      relayer: relayer!.address,
      arbiter: arbiter!.address,
      treasury: treasury!.address,
      studio: studio!.address,
      revoker: revoker!.address,
    };
    const deployment = await deployContracts(deployer!, roles, {
      platformFeeBps: 300,
      escrowCommissionBps: 150,
      confirmationWindowSeconds: 86_400,
      disputeWindowSeconds: 2 * 86_400,
      adminDelaySeconds: 3600,
    });
    const c = deployment.contracts;
    const registry = WorkRegistry__factory.connect(c.WorkRegistry.address, deployer);
    const licenses = LicenseToken__factory.connect(c.LicenseToken.address, deployer);
    const items = GameItems__factory.connect(c.GameItems.address, deployer);
    const escrow = ItemEscrow__factory.connect(c.ItemEscrow.address, deployer);

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
    for (const contract of [registry, licenses, items, escrow]) {
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
    for (const info of Object.values(c)) {
      expect(await ethers.provider.getCode(info.address)).to.not.equal("0x");
      const receipt = await ethers.provider.getTransactionReceipt(info.txHash);
      expect(receipt!.blockNumber).to.equal(info.blockNumber);
    }

    await writeDeployment(deployment, dir);
    expect(await readDeployment(deployment.chainId, dir)).to.deep.equal(deployment);
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
    const written = await readDeployment(31337, out);
    expect(written.roles.treasury).to.equal(holder);
    expect(written.roles.revoker, "the revoker defaults to the relayer").to.equal(written.roles.relayer);
    expect(Object.keys(written.contracts).sort()).to.deep.equal([
      "GameItems",
      "ItemEscrow",
      "LicenseToken",
      "SplitFactory",
      "WorkRegistry",
    ]);
  });
});
