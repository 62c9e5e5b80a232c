import { expect } from "chai";
import fc from "fast-check";
import {
  TypedDataEncoder,
  Wallet,
  concat,
  getBytes,
  hexlify,
  keccak256,
  recoverAddress,
  toBeHex,
} from "ethers";
import * as secp256k1 from "tiny-secp256k1";
import { REGISTER_TYPES, registryDomain } from "../../lib/eip712.ts";
import { recoverSigner, typedDataDigest } from "../../server/auth/typed-signature.ts";

const ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

describe("typed signatures: signer recovery", function () {
  const wallet = Wallet.createRandom();

  it("recovers the same signer as ethers for any digest and key", function () {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.integer({ min: 1, max: 1000 }),
        (bytes, n) => {
          const key = new Wallet(keccak256(toBeHex(n, 32)));
          const digest = keccak256(bytes);
          const sig = key.signingKey.sign(digest);
          expect(recoverSigner(digest, sig.serialized)).to.equal(key.address.toLowerCase());
          expect(recoverSigner(digest, sig.compactSerialized)).to.equal(key.address.toLowerCase());
          expect(recoverAddress(digest, sig).toLowerCase()).to.equal(key.address.toLowerCase());
        },
      ),
      { numRuns: 60 },
    );
  });

  it("names another wallet when the digest differs from the signed one", function () {
    const sig = wallet.signingKey.sign(keccak256("0x01"));
    const signer = recoverSigner(keccak256("0x02"), sig.serialized);
    expect(signer).to.not.equal(null);
    expect(signer).to.not.equal(wallet.address.toLowerCase());
  });

  it("refuses the high-s twin of a valid signature, as the contracts do", function () {
    const digest = keccak256("0x03");
    const sig = wallet.signingKey.sign(digest);
    const highS = toBeHex(ORDER - BigInt(sig.s), 32);
    const twin = concat([sig.r, highS, sig.v === 27 ? "0x1c" : "0x1b"]);
    // The twin is a valid signature by the same key …
    const twinKey = secp256k1.recover(
      getBytes(digest),
      getBytes(concat([sig.r, highS])),
      sig.yParity === 0 ? 1 : 0,
      false,
    );
    expect(hexlify(twinKey!)).to.equal(wallet.signingKey.publicKey);
    // … and still refused.
    expect(recoverSigner(digest, twin)).to.equal(null);
  });

  it("refuses malformed signatures", function () {
    const digest = keccak256("0x04");
    for (const bad of ["0x", "0x1234", `0x${"00".repeat(65)}`, `0x${"ff".repeat(65)}`, "not hex"]) {
      expect(recoverSigner(digest, bad), bad).to.equal(null);
    }
  });

  it("hashes typed data as ethers does, domain by domain", function () {
    const message = {
      creator: wallet.address.toLowerCase(),
      contentHash: keccak256("0x05"),
      cid: "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
      metadataURI: "ipfs://metadata",
      parentId: 0n,
      nonce: 7n,
      deadline: 9_999_999_999n,
    };
    for (const [chainId, registry] of [
      [1n, "0x5FbDB2315678afecb367f032d93F642f64180aa3"],
      [31337n, "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"],
    ] as const) {
      const domain = registryDomain(chainId, registry);
      for (let i = 0; i < 2; i++) {
        expect(typedDataDigest(domain, REGISTER_TYPES, message)).to.equal(
          TypedDataEncoder.hash(domain, REGISTER_TYPES, message),
        );
      }
    }
  });
});
