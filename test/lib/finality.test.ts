import { expect } from "chai";
import fc from "fast-check";
import { finalityOf, headsOf, NO_HEADS } from "../../lib/finality.ts";

describe("finalityOf", () => {
  const heads = { head: 100, safe: 90, finalized: 80 };

  it("calls a block at or below the finalized head final", () => {
    expect(finalityOf(80, heads)).to.equal("final");
    expect(finalityOf(0, heads)).to.equal("final");
  });

  it("calls a block above finalized and at or below safe safe", () => {
    expect(finalityOf(81, heads)).to.equal("safe");
    expect(finalityOf(90, heads)).to.equal("safe");
  });

  it("calls a block above the safe head pending", () => {
    expect(finalityOf(91, heads)).to.equal("pending");
    expect(finalityOf(150, heads)).to.equal("pending");
  });

  it("accepts block numbers as bigint and decimal strings (as PostgreSQL returns int8)", () => {
    expect(finalityOf(80n, heads)).to.equal("final");
    expect(finalityOf("85", heads)).to.equal("safe");
  });

  it("rejects a negative or non-integer block number", () => {
    expect(() => finalityOf(-1, heads)).to.throw("invalid block number");
    expect(() => finalityOf("abc", heads)).to.throw("invalid block number");
  });

  it("never calls a later block more settled than an earlier one", () => {
    const rank = { final: 2, safe: 1, pending: 0 } as const;
    fc.assert(
      fc.property(fc.nat(1000), fc.nat(1000), fc.nat(1000), fc.nat(1000), (finalized, gap, a, b) => {
        const h = { head: finalized + gap + 10, safe: finalized + gap, finalized };
        const [low, high] = a <= b ? [a, b] : [b, a];
        expect(rank[finalityOf(low, h)]).to.be.at.least(rank[finalityOf(high, h)]);
      }),
    );
  });
});

describe("headsOf", () => {
  it("reads heads stored as decimal strings, and calls nothing safe before the indexer has a head", () => {
    expect(headsOf({ head: "120", safe: "110", finalized: "100" })).to.deep.equal({
      head: 120,
      safe: 110,
      finalized: 100,
    });
    const none = headsOf({ head: null, safe: null, finalized: null });
    expect(none).to.deep.equal(NO_HEADS);
    expect(finalityOf(0, none)).to.equal("pending");
  });
});
