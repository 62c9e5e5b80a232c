import { Router } from "express";
import { z } from "zod";
import type { OpenApiRegistry } from "../http/openapi.ts";
import { route } from "../http/route.ts";
import { checksum } from "../../lib/address.ts";
import { devConfigSchema, type DevConfig } from "../../lib/api/dev.ts";

/** How many of the chain's unlocked development accounts the web app offers. */
const DEV_ACCOUNTS = 10;
const ROLES = ["admin", "relayer", "arbiter", "treasury", "studio"];

/**
 * What a browser wallet needs: reads, fee data, receipts, and the signing methods of the chain's
 * unlocked accounts. Nothing that changes the chain's clock, state or accounts (hardhat_*, evm_*).
 */
const ALLOWED_METHODS = new Set([
  "eth_accounts",
  "eth_blockNumber",
  "eth_call",
  "eth_chainId",
  "eth_estimateGas",
  "eth_feeHistory",
  "eth_gasPrice",
  "eth_getBalance",
  "eth_getBlockByHash",
  "eth_getBlockByNumber",
  "eth_getCode",
  "eth_getLogs",
  "eth_getTransactionByHash",
  "eth_getTransactionCount",
  "eth_getTransactionReceipt",
  "eth_maxPriorityFeePerGas",
  "eth_sendTransaction",
  "eth_signTypedData_v4",
  "net_version",
  "personal_sign",
]);

const rpcRequestSchema = z.object({
  jsonrpc: z.literal("2.0").default("2.0"),
  id: z.union([z.string(), z.number(), z.null()]).default(null),
  method: z.string().min(1).max(64),
  params: z.array(z.unknown()).max(8).default([]),
});

export interface DevRouteDeps {
  /** Sends one JSON-RPC request to the development chain; rejects with the node's error. */
  send(method: string, params: unknown[]): Promise<unknown>;
  chainId: number;
}

/**
 * Development and test only: the chain's unlocked accounts for the web app's account picker, and a
 * same-origin JSON-RPC proxy through which the browser signs with them.
 */
export function devRouter(deps: DevRouteDeps, registry: OpenApiRegistry): Router {
  const router = Router();

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/dev/config",
      summary: "Development chain and its unlocked accounts (not mounted in production)",
      tags: ["dev"],
      responses: {
        200: {
          description: "Chain and accounts",
          schema: devConfigSchema,
        },
      },
    },
    async (): Promise<DevConfig> => {
      const accounts = (await deps.send("eth_accounts", [])) as string[];
      return {
        chainId: deps.chainId,
        rpcUrl: "/v1/dev/rpc",
        accounts: accounts.slice(0, DEV_ACCOUNTS).map((address, index) => ({
          index,
          address: checksum(address)!,
          role: ROLES[index] ?? null,
        })),
      };
    },
  );

  route(
    router,
    registry,
    {
      method: "post",
      path: "/v1/dev/rpc",
      summary: "JSON-RPC to the development chain, limited to reads and the signing methods a wallet uses",
      tags: ["dev"],
      body: rpcRequestSchema,
      responses: { 200: { description: "JSON-RPC response (errors in its `error` member)" } },
    },
    async ({ body }) => {
      if (!ALLOWED_METHODS.has(body.method)) {
        return {
          jsonrpc: "2.0",
          id: body.id,
          error: { code: -32601, message: `method ${body.method} is not available through this proxy` },
        };
      }
      try {
        const result: unknown = await deps.send(body.method, body.params);
        return { jsonrpc: "2.0", id: body.id, result };
      } catch (err) {
        return { jsonrpc: "2.0", id: body.id, error: rpcError(err) };
      }
    },
  );

  return router;
}

/** The node's own error (code, message, revert data) from whatever ethers wrapped it in. */
function rpcError(err: unknown): { code: number; message: string; data?: unknown } {
  const wrapped = err as {
    error?: { code?: number; message?: string; data?: unknown };
    shortMessage?: string;
  };
  const inner = wrapped.error;
  if (inner && typeof inner.message === "string") {
    return { code: inner.code ?? -32603, message: inner.message, data: inner.data };
  }
  return {
    code: -32603,
    message: wrapped.shortMessage ?? (err instanceof Error ? err.message : String(err)),
  };
}
