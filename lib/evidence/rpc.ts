/** Anything that answers raw JSON-RPC calls: an ethers JsonRpcProvider, a Hardhat provider, {@link httpRpc}. */
export interface RpcSender {
  send(method: string, params: unknown[]): Promise<unknown>;
}

/** A minimal JSON-RPC client over HTTP(S): one request per call, a timeout, no retries or polling. */
export function httpRpc(url: string, timeoutMs = 15_000): RpcSender {
  let id = 0;
  return {
    async send(method, params) {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!response.ok) throw new Error(`${url} answered HTTP ${response.status} to ${method}`);
      const body = (await response.json()) as { result?: unknown; error?: { message?: string } };
      if (body.error) throw new Error(`${method} failed: ${body.error.message ?? "unknown error"}`);
      return body.result;
    },
  };
}
