import type { Provider } from "ethers";
import type { Deployment } from "../../lib/deployment.ts";
import {
  IERC20Metadata__factory,
  PayoutSettlement__factory,
  type IERC20Metadata,
  type PayoutSettlement,
} from "../../types/typechain/index.ts";

/** The chain the API and workers talk to: its provider, id and the deployed contracts. */
export interface Chain {
  provider: Provider;
  chainId: number;
  deployment: Deployment;
  /** Pays settled card revenue to its payees; connected for reads, sent through the relayer. */
  payoutSettlement: PayoutSettlement;
  /** The stablecoin settlements pay in. */
  settlementToken: IERC20Metadata;
}

/** The chain of `deployment` through `provider`, its contracts connected for reads. */
export function connectChain(provider: Provider, chainId: number, deployment: Deployment): Chain {
  return {
    provider,
    chainId,
    deployment,
    payoutSettlement: PayoutSettlement__factory.connect(
      deployment.contracts.PayoutSettlement.address,
      provider,
    ),
    settlementToken: IERC20Metadata__factory.connect(deployment.settlementToken, provider),
  };
}
