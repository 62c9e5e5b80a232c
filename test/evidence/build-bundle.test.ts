import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { expect } from "chai";
import { Wallet, getBytes, verifyMessage } from "ethers";
import { network } from "hardhat";
import { BUNDLE_PATHS, MANIFEST_ABOUT, SIGNATURE_SCHEME } from "../../lib/evidence/manifest.ts";
import {
  BundleInputError,
  buildBundle,
  safeFileName,
  type BundleInput,
} from "../../server/evidence/build-bundle.ts";
import {
  GENERATED_AT,
  OBSERVED_AT,
  anchorFiles,
  batchInput,
  deployEvidenceChain,
  directInput,
  readManifest,
  registerFile,
  sampleFile,
  unzip,
  type BatchRegistration,
  type DirectRegistration,
  type EvidenceChain,
} from "../helpers/evidence.ts";
import { readPdf, squeeze } from "../helpers/pdf.ts";
import { openssl, startTestTsa } from "../helpers/tsa.ts";

const { ethers } = await network.create();
const platform = Wallet.createRandom();
const hex = (algorithm: string, bytes: Uint8Array) => createHash(algorithm).update(bytes).digest("hex");

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a rejection");
}

describe("buildBundle", function () {
  let chain: EvidenceChain;
  let reg: DirectRegistration;
  let files: Map<string, Uint8Array>;

  before(async function () {
    chain = await deployEvidenceChain(ethers);
    reg = await registerFile(chain, sampleFile());
    files = await unzip(await buildBundle(directInput(chain, reg, platform)));
  });

  it("holds the manifest, its signature, the chain answers, the report and the original file", function () {
    expect([...files.keys()]).to.deep.equal([
      BUNDLE_PATHS.manifest,
      BUNDLE_PATHS.signature,
      BUNDLE_PATHS.receipt,
      BUNDLE_PATHS.blockHeader,
      "original/harbour_at_dusk.png",
      BUNDLE_PATHS.report,
    ]);
    expect(files.get("original/harbour_at_dusk.png")).to.deep.equal(reg.bytes);
  });

  it("lists every other file in the manifest with its size, SHA-256 and SHA3-512", function () {
    const manifest = readManifest(files);
    expect(manifest.about).to.equal(MANIFEST_ABOUT);
    const listed = [...files].filter(([p]) => p !== BUNDLE_PATHS.manifest && p !== BUNDLE_PATHS.signature);
    expect(manifest.files).to.deep.equal(
      listed.map(([p, bytes]) => ({
        path: p,
        size: bytes.byteLength,
        sha256: hex("sha256", bytes),
        sha3_512: hex("sha3-512", bytes),
      })),
    );
  });

  it("signs the SHA-256 of manifest.json with the platform key (EIP-191 over the 32 bytes)", function () {
    const signature = JSON.parse(new TextDecoder().decode(files.get(BUNDLE_PATHS.signature))) as Record<
      string,
      string
    >;
    const digest = `0x${hex("sha256", files.get(BUNDLE_PATHS.manifest)!)}`;
    expect(signature).to.deep.include({
      scheme: SIGNATURE_SCHEME,
      manifestSha256: digest,
      signer: platform.address,
    });
    expect(verifyMessage(getBytes(digest), signature.signature!)).to.equal(platform.address);
  });

  it("keeps the node's receipt and block header as they were answered", function () {
    expect(JSON.parse(new TextDecoder().decode(files.get(BUNDLE_PATHS.receipt)))).to.deep.equal(reg.receipt);
    expect(JSON.parse(new TextDecoder().decode(files.get(BUNDLE_PATHS.blockHeader)))).to.deep.equal(
      reg.blockHeader,
    );
  });

  it("records the work, the registration read from the receipt and header, the licenses and the infringement", function () {
    const manifest = readManifest(files);
    expect(manifest.generatedAt).to.equal(GENERATED_AT.toISOString());
    expect(manifest.work).to.deep.include({
      workId: reg.workId.toString(),
      contentHash: reg.contentHash,
      creator: chain.creator.address,
      coAuthors: [chain.others[0]!.address],
    });
    expect(manifest.registration).to.deep.equal({
      kind: "direct",
      chainId: chain.chainId,
      registry: chain.registryAddress,
      txHash: reg.txHash,
      logIndex: Number(BigInt((reg.receipt.logs as { logIndex: string }[])[0]!.logIndex)),
      blockNumber: Number(BigInt(reg.blockHeader.number as string)),
      blockHash: reg.blockHeader.hash,
      blockTimestamp: Number(BigInt(reg.blockHeader.timestamp as string)),
    });
    expect(manifest.licenses.map((l) => [l.tokenId, l.holder, l.revoked])).to.deep.equal([
      ["1", chain.others[1]!.address, false],
      ["2", chain.others[2]!.address, true],
    ]);
    expect(manifest.infringement).to.deep.equal({
      url: "https://pirate.example/gallery/harbour.png",
      observedAt: OBSERVED_AT,
      notes: "Offered for sale without a license.",
      suspectSha256: reg.contentHash,
      suspectMatchesWork: true,
    });
  });

  it("records that a suspect copy with another hash does not match the work", async function () {
    const input = directInput(chain, reg, platform);
    input.infringement.suspectSha256 = `0x${"cd".repeat(32)}`;
    const manifest = readManifest(await unzip(await buildBundle(input)));
    expect(manifest.infringement.suspectMatchesWork).to.equal(false);
  });

  it("leaves the original file out when it is not given", async function () {
    const { original: _omitted, ...input } = directInput(chain, reg, platform);
    const bundle = await unzip(await buildBundle(input));
    expect([...bundle.keys()].some((p) => p.startsWith(BUNDLE_PATHS.originalDir))).to.equal(false);
  });

  it("renders a report that holds the content hash, transaction hash and block hash", async function () {
    const pdf = await readPdf(files.get(BUNDLE_PATHS.report)!);
    const text = squeeze(pdf.pages.join(" "));
    expect(text).to.contain(reg.contentHash.slice(2));
    expect(text).to.contain(reg.txHash);
    expect(text).to.contain(reg.blockHeader.hash as string);
  });

  it("produces the same bytes for the same input, so a retried job yields the same bundle", async function () {
    const input = directInput(chain, reg, platform);
    expect(await buildBundle(input)).to.deep.equal(await buildBundle(input));
  });

  describe("for a Merkle batch", function () {
    let batch: BatchRegistration;

    before(async function () {
      batch = await anchorFiles(
        chain,
        [1, 2, 3].map((i) => sampleFile(`batch ${i}`)),
      );
    });

    it("records the batch id, root, the registry's leaf of (index, creator, contentHash, digest) and the proof", async function () {
      const manifest = readManifest(await unzip(await buildBundle(batchInput(chain, batch, 1, platform))));
      const [leafIndex, creator, contentHash, registrationDigest] = batch.tree.at(1)!;
      expect(manifest.work).to.deep.include({ contentHash, creator, coAuthors: [] });
      expect(manifest.work.workId).to.equal(undefined);
      expect(manifest.registration).to.deep.include({
        kind: "batch",
        txHash: batch.txHash,
        batchId: "1",
        merkleRoot: batch.tree.root,
        leaf: await chain.registry.leafOf(leafIndex, creator, contentHash, registrationDigest),
        leafIndex: Number(leafIndex),
        registrationDigest,
        proof: batch.tree.getProof(1),
      });
    });

    it("refuses a proof that does not lead to the anchored root", async function () {
      const input = batchInput(chain, batch, 1, platform);
      if (input.registration.kind !== "batch") throw new Error("batch expected");
      input.registration.proof = batch.tree.getProof(0);
      const err = await rejection(buildBundle(input));
      expect(err).to.be.instanceOf(BundleInputError);
      expect(err.message).to.match(/does not lead from/);
    });

    it("refuses a root that the transaction did not anchor", async function () {
      const input = batchInput(chain, batch, 1, platform);
      if (input.registration.kind !== "batch") throw new Error("batch expected");
      input.registration.merkleRoot = `0x${"77".repeat(32)}`;
      expect((await rejection(buildBundle(input))).message).to.match(/no BatchAnchored event for root/);
    });
  });

  describe("with a time-stamping authority", function () {
    it("adds an RFC 3161 token over the manifest's SHA-256 that openssl ts -verify accepts", async function () {
      const tsa = await startTestTsa();
      try {
        const bundle = await unzip(
          await buildBundle({ ...directInput(chain, reg, platform), tsaUrl: tsa.url }),
        );
        expect([...bundle.keys()]).to.include(BUNDLE_PATHS.timestamp);
        expect(readManifest(bundle).files.map((f) => f.path)).to.not.include(BUNDLE_PATHS.timestamp);
        const tsrPath = path.join(tsa.dir, "timestamp.tsr");
        await writeFile(tsrPath, bundle.get(BUNDLE_PATHS.timestamp)!);
        const digest = hex("sha256", bundle.get(BUNDLE_PATHS.manifest)!);
        const out = await openssl(
          ["ts", "-verify", "-digest", digest, "-in", tsrPath, "-CAfile", tsa.caPath],
          tsa.dir,
        );
        expect(out).to.contain("Verification: OK");
        expect(tsa.requests()).to.equal(1);
      } finally {
        await tsa.close();
      }
    });
  });

  describe("refuses inputs that do not describe a successful registration of the work", function () {
    const cases: [string, (input: BundleInput) => void, RegExp][] = [
      [
        "a receipt of another transaction",
        (i) => (i.registration.txHash = `0x${"12".repeat(32)}`),
        /the receipt is for/,
      ],
      [
        "a reverted transaction",
        (i) => (i.receipt = { ...(i.receipt as object), status: "0x0" }),
        /reverted/,
      ],
      [
        "a header of another block",
        (i) => (i.blockHeader = { ...(i.blockHeader as object), hash: `0x${"34".repeat(32)}` }),
        /is not the header's/,
      ],
      [
        "a header in a format this builder cannot hash",
        (i) => {
          const { requestsHash: _dropped, ...older } = i.blockHeader as Record<string, unknown>;
          i.blockHeader = older;
        },
        /unsupported header format/,
      ],
      [
        "a content hash the transaction did not register",
        (i) => (i.work.contentHash = `0x${"56".repeat(32)}`),
        /no WorkRegistered event/,
      ],
      ["another creator", (i) => (i.work.creator = chain.others[3]!.address), /no WorkRegistered event/],
      ["a wrong work id", (i) => (i.work.workId = 99n), /work id 99 differs/],
      [
        "an original file that is not the work",
        (i) => (i.original = { name: "x.png", bytes: sampleFile("other") }),
        /original file does not hash/,
      ],
    ];
    for (const [what, change, message] of cases) {
      it(`refuses ${what}`, async function () {
        const input = directInput(chain, reg, platform);
        change(input);
        const err = await rejection(buildBundle(input));
        expect(err).to.be.instanceOf(BundleInputError);
        expect(err.message).to.match(message);
      });
    }
  });
});

describe("safeFileName", function () {
  it("keeps only the base name and safe characters", function () {
    expect(safeFileName("../../etc/passwd")).to.equal("passwd");
    expect(safeFileName("C:\\Users\\ana\\Mon tableau é.png")).to.equal("Mon_tableau_e.png");
    expect(safeFileName(".hidden")).to.equal("hidden");
    expect(safeFileName("")).to.equal("original.bin");
    expect(safeFileName(`${"a".repeat(300)}.tiff`)).to.have.length(100);
  });
});
