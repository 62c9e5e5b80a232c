import { expect } from "chai";
import { getAddress, hexlify, randomBytes } from "ethers";
import { checksum } from "../../lib/address.ts";

describe("checksum", () => {
  it("shows addresses in EIP-55 form, the same every time, however many it has shown", () => {
    const addresses = Array.from({ length: 12_000 }, () => hexlify(randomBytes(20)));
    for (const address of [...addresses, ...addresses.slice(0, 100), ...addresses.slice(-100)])
      expect(checksum(address)).to.equal(getAddress(address));
    expect(checksum("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed")).to.equal(
      "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    );
    expect(checksum(null)).to.equal(null);
  });

  it("refuses what is no address, every time", () => {
    for (let i = 0; i < 2; i++) expect(() => checksum("0x1234")).to.throw();
  });
});
