import { readFile } from "node:fs/promises";
import { expect } from "chai";
import { Wallet, getBytes } from "ethers";
import { network } from "hardhat";
import { BUNDLE_PATHS } from "../../lib/evidence/manifest.ts";
import { parseCertificates } from "../../lib/evidence/timestamp.ts";
import { CHECK, fileCheckName, verifyBundle, type VerifyResult } from "../../lib/evidence/verify.ts";
import { buildBundle } from "../../server/evidence/build-bundle.ts";
import {
  anchorFiles,
  batchInput,
  deployEvidenceChain,
  directInput,
  flipByte,
  forgeBundle,
  readManifest,
  registerFile,
  replaceText,
  rezip,
  sampleFile,
  unzip,
  type BatchRegistration,
  type DirectRegistration,
  type EvidenceChain,
} from "../helpers/evidence.ts";
import { startTestTsa, type TestTsa } from "../helpers/tsa.ts";

const { ethers } = await network.create();

const platform = Wallet.createRandom();
const intruder = Wallet.createRandom();
const ORIGINAL = `${BUNDLE_PATHS.originalDir}harbour_at_dusk.png`;

const failing = (result: VerifyResult) => result.checks.filter((c) => !c.ok).map((c) => c.name);
const skipped = (result: VerifyResult) => result.checks.filter((c) => c.skipped).map((c) => c.name);
const online = { provider: ethers.provider, minConfirmations: 1 };

describe("verifyBundle", function () {
  let chain: EvidenceChain;
  let reg: DirectRegistration;
  let zip: Uint8Array;

  before(async function () {
    chain = await deployEvidenceChain(ethers);
    reg = await registerFile(chain, sampleFile());
    zip = await buildBundle(directInput(chain, reg, platform));
  });

  describe("a direct registration", function () {
    it("passes every offline check and reports the online ones as not checked without a node", async function () {
      const result = await verifyBundle(zip);
      expect(failing(result)).to.deep.equal([]);
      expect(result.ok).to.equal(true);
      expect(result.checks.map((c) => c.name)).to.deep.equal([
        CHECK.manifest,
        CHECK.contents,
        CHECK.signature,
        CHECK.timestamp,
        CHECK.timestampChain,
        fileCheckName(BUNDLE_PATHS.receipt),
        fileCheckName(BUNDLE_PATHS.blockHeader),
        fileCheckName(ORIGINAL),
        fileCheckName(BUNDLE_PATHS.report),
        CHECK.original,
        CHECK.header,
        CHECK.receipt,
        CHECK.event,
        CHECK.blockOnChain,
        CHECK.registryContract,
        CHECK.registrationOnChain,
      ]);
      expect(skipped(result)).to.deep.equal([
        CHECK.timestamp,
        CHECK.timestampChain,
        CHECK.blockOnChain,
        CHECK.registryContract,
        CHECK.registrationOnChain,
      ]);
    });

    it("passes the online checks against the node that holds the block", async function () {
      const result = await verifyBundle(zip, online);
      expect(failing(result)).to.deep.equal([]);
      expect(skipped(result)).to.deep.equal([CHECK.timestamp, CHECK.timestampChain]);
      const block = result.checks.find((c) => c.name === CHECK.blockOnChain)!;
      expect(block.detail).to.contain(result.manifest!.registration.blockHash);
    });

    it("fails only the block check when the block has fewer confirmations than required", async function () {
      const result = await verifyBundle(zip, { provider: ethers.provider, minConfirmations: 1_000 });
      expect(failing(result)).to.deep.equal([CHECK.blockOnChain]);
      expect(result.checks.find((c) => c.name === CHECK.blockOnChain)!.detail).to.match(/fewer than 1000/);
    });

    it("fails only the block check on a node of another chain id", async function () {
      const other = {
        send: (method: string, params: unknown[]) =>
          method === "eth_chainId" ? Promise.resolve("0x1") : ethers.provider.send(method, params),
      };
      const result = await verifyBundle(zip, { provider: other, minConfirmations: 1 });
      expect(failing(result)).to.deep.equal([CHECK.blockOnChain]);
    });

    it("checks an original given separately instead of the bundled copy", async function () {
      const result = await verifyBundle(zip, { file: reg.bytes });
      const check = result.checks.find((c) => c.name === CHECK.original)!;
      expect(check.ok).to.equal(true);
      expect(check.detail).to.contain("the given file");
    });

    it("accepts the signature only from the expected platform key when one is pinned", async function () {
      expect(failing(await verifyBundle(zip, { expectedSigner: platform.address }))).to.deep.equal([]);
      expect(failing(await verifyBundle(zip, { expectedSigner: intruder.address }))).to.deep.equal([
        CHECK.signature,
      ]);
    });
  });

  describe("tampering after the bundle was signed", function () {
    it("one byte of the original file given with --file fails only the original file check", async function () {
      const result = await verifyBundle(zip, { file: flipByte(reg.bytes, 20) });
      expect(failing(result)).to.deep.equal([CHECK.original]);
    });

    it("one byte of the bundled original fails its listed hashes and the original file check", async function () {
      const files = await unzip(zip);
      files.set(ORIGINAL, flipByte(files.get(ORIGINAL)!, 20));
      const result = await verifyBundle(await rezip(files));
      expect(failing(result)).to.deep.equal([fileCheckName(ORIGINAL), CHECK.original]);
    });

    it("one byte of manifest.json fails only the signature check", async function () {
      const files = await unzip(zip);
      files.set(
        BUNDLE_PATHS.manifest,
        replaceText(files.get(BUNDLE_PATHS.manifest)!, "without a license", "without a licensf"),
      );
      const result = await verifyBundle(await rezip(files));
      expect(failing(result)).to.deep.equal([CHECK.signature]);
      expect(result.checks.find((c) => c.name === CHECK.signature)!.detail).to.match(
        /but signature\.json signs/,
      );
    });

    it("one byte of the block header fails its listed hashes and the block header check", async function () {
      const files = await unzip(zip);
      const header = files.get(BUNDLE_PATHS.blockHeader)!;
      const stateRoot = (JSON.parse(new TextDecoder().decode(header)) as { stateRoot: string }).stateRoot;
      const changed = stateRoot.slice(0, -1) + (stateRoot.endsWith("0") ? "1" : "0");
      files.set(BUNDLE_PATHS.blockHeader, replaceText(header, stateRoot, changed));
      const result = await verifyBundle(await rezip(files));
      expect(failing(result)).to.deep.equal([fileCheckName(BUNDLE_PATHS.blockHeader), CHECK.header]);
    });

    it("a signature by another key over the same manifest fails only the signature check", async function () {
      const files = await unzip(zip);
      const signature = JSON.parse(new TextDecoder().decode(files.get(BUNDLE_PATHS.signature))) as Record<
        string,
        string
      >;
      signature.signature = await intruder.signMessage(getBytes(signature.manifestSha256!));
      files.set(BUNDLE_PATHS.signature, new TextEncoder().encode(JSON.stringify(signature)));
      const result = await verifyBundle(await rezip(files));
      expect(failing(result)).to.deep.equal([CHECK.signature]);
      expect(result.checks.find((c) => c.name === CHECK.signature)!.detail).to.contain(intruder.address);
    });

    it("a file slipped into the bundle fails only the bundle contents check", async function () {
      const files = await unzip(zip);
      files.set("original/other.png", new Uint8Array([1, 2, 3]));
      expect(failing(await verifyBundle(await rezip(files)))).to.deep.equal([CHECK.contents]);
    });

    it("a listed file removed from the bundle fails only its file check", async function () {
      const files = await unzip(zip);
      files.delete(BUNDLE_PATHS.report);
      expect(failing(await verifyBundle(await rezip(files)))).to.deep.equal([
        fileCheckName(BUNDLE_PATHS.report),
      ]);
    });

    it("bytes that are not a zip fail the manifest check alone", async function () {
      const result = await verifyBundle(new TextEncoder().encode("not a zip"));
      expect(result.ok).to.equal(false);
      expect(result.checks.map((c) => [c.name, c.ok])).to.deep.equal([[CHECK.manifest, false]]);
    });

    it("a manifest of an unknown format fails the manifest check alone", async function () {
      const files = await unzip(zip);
      files.set(
        BUNDLE_PATHS.manifest,
        replaceText(
          files.get(BUNDLE_PATHS.manifest)!,
          "rights-ledger-evidence/1",
          "rights-ledger-evidence/9",
        ),
      );
      const result = await verifyBundle(await rezip(files));
      expect(result.checks.map((c) => c.name)).to.deep.equal([CHECK.manifest]);
      expect(result.checks[0]!.detail).to.match(/format/);
    });
  });

  describe("forgeries re-signed with the platform key", function () {
    it("a forged block header fails only the block header check", async function () {
      const forged = await forgeBundle(zip, platform, (files) => {
        const header = JSON.parse(new TextDecoder().decode(files.get(BUNDLE_PATHS.blockHeader))) as Record<
          string,
          string
        >;
        header.gasUsed = "0x1";
        files.set(BUNDLE_PATHS.blockHeader, new TextEncoder().encode(JSON.stringify(header)));
      });
      expect(failing(await verifyBundle(forged, online))).to.deep.equal([CHECK.header]);
    });

    it("a block hash that is not canonical fails the header check offline and the block check online", async function () {
      const forged = await forgeBundle(zip, platform, (_files, manifest) => {
        manifest.registration.blockHash = `0x${"ab".repeat(32)}`;
      });
      expect(failing(await verifyBundle(forged, online))).to.deep.equal([
        CHECK.header,
        CHECK.receipt,
        CHECK.blockOnChain,
      ]);
    });

    it("a receipt whose event names another creator fails only the registration event check", async function () {
      const forged = await forgeBundle(zip, platform, (files) => {
        const receipt = JSON.parse(new TextDecoder().decode(files.get(BUNDLE_PATHS.receipt))) as {
          logs: { topics: string[] }[];
        };
        receipt.logs[0]!.topics[3] = `0x${"0".repeat(24)}${intruder.address.slice(2).toLowerCase()}`;
        files.set(BUNDLE_PATHS.receipt, new TextEncoder().encode(JSON.stringify(receipt)));
      });
      const result = await verifyBundle(forged, online);
      expect(failing(result)).to.deep.equal([CHECK.event]);
      expect(result.checks.find((c) => c.name === CHECK.event)!.detail).to.contain(intruder.address);
    });

    it("a reverted receipt fails only the receipt check", async function () {
      const forged = await forgeBundle(zip, platform, (files) => {
        const receipt = JSON.parse(new TextDecoder().decode(files.get(BUNDLE_PATHS.receipt))) as {
          status: string;
        };
        receipt.status = "0x0";
        files.set(BUNDLE_PATHS.receipt, new TextEncoder().encode(JSON.stringify(receipt)));
      });
      expect(failing(await verifyBundle(forged, online))).to.deep.equal([CHECK.receipt]);
    });

    it("a registry address without the registry fails the event check offline and the registry checks online", async function () {
      const forged = await forgeBundle(zip, platform, (_files, manifest) => {
        manifest.registration.registry = intruder.address;
      });
      expect(failing(await verifyBundle(forged, online))).to.deep.equal([
        CHECK.event,
        CHECK.registryContract,
        CHECK.registrationOnChain,
      ]);
    });
  });

  describe("a Merkle batch", function () {
    let batch: BatchRegistration;
    let batchZip: Uint8Array;

    before(async function () {
      batch = await anchorFiles(
        chain,
        [1, 2, 3, 4, 5].map((i) => sampleFile(`batch photo ${i}`)),
      );
      batchZip = await buildBundle(batchInput(chain, batch, 2, platform));
    });

    it("passes every check offline and online, including the proof of the leaf", async function () {
      const result = await verifyBundle(batchZip, { ...online, file: batch.files[2] });
      expect(failing(result)).to.deep.equal([]);
      expect(skipped(result)).to.deep.equal([CHECK.timestamp, CHECK.timestampChain]);
      expect(result.checks.find((c) => c.name === CHECK.merkle)!.ok).to.equal(true);
    });

    it("verifies every leaf of the batch", async function () {
      for (let i = 0; i < batch.files.length; i++) {
        const result = await verifyBundle(await buildBundle(batchInput(chain, batch, i, platform)), {
          ...online,
          file: batch.files[i],
        });
        expect(failing(result), `leaf ${i}`).to.deep.equal([]);
      }
    });

    it("a wrong proof element, re-signed, fails only the merkle proof check offline", async function () {
      const forged = await forgeBundle(batchZip, platform, (_files, manifest) => {
        if (manifest.registration.kind !== "batch") throw new Error("batch expected");
        manifest.registration.proof[0] = `0x${"11".repeat(32)}`;
      });
      expect(failing(await verifyBundle(forged))).to.deep.equal([CHECK.merkle]);
    });

    it("a wrong proof element fails the registry's own verifyAnchored online as well", async function () {
      const forged = await forgeBundle(batchZip, platform, (_files, manifest) => {
        if (manifest.registration.kind !== "batch") throw new Error("batch expected");
        manifest.registration.proof[0] = `0x${"11".repeat(32)}`;
      });
      expect(failing(await verifyBundle(forged, online))).to.deep.equal([
        CHECK.merkle,
        CHECK.registrationOnChain,
      ]);
    });

    it("a wrong proof element edited into the signed manifest fails the signature and merkle proof checks", async function () {
      const files = await unzip(batchZip);
      const proof0 = (readManifest(files).registration as { proof: string[] }).proof[0]!;
      const changed = proof0.slice(0, -1) + (proof0.endsWith("0") ? "1" : "0");
      files.set(BUNDLE_PATHS.manifest, replaceText(files.get(BUNDLE_PATHS.manifest)!, proof0, changed));
      expect(failing(await verifyBundle(await rezip(files)))).to.deep.equal([CHECK.signature, CHECK.merkle]);
    });

    it("a leaf of another creator fails only the merkle proof check", async function () {
      const forged = await forgeBundle(batchZip, platform, (_files, manifest) => {
        manifest.work.creator = intruder.address;
      });
      expect(failing(await verifyBundle(forged))).to.deep.equal([CHECK.merkle]);
    });
  });

  describe("with an RFC 3161 time-stamping authority", function () {
    let tsa: TestTsa;
    let stamped: Uint8Array;

    before(async function () {
      tsa = await startTestTsa();
      stamped = await buildBundle({ ...directInput(chain, reg, platform), tsaUrl: tsa.url });
    });

    after(async function () {
      await tsa.close();
    });

    it("passes the timestamp check and, with the authority's CA, the chain check", async function () {
      const ca = parseCertificates(await readFile(tsa.caPath, "utf8"));
      const result = await verifyBundle(stamped, { ...online, trustedCerts: ca });
      expect(failing(result)).to.deep.equal([]);
      expect(skipped(result)).to.deep.equal([]);
      expect(result.checks.find((c) => c.name === CHECK.timestamp)!.detail).to.contain(
        "Rights Ledger Test TSA",
      );
    });

    it("reports the chain as not checked, without failing, when no CA is given", async function () {
      const result = await verifyBundle(stamped);
      const chainCheck = result.checks.find((c) => c.name === CHECK.timestampChain)!;
      expect(result.ok).to.equal(true);
      expect(chainCheck).to.include({ ok: true, skipped: true });
      expect(chainCheck.detail).to.match(/not checked/);
    });

    it("fails only the chain check with a CA that did not issue the authority's certificate", async function () {
      const other = parseCertificates(await readFile(tsa.otherCaPath, "utf8"));
      expect(failing(await verifyBundle(stamped, { trustedCerts: other }))).to.deep.equal([
        CHECK.timestampChain,
      ]);
    });

    it("one byte of manifest.json fails both attestations: the signature and the timestamp", async function () {
      const files = await unzip(stamped);
      files.set(
        BUNDLE_PATHS.manifest,
        replaceText(files.get(BUNDLE_PATHS.manifest)!, "without a license", "without a licensf"),
      );
      expect(failing(await verifyBundle(await rezip(files)))).to.deep.equal([
        CHECK.signature,
        CHECK.timestamp,
      ]);
    });

    it("a token over another digest fails only the timestamp check", async function () {
      const otherBundle = await buildBundle({
        ...directInput(chain, reg, platform),
        tsaUrl: tsa.url,
        generatedAt: new Date(),
      });
      const files = await unzip(stamped);
      files.set(BUNDLE_PATHS.timestamp, (await unzip(otherBundle)).get(BUNDLE_PATHS.timestamp)!);
      const result = await verifyBundle(await rezip(files));
      expect(failing(result)).to.deep.equal([CHECK.timestamp]);
      expect(result.checks.find((c) => c.name === CHECK.timestamp)!.detail).to.match(
        /time-stamps 0x[0-9a-f]{64}, not/,
      );
    });
  });

  describe("after a reorg", function () {
    it("fails only the canonical block check when the registration was re-mined in another block", async function () {
      const snapshot = (await ethers.provider.send("evm_snapshot", [])) as string;
      const file = sampleFile("reorged photo");
      const orphan = await registerFile(chain, file);
      await ethers.provider.send("hardhat_mine", ["0x2"]);
      const reorged = await buildBundle(directInput(chain, orphan, platform));
      expect(failing(await verifyBundle(reorged, online))).to.deep.equal([]);

      await ethers.provider.send("evm_revert", [snapshot]);
      await ethers.provider.send("hardhat_mine", ["0x3"]);
      const again = await registerFile(chain, file);
      expect(again.workId).to.equal(orphan.workId);
      expect(again.blockHeader.hash).to.not.equal(orphan.blockHeader.hash);

      const offline = await verifyBundle(reorged);
      expect(failing(offline)).to.deep.equal([]);
      const result = await verifyBundle(reorged, online);
      expect(failing(result)).to.deep.equal([CHECK.blockOnChain]);
      expect(result.checks.find((c) => c.name === CHECK.blockOnChain)!.detail).to.match(/not canonical/);
    });

    it("also fails the registration check when the registration vanished with the block", async function () {
      const snapshot = (await ethers.provider.send("evm_snapshot", [])) as string;
      const orphan = await registerFile(chain, sampleFile("vanished photo"));
      const reorged = await buildBundle(directInput(chain, orphan, platform));
      await ethers.provider.send("evm_revert", [snapshot]);
      await ethers.provider.send("hardhat_mine", ["0x3"]);
      expect(failing(await verifyBundle(reorged))).to.deep.equal([]);
      expect(failing(await verifyBundle(reorged, online))).to.deep.equal([
        CHECK.blockOnChain,
        CHECK.registrationOnChain,
      ]);
    });
  });
});
