import { readFile, writeFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";

/**
 * Names of the deployed contracts the indexer follows and the API lists, as they appear in a
 * deployment file. CodeCommitments is deployed too, but nothing mirrors it: the API reads its roots.
 */
export const CONTRACT_NAMES = [
  "WorkRegistry",
  "SplitFactory",
  "LicenseToken",
  "GameItems",
  "ItemEscrow",
  "PayoutSettlement",
] as const;
export type ContractName = (typeof CONTRACT_NAMES)[number];

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "an 0x-prefixed 20-byte address");
const hash = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "an 0x-prefixed 32-byte hash");

const deployedContract = z.object({
  address,
  blockNumber: z.number().int().nonnegative(),
  txHash: hash,
});

export const deploymentSchema = z.object({
  chainId: z.number().int().positive(),
  deployedAt: z.string(),
  contracts: z.object({
    WorkRegistry: deployedContract,
    SplitFactory: deployedContract,
    LicenseToken: deployedContract,
    GameItems: deployedContract,
    ItemEscrow: deployedContract,
    PayoutSettlement: deployedContract,
    /** Read by the API with view calls; not followed by the indexer (see CONTRACT_NAMES). */
    CodeCommitments: deployedContract,
  }),
  /** The stablecoin card revenue is settled in (a development chain's own DevStablecoin, or a real one). */
  settlementToken: address,
  roles: z.object({
    admin: address,
    relayer: address,
    arbiter: address,
    treasury: address,
    studio: address,
    revoker: address,
    /** Pays settlements: holds the stablecoin and approves PayoutSettlement for it. */
    settlementTreasury: address,
  }),
  settings: z.object({
    platformFeeBps: z.number().int().min(0).max(10_000),
    escrowCommissionBps: z.number().int().min(0).max(10_000),
    confirmationWindowSeconds: z.number().int().positive(),
    disputeWindowSeconds: z.number().int().positive(),
    adminDelaySeconds: z.number().int().nonnegative(),
  }),
});

export type Deployment = z.infer<typeof deploymentSchema>;
export type DeployedContract = z.infer<typeof deployedContract>;

/** Where the deployment of a chain is kept. */
export function deploymentPath(chainId: number | bigint, dir = "deployments"): string {
  return path.join(dir, `${chainId}.json`);
}

/** Reads and validates `deployments/<chainId>.json`. */
export async function readDeployment(chainId: number | bigint, dir = "deployments"): Promise<Deployment> {
  const file = deploymentPath(chainId, dir);
  let raw: string;
  try {
    raw = await readFile(file, "utf8");
  } catch {
    throw new Error(`no deployment for chain ${chainId}: ${file} is missing (run npm run deploy)`);
  }
  const parsed = deploymentSchema.safeParse(JSON.parse(raw));
  if (!parsed.success) {
    throw new Error(`${file} is not a valid deployment: ${parsed.error.issues[0]?.message ?? "invalid"}`);
  }
  return parsed.data;
}

/** Writes a deployment file, creating its directory. */
export async function writeDeployment(deployment: Deployment, dir = "deployments"): Promise<string> {
  const file = deploymentPath(deployment.chainId, dir);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(deploymentSchema.parse(deployment), null, 2) + "\n");
  return file;
}

/** The lowest block any deployed contract was created in: where indexing starts. */
export function firstDeployBlock(deployment: Deployment): number {
  return Math.min(...Object.values(deployment.contracts).map((c) => c.blockNumber));
}
