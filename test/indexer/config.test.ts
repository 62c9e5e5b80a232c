import { expect } from "chai";
import { loadConfig } from "../../indexer/config.ts";

const DATABASE_URL = "postgres://postgres@127.0.0.1:5432/rights";

describe("indexer configuration", () => {
  it("fills defaults around the required database URL", () => {
    const config = loadConfig({ DATABASE_URL });
    expect(config).to.include({
      databaseUrl: DATABASE_URL,
      chainRpcUrl: "http://127.0.0.1:8545",
      finality: "tags",
      confirmations: 64,
      safeConfirmations: 32,
      metricsPort: 9464,
    });
    expect(config.startBlock).to.equal(undefined);
  });

  it("reads numbers, the finality mode and a WebSocket RPC URL", () => {
    const config = loadConfig({
      DATABASE_URL,
      CHAIN_RPC_URL: "ws://127.0.0.1:8546",
      INDEXER_START_BLOCK: "120",
      INDEXER_FINALITY: "depth",
      INDEXER_CONFIRMATIONS: "10",
      INDEXER_SAFE_CONFIRMATIONS: "3",
      INDEXER_METRICS_PORT: "9100",
    });
    expect(config).to.include({
      chainRpcUrl: "ws://127.0.0.1:8546",
      startBlock: 120,
      finality: "depth",
      confirmations: 10,
      safeConfirmations: 3,
      metricsPort: 9100,
    });
  });

  it("stops on a missing database URL with one line naming it", () => {
    expect(() => loadConfig({})).to.throw(
      /^invalid configuration: DATABASE_URL is missing \(must be a postgres:\/\/ URL\)$/,
    );
  });

  it("names the variable and the value of a malformed setting", () => {
    expect(() => loadConfig({ DATABASE_URL, INDEXER_CONFIRMATIONS: "ten" })).to.throw(
      'invalid configuration: INDEXER_CONFIRMATIONS must be an integer (got "ten")',
    );
    expect(() => loadConfig({ DATABASE_URL, CHAIN_RPC_URL: "ftp://node" })).to.throw(
      'invalid configuration: CHAIN_RPC_URL must be an http(s):// or ws(s):// URL (got "ftp://node")',
    );
    expect(() => loadConfig({ DATABASE_URL, INDEXER_FINALITY: "soon" })).to.throw(
      'invalid configuration: INDEXER_FINALITY must be "tags" or "depth" (got "soon")',
    );
  });

  it("rejects a safe depth beyond the finality depth", () => {
    expect(() =>
      loadConfig({ DATABASE_URL, INDEXER_CONFIRMATIONS: "5", INDEXER_SAFE_CONFIRMATIONS: "6" }),
    ).to.throw("INDEXER_SAFE_CONFIRMATIONS (6) exceeds INDEXER_CONFIRMATIONS (5)");
  });
});
