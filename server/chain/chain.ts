import type { Provider } from "ethers";
import type { Deployment } from "../../lib/deployment.ts";

/** The chain the API and workers talk to: its provider, id and the deployed contracts. */
export interface Chain {
  provider: Provider;
  chainId: number;
  deployment: Deployment;
}
