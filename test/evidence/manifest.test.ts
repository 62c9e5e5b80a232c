import { expect } from "chai";
import {
  MANIFEST_ABOUT,
  MANIFEST_FORMAT,
  manifestSchema,
  type Manifest,
} from "../../lib/evidence/manifest.ts";

const HASH = `0x${"ab".repeat(32)}`;
const ADDRESS = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";

function manifest(overrides: Partial<Manifest> = {}): Manifest {
  return {
    format: MANIFEST_FORMAT,
    about: MANIFEST_ABOUT,
    generator: { name: "rights-ledger", version: "0.1.0" },
    generatedAt: "2025-03-20T12:00:00.000Z",
    work: { workId: "1", contentHash: HASH, creator: ADDRESS, coAuthors: [], versions: [] },
    registration: {
      kind: "direct",
      chainId: 31337,
      registry: ADDRESS,
      txHash: HASH,
      logIndex: 0,
      blockNumber: 3,
      blockHash: HASH,
      blockTimestamp: 1_700_000_000,
    },
    licenses: [],
    infringement: { observedAt: "2025-03-14T09:26:53.000Z" },
    files: [{ path: "chain/receipt.json", size: 10, sha256: "a".repeat(64), sha3_512: "b".repeat(128) }],
    ...overrides,
  };
}

const issues = (value: unknown) => {
  const parsed = manifestSchema.safeParse(value);
  return parsed.success ? [] : parsed.error.issues.map((i) => i.message);
};

describe("evidence manifest schema", function () {
  it("accepts a complete manifest", function () {
    expect(issues(manifest())).to.deep.equal([]);
  });

  it("explains in its about text what the signature and timestamp cover and why they are not listed", function () {
    expect(MANIFEST_ABOUT).to.contain("except signature.json and timestamp.tsr");
    expect(MANIFEST_ABOUT).to.contain("32-byte SHA-256 digest of manifest.json");
    expect(MANIFEST_ABOUT).to.contain("RFC 3161");
  });

  it("rejects a format it does not know", function () {
    expect(issues({ ...manifest(), format: "rights-ledger-evidence/2" })).to.have.length(1);
  });

  it("rejects a suspect-match flag that contradicts the hashes", function () {
    expect(
      issues(
        manifest({
          infringement: {
            observedAt: "2025-03-14T09:26:53Z",
            suspectSha256: HASH,
            suspectMatchesWork: false,
          },
        }),
      ),
    ).to.deep.equal(["contradicts suspectSha256"]);
    expect(
      issues(manifest({ infringement: { observedAt: "2025-03-14T09:26:53Z", suspectSha256: HASH } })),
    ).to.deep.equal(["suspectMatchesWork must be given exactly when suspectSha256 is"]);
  });

  it("rejects listing manifest.json or its attestations, a path twice, and paths that leave the bundle", function () {
    const entry = { size: 1, sha256: "a".repeat(64), sha3_512: "b".repeat(128) };
    expect(issues(manifest({ files: [{ path: "signature.json", ...entry }] }))).to.deep.equal([
      "signature.json cannot list itself or its attestations",
    ]);
    expect(
      issues(
        manifest({
          files: [
            { path: "report.pdf", ...entry },
            { path: "report.pdf", ...entry },
          ],
        }),
      ),
    ).to.deep.equal(["a path is listed twice"]);
    expect(issues(manifest({ files: [{ path: "original/../../etc/passwd", ...entry }] }))).to.deep.equal([
      "no . or .. segments",
    ]);
    expect(issues(manifest({ files: [{ path: "/etc/passwd", ...entry }] }))).to.have.length(1);
  });

  it("requires the batch facts of a Merkle registration: batch, root, leaf, index, signed digest and proof", function () {
    const registration = { ...manifest().registration, kind: "batch" };
    expect(issues(manifest({ registration } as unknown as Partial<Manifest>))).to.have.length(6);
  });
});
