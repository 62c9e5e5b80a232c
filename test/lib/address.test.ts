import { expect } from "chai";
import { getAddress, hexlify, randomBytes } from "ethers";
import { checksum, checksumAll } from "../../lib/address.ts";

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

describe("checksumAll", () => {
  it("gives each address's EIP-55 form as ethers does, by the address as given", async () => {
    const lower = Array.from({ length: 2_000 }, () => hexlify(randomBytes(20)));
    const given = [...lower, ...lower.slice(0, 10), ...lower.slice(0, 10).map((a) => getAddress(a))];
    given.push(`0x${lower[0]!.slice(2).toUpperCase()}`);
    const shown = await checksumAll(given);
    for (const address of given) expect(shown.get(address)).to.equal(getAddress(address));
    expect(shown.size).to.equal(lower.length + 11);
  });

  it("refuses what is no address and a mixed-case address whose checksum is wrong", async () => {
    const wrong = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD";
    for (const bad of ["0x1234", `0x${"g".repeat(40)}`, wrong]) {
      await checksumAll([bad]).then(
        () => expect.fail(`${bad} was accepted`),
        (err: Error) => expect(err).to.be.instanceOf(Error),
      );
    }
  });
});
