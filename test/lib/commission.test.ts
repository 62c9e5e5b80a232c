import { expect } from "chai";
import fc from "fast-check";
import { formatBps, MAX_COMMISSION_BPS, splitPrice } from "../../lib/commission.ts";

describe("commission arithmetic", () => {
  it("splits every price into a commission rounded down and the rest to the seller", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 96n - 1n }),
        fc.integer({ min: 0, max: 10_000 }),
        (price, bps) => {
          const { commission, sellerReceives } = splitPrice(price, bps);
          expect(commission + sellerReceives).to.equal(price);
          expect(commission * 10_000n <= price * BigInt(bps)).to.equal(true);
          expect((commission + 1n) * 10_000n > price * BigInt(bps)).to.equal(true);
        },
      ),
    );
  });

  it("takes 15% at the escrow's cap, and nothing at zero", () => {
    expect(MAX_COMMISSION_BPS).to.equal(1500);
    expect(splitPrice(1_000_000n, 1500)).to.deep.equal({
      price: 1_000_000n,
      commission: 150_000n,
      sellerReceives: 850_000n,
    });
    expect(splitPrice(999n, 250).commission, "24.975 rounds down").to.equal(24n);
    expect(splitPrice(5n, 0).sellerReceives).to.equal(5n);
  });

  it("refuses negative prices and commissions outside 0–10,000 basis points", () => {
    expect(() => splitPrice(-1n, 250)).to.throw(RangeError);
    expect(() => splitPrice(1n, 10_001)).to.throw(RangeError);
    expect(() => splitPrice(1n, 2.5)).to.throw(RangeError);
  });

  it("shows basis points as a percentage", () => {
    expect([formatBps(1500), formatBps(250), formatBps(0), formatBps(1)]).to.deep.equal([
      "15%",
      "2.5%",
      "0%",
      "0.01%",
    ]);
  });
});
