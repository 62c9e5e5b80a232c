import { expect } from "chai";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { rangeErrorOf } from "../../indexer/chain.ts";
import { FetchJsonRpcProvider } from "../../lib/fetch-json-rpc-provider.ts";

type Call = { id: number; method: string; params: unknown[] };

describe("FetchJsonRpcProvider", () => {
  let server: Server;
  let url: string;
  let status = 200;
  const bodies: unknown[] = [];

  before(async () => {
    server = createServer((req, res) => {
      let text = "";
      req.on("data", (chunk: Buffer) => (text += chunk.toString()));
      req.on("end", () => {
        const body = JSON.parse(text) as Call | Call[];
        bodies.push(body);
        const answer = (call: Call) =>
          call.method === "eth_getLogs"
            ? {
                jsonrpc: "2.0",
                id: call.id,
                error: { code: -32005, message: "query returned more than 10000 results" },
              }
            : {
                jsonrpc: "2.0",
                id: call.id,
                result: call.method === "eth_chainId" ? "0x7a69" : `échoed ${call.params[0]}`,
              };
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(Array.isArray(body) ? body.map(answer) : answer(body)));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(() => {
    server.close();
  });

  it("sends JSON-RPC calls over fetch and returns their results, UTF-8 intact", async () => {
    const provider = new FetchJsonRpcProvider(url);
    expect(await provider.send("web3_clientVersion", ["ü"])).to.equal("échoed ü");
    provider.destroy();
  });

  it("batches calls made together into one request", async () => {
    const provider = new FetchJsonRpcProvider(url);
    bodies.length = 0;
    const results = await Promise.all([provider.send("a", [1]), provider.send("b", [2])]);
    expect(results).to.deep.equal(["échoed 1", "échoed 2"]);
    expect(bodies).to.have.length(1);
    expect((bodies[0] as Call[]).map((call) => call.method)).to.include.members(["a", "b"]);
    provider.destroy();
  });

  it("sends many calls as batches of 100 and returns each result in the order asked", async () => {
    const provider = new FetchJsonRpcProvider(url);
    bodies.length = 0;
    const calls = Array.from({ length: 250 }, (_, i) => ({ method: "eth_getBlockByNumber", params: [i] }));
    expect(await provider.sendBatch(calls)).to.deep.equal(calls.map((_, i) => `échoed ${i}`));
    expect(bodies.map((body) => (body as Call[]).length)).to.deep.equal([100, 100, 50]);
    provider.destroy();
  });

  it("fails a batch with the node's JSON-RPC error for any call of it", async () => {
    const provider = new FetchJsonRpcProvider(url);
    const error = await provider
      .sendBatch([
        { method: "eth_chainId", params: [] },
        { method: "eth_getLogs", params: [{}] },
      ])
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(rangeErrorOf(error)).to.not.equal(null);
    provider.destroy();
  });

  it("surfaces a node's JSON-RPC error so a too-large log range is recognised", async () => {
    const provider = new FetchJsonRpcProvider(url);
    const error = await provider.send("eth_getLogs", [{}]).then(
      () => null,
      (e: unknown) => e,
    );
    expect(rangeErrorOf(error)).to.not.equal(null);
    provider.destroy();
  });

  it("fails with the HTTP status when the node answers with an error page", async () => {
    const provider = new FetchJsonRpcProvider(url);
    status = 502;
    try {
      const error = await provider.send("eth_blockNumber", []).then(
        () => null,
        (e: unknown) => e as Error,
      );
      expect(error?.message).to.contain("HTTP 502 from the chain node");
    } finally {
      status = 200;
      provider.destroy();
    }
  });
});
