import { expect } from "chai";
import {
  createChainClient,
  isRpcRejection,
  ProviderDataError,
  RangeTooLargeError,
  rangeErrorOf,
} from "../../indexer/chain.ts";

describe("chain client", () => {
  describe("rangeErrorOf", () => {
    it("recognises result-count and range-width refusals of common providers", () => {
      for (const message of [
        "query returned more than 10000 results",
        "eth_getLogs block range is too large, max is 2000",
        "Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range",
        "limit exceeded",
        "exceed maximum block range: 5000",
      ]) {
        expect(rangeErrorOf({ code: -32000, message }), message).to.be.instanceOf(RangeTooLargeError);
      }
    });

    it("finds the message inside an ethers error wrapping the JSON-RPC error", () => {
      const error = {
        code: "UNKNOWN_ERROR",
        error: { code: -32005, message: "query returned more than 10000 results" },
      };
      expect(rangeErrorOf(error)).to.be.instanceOf(RangeTooLargeError);
    });

    it("takes the range size a provider suggests", () => {
      const error = {
        code: -32005,
        message: "query returned more than 10000 results. Try with this block range [0x10, 0x2f].",
      };
      expect(rangeErrorOf(error)?.suggestedSize).to.equal(32);
    });

    it("leaves other failures alone", () => {
      expect(rangeErrorOf(new Error("connect ECONNREFUSED 127.0.0.1:8545"))).to.equal(null);
      expect(rangeErrorOf({ code: -32601, message: "method not found" })).to.equal(null);
    });
  });

  it("tells a JSON-RPC rejection from a transport failure", () => {
    expect(isRpcRejection({ code: -32602, message: "invalid block tag" })).to.equal(true);
    expect(isRpcRejection({ code: "SERVER_ERROR", error: { code: -32000 } })).to.equal(true);
    expect(isRpcRejection(new Error("socket hang up"))).to.equal(false);
  });

  it("rejects a log with a malformed field as provider data, not as an event", async () => {
    const client = createChainClient({
      send: async () => [{ blockNumber: "12", blockHash: "0x01", transactionHash: "0x02", topics: [] }],
    });
    const error = await client.logs(1, 2, ["0x0000000000000000000000000000000000000001"]).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(ProviderDataError);
    expect((error as Error).message).to.contain("log.blockNumber is not a hex quantity");
  });

  it("splits a long address list over several log queries and merges them in chain order", async () => {
    const calls: string[][] = [];
    const log = (block: number, index: number, address: string) => ({
      blockNumber: `0x${block.toString(16)}`,
      blockHash: `0x${"ab".repeat(32)}`,
      transactionHash: `0x${"cd".repeat(32)}`,
      transactionIndex: "0x0",
      logIndex: `0x${index.toString(16)}`,
      address,
      topics: [],
      data: "0x",
      removed: false,
    });
    const client = createChainClient({
      send: async (_method, params) => {
        const { address } = params[0] as { address: string[] };
        calls.push(address);
        return calls.length === 1 ? [log(5, 1, address[0]!)] : [log(3, 0, address[0]!)];
      },
    });
    const addresses = Array.from({ length: 700 }, (_, i) => `0x${(i + 1).toString(16).padStart(40, "0")}`);
    const logs = await client.logs(1, 10, addresses);
    expect(calls.map((c) => c.length)).to.deep.equal([500, 200]);
    expect(logs.map((l) => l.blockNumber)).to.deep.equal([3, 5]);
  });

  it("asks a provider that batches for many headers in one call, null for blocks it lacks", async () => {
    const batches: unknown[][] = [];
    const header = (n: number) => ({
      number: `0x${n.toString(16)}`,
      hash: `0x${n.toString(16).padStart(64, "0")}`,
      parentHash: `0x${(n - 1).toString(16).padStart(64, "0")}`,
      timestamp: `0x${(1000 + n).toString(16)}`,
    });
    const client = createChainClient({
      send: async () => expect.fail("headers go through sendBatch"),
      sendBatch: async (calls) => {
        batches.push(calls.map((c) => c.params[0]));
        return calls.map((c) => (c.params[0] === "0x9" ? null : header(Number(c.params[0]))));
      },
    });
    const headers = await client.headers([7, 8, 9]);
    expect(batches).to.deep.equal([["0x7", "0x8", "0x9"]]);
    expect(headers.map((h) => h?.timestamp ?? null)).to.deep.equal([1007, 1008, null]);
  });

  it("refuses a malformed header in a batch as provider data", async () => {
    const client = createChainClient({
      send: async () => null,
      sendBatch: async (calls) => calls.map(() => ({ number: "12", hash: "0x01", parentHash: "0x00" })),
    });
    const error = await client.headers([1, 2]).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(ProviderDataError);
  });
});
