import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { digestsOf, sha256Bytes32, sha256Hex, sha3_512Hex } from "../../lib/evidence/hashes.ts";

const run = promisify(execFile);
const ABC = new TextEncoder().encode("abc");

describe("evidence hashes", function () {
  it("computes the FIPS 180-4 SHA-256 test vector of 'abc'", function () {
    expect(sha256Hex(ABC)).to.equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(sha256Bytes32(ABC)).to.equal("0xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  it("computes the FIPS 202 SHA3-512 test vectors of '' and 'abc' (not Keccak-512)", function () {
    expect(sha3_512Hex(new Uint8Array())).to.equal(
      "a69f73cca23a9ac5c8b567dc185a756e97c982164fe25859e0d1dcc1475c80a615b2123af1f5f94c11e3e9402c3ac558f500199d95b6d3e301758586281dcd26",
    );
    expect(sha3_512Hex(ABC)).to.equal(
      "b751850b1a57168a5693cd924b6b096e08f621827444f70d884f5d0240d2712e10e116e9192af3c91a7ec57647e3934057340b4cf408d5a56592f8274eec53f0",
    );
  });

  it("agrees with sha256sum and openssl dgst -sha3-512 on a binary file", async function () {
    const dir = await mkdtemp(path.join(tmpdir(), "rl-hash-"));
    try {
      const bytes = new Uint8Array(70_001).map((_, i) => (i * 31 + 7) % 256);
      const file = path.join(dir, "work.bin");
      await writeFile(file, bytes);
      const digests = digestsOf(bytes);
      expect(digests.size).to.equal(70_001);
      expect((await run("sha256sum", [file])).stdout.split(" ")[0]).to.equal(digests.sha256);
      expect((await run("openssl", ["dgst", "-sha3-512", "-r", file])).stdout.split(" ")[0]).to.equal(
        digests.sha3_512,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
