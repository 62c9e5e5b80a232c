import { network } from "hardhat";
import { JsonRpcProvider } from "ethers";
import { readDeployment, writeDeployment, type Deployment } from "../lib/deployment.ts";
import { deployContracts, DEV_SETTLEMENT_TREASURY_INDEX, settingsFromEnv } from "./deploy-contracts.ts";

const IDLE_BLOCK_MS = 2000;

export interface DevChain {
  url: string;
  chainId: number;
  deployment: Deployment;
  close(): Promise<void>;
}

async function deployedHere(
  provider: JsonRpcProvider,
  chainId: number,
  dir: string,
): Promise<Deployment | null> {
  try {
    const deployment = await readDeployment(chainId, dir);
    const code = await provider.getCode(deployment.contracts.WorkRegistry.address);
    return code === "0x" ? null : deployment;
  } catch {
    return null;
  }
}

/**
 * Serves an in-process Hardhat network over JSON-RPC (HTTP and WebSocket) on `host:port`, or uses
 * `rpcUrl` when given, and makes sure the contracts are deployed there (deploying them once with
 * the chain's unlocked development accounts 0–4 as admin, relayer, arbiter, treasury and studio, and
 * account 19 as the settlement treasury, funded with a development stablecoin), with the settings of
 * the same variables as `npm run deploy` (ESCROW_COMMISSION_BPS…).
 */
export async function startDevChain(options: {
  rpcUrl?: string;
  host?: string;
  port?: number;
  deploymentsDir?: string;
}): Promise<DevChain> {
  const dir = options.deploymentsDir ?? "deployments";
  let url = options.rpcUrl;
  let stopServer: () => Promise<void> = async () => {};
  if (!url) {
    const server = await network.createServer("default", options.host ?? "127.0.0.1", options.port ?? 8545);
    const { address, port } = await server.listen();
    url = `http://${address}:${port}`;
    stopServer = () => server.close();
  }
  const provider = new JsonRpcProvider(url, undefined, {
    staticNetwork: true,
    pollingInterval: 250,
    cacheTimeout: -1,
  });
  if (!options.rpcUrl) {
    // Blocks keep coming while idle, as on a live network, so confirmations advance (a card
    // payment is captured once its mint is confirmed).
    await provider.send("evm_setIntervalMining", [IDLE_BLOCK_MS]);
  }
  const chainId = Number((await provider.getNetwork()).chainId);
  let deployment = await deployedHere(provider, chainId, dir);
  if (!deployment) {
    const accounts = await provider.listAccounts();
    const needed = DEV_SETTLEMENT_TREASURY_INDEX + 1;
    if (accounts.length < needed)
      throw new Error(`${url} has ${accounts.length} unlocked accounts; ${needed} are needed to deploy`);
    const [admin, relayer, arbiter, treasury, studio] = accounts.map((a) => a.address);
    deployment = await deployContracts(
      accounts[0]!,
      {
        admin: admin!,
        relayer: relayer!,
        arbiter: arbiter!,
        treasury: treasury!,
        studio: studio!,
        revoker: relayer!,
      },
      { devTreasury: accounts[DEV_SETTLEMENT_TREASURY_INDEX]! },
      settingsFromEnv(process.env),
    );
    await writeDeployment(deployment, dir);
  }
  return {
    url,
    chainId,
    deployment,
    async close() {
      provider.destroy();
      await stopServer();
    },
  };
}
