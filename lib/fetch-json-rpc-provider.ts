import {
  JsonRpcProvider,
  makeError,
  type JsonRpcApiProviderOptions,
  type JsonRpcPayload,
  type JsonRpcResult,
} from "ethers";

/** One JSON-RPC call of a batch. */
export interface RpcCall {
  method: string;
  params: unknown[];
}

/** Calls in one HTTP request of `sendBatch`; public nodes refuse larger batches. */
const BATCH_SIZE = 100;

type RpcAnswer = { id: number; result?: unknown; error?: { code: number; message: string } };

/**
 * An ethers JsonRpcProvider whose HTTP transport is Node's fetch, for the indexer and the server
 * alike. ethers' own transport decodes response bodies with a JavaScript UTF-8 decoder, which costs
 * more than everything else the indexer does with a large eth_getLogs answer, and a good share of
 * a worker's time in a burst of mints; fetch decodes and parses natively.
 */
export class FetchJsonRpcProvider extends JsonRpcProvider {
  #nextId = 1;

  constructor(
    private readonly url: string,
    options: JsonRpcApiProviderOptions = {},
  ) {
    super(url, undefined, { staticNetwork: true, batchStallTime: 0, ...options });
  }

  async #post<T>(payload: unknown): Promise<T> {
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
    return (await response.json()) as T;
  }

  override async _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
    const body = await this.#post<JsonRpcResult | JsonRpcResult[]>(payload);
    return Array.isArray(body) ? body : [body];
  }

  /**
   * Sends `calls` as JSON-RPC batches of 100, concurrently, and returns their results in order.
   * ethers' own batching serialises the whole batch again for every call it adds, which costs more
   * than the calls when the indexer asks for thousands of block headers.
   */
  async sendBatch(calls: RpcCall[]): Promise<unknown[]> {
    const chunks: { id: number; call: RpcCall }[][] = [];
    for (let i = 0; i < calls.length; i += BATCH_SIZE) {
      chunks.push(calls.slice(i, i + BATCH_SIZE).map((call) => ({ id: this.#nextId++, call })));
    }
    const answered = await Promise.all(
      chunks.map(async (chunk) => {
        const body = await this.#post<RpcAnswer | RpcAnswer[]>(
          chunk.map(({ id, call }) => ({ jsonrpc: "2.0", id, method: call.method, params: call.params })),
        );
        const byId = new Map((Array.isArray(body) ? body : [body]).map((answer) => [answer.id, answer]));
        return chunk.map(({ id, call }) => {
          const answer = byId.get(id);
          if (!answer) {
            throw makeError(`the chain node left ${call.method} unanswered in a batch`, "UNKNOWN_ERROR", {
              info: { payload: call },
            });
          }
          if (answer.error) {
            throw makeError(`${call.method}: ${answer.error.message}`, "UNKNOWN_ERROR", {
              info: { error: answer.error, payload: call },
            });
          }
          return answer.result;
        });
      }),
    );
    return answered.flat();
  }
}
