import { expect } from "chai";
import {
  chainChangesChannel,
  noChangedKeys,
  parseChainChange,
  type ChainChange,
} from "../../lib/chain-changes.ts";

describe("chain change messages", () => {
  const keys = {
    ...noChangedKeys(),
    workIds: ["1"],
    accounts: ["0xabc0000000000000000000000000000000000001"],
  };

  it("names the channel after the key prefix", () => {
    expect(chainChangesChannel("rl")).to.equal("rl:chain:changes");
  });

  it("parses an indexed-range message back to what was published", () => {
    const change: ChainChange = {
      kind: "indexed",
      chainId: 31337,
      fromBlock: 5,
      toBlock: 9,
      events: 3,
      truncated: false,
      keys,
      heads: { head: 9, safe: 5, finalized: 1 },
    };
    expect(parseChainChange(JSON.stringify(change))).to.deep.equal(change);
  });

  it("returns null for text that is not JSON or not a change", () => {
    expect(parseChainChange("not json")).to.equal(null);
    expect(parseChainChange(JSON.stringify({ kind: "indexed", chainId: 1 }))).to.equal(null);
  });
});
