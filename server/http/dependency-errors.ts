import type { Logger } from "pino";
import type { RpcSender } from "../../lib/evidence/rpc.ts";

export interface DependencyContext {
  requestId: string;
  logger: Logger;
}

/**
 * The chain's JSON-RPC as callers may see it fail: a dependency's error text can carry its URL,
 * and RPC URLs often carry API keys, so the text goes to the log and the caller reads a generic
 * message naming the request id that finds it there.
 */
export function guardedRpc(rpc: RpcSender, { requestId, logger }: DependencyContext): RpcSender {
  return {
    async send(method, params) {
      try {
        return await rpc.send(method, params);
      } catch (err) {
        logger.warn({ err, method, requestId }, "chain request failed");
        throw new Error(`the chain could not be reached (request ${requestId})`, { cause: err });
      }
    },
  };
}
