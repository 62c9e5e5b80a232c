import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { CodeCipher, CodeSealError } from "../../server/codes/code-cipher.ts";
import { entropyBits, generateCode, generateCodes } from "../../server/codes/generate.ts";

describe("redemption code sealing and generation", () => {
  const cipher = new CodeCipher(randomBytes(32));

  it("opens a sealed code under its offer and digest, and refuses it moved to another offer or altered", () => {
    const sealed = cipher.seal("7", "KEY-ABCD-1234");
    expect(cipher.open("7", sealed.digest, sealed.sealed)).to.equal("KEY-ABCD-1234");
    expect(() => cipher.open("8", sealed.digest, sealed.sealed)).to.throw(CodeSealError);
    const altered = Buffer.from(sealed.sealed);
    altered[14]! ^= 1;
    expect(() => cipher.open("7", sealed.digest, altered)).to.throw(CodeSealError);
    expect(() => new CodeCipher(randomBytes(32)).open("7", sealed.digest, sealed.sealed)).to.throw(
      CodeSealError,
    );
  });

  it("gives equal codes of one offer equal digests, under a key: another key or offer gives another", () => {
    expect(cipher.digest("7", "A")).to.deep.equal(cipher.digest("7", "A"));
    expect(cipher.digest("7", "A")).to.not.deep.equal(cipher.digest("8", "A"));
    expect(new CodeCipher(randomBytes(32)).digest("7", "A")).to.not.deep.equal(cipher.digest("7", "A"));
    expect(cipher.seal("7", "A").sealed).to.not.deep.equal(cipher.seal("7", "A").sealed);
  });

  it("draws generated codes from the alphabet in the format, distinct, and counts their entropy", () => {
    expect(generateCode({ alphabet: "AB", format: "X-##-Y" })).to.match(/^X-[AB]{2}-Y$/);
    expect(generateCode({ alphabet: "0123456789", length: 8 })).to.match(/^\d{8}$/);
    const codes = generateCodes({ alphabet: "0123456789abcdef", length: 10 }, 500);
    expect(new Set(codes).size).to.equal(500);
    expect(entropyBits({ alphabet: "0123456789abcdef", length: 10 })).to.equal(40);
    expect(entropyBits({ alphabet: "AB", format: "X-##-Y" })).to.equal(2);
  });
});
