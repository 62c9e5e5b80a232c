import { Router } from "express";
import { CONTRACT_NAMES, type Deployment } from "../../lib/deployment.ts";
import { chainSchema } from "../../lib/api/chain.ts";
import type { OpenApiRegistry } from "../http/openapi.ts";
import { route } from "../http/route.ts";
import { checksum } from "../../lib/address.ts";

/** The chain and contract addresses, for wallets that sign EIP-712 messages or build calls themselves. */
export function chainRouter(chainId: number, deployment: Deployment, registry: OpenApiRegistry): Router {
  const router = Router();
  // Built once: the answer never changes. Parsing types it as the contract says, at no cost per request.
  const answer = chainSchema.parse({
    chainId,
    contracts: Object.fromEntries(
      CONTRACT_NAMES.map((name) => [name, checksum(deployment.contracts[name].address)!]),
    ),
    settings: deployment.settings,
  });
  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/chain",
      summary: "The chain id, the platform's contract addresses and settings",
      tags: ["chain"],
      responses: { 200: { description: "Chain", schema: chainSchema } },
    },
    async ({ res }) => {
      res.setHeader("Cache-Control", "public, max-age=300");
      return answer;
    },
  );
  return router;
}
