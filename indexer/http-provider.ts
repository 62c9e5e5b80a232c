import {
  JsonRpcProvider,
  makeError,
  type JsonRpcApiProviderOptions,
  type JsonRpcPayload,
  type JsonRpcResult,
} from "ethers";

/**
 * An ethers JsonRpcProvider whose HTTP transport is Node's fetch. ethers' own transport decodes
 * response bodies with a JavaScript UTF-8 decoder, which costs more than everything else the
 * indexer does with a large eth_getLogs answer; fetch decodes and parses natively.
 */
export class FetchJsonRpcProvider extends JsonRpcProvider {
  constructor(
    private readonly url: string,
    options: JsonRpcApiProviderOptions = {},
  ) {
    super(url, undefined, { staticNetwork: true, batchStallTime: 0, ...options });
  }

  override async _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
    const response = await fetch(this.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(payload),
    });
    if (!response.ok) {
      throw makeError(`HTTP ${response.status} from the chain node`, "UNKNOWN_ERROR", {
        info: { status: response.status, body: await response.text() },
      });
    }
    const body = (await response.json()) as JsonRpcResult | JsonRpcResult[];
    return Array.isArray(body) ? body : [body];
  }
}
