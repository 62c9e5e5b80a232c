import { expect } from "chai";
import { getAddress } from "ethers";
import { MANIFEST_ABOUT, MANIFEST_FORMAT, type Manifest } from "../../lib/evidence/manifest.ts";
import { REPORT_LICENSES, summarizeLicenses } from "../../server/evidence/license-listing.ts";
import { renderReport } from "../../server/evidence/report-pdf.ts";
import { readPdf, squeeze, type PdfContent } from "../helpers/pdf.ts";

const CONTENT_HASH = "0xb6ff9f2f4c4c53eb296a630c08cd23cb847b35587509000e93b6740679ab7cbb";
const TX_HASH = "0xe8451ab2a5388057d9e8aebb8eb8da877ad00e24abd747ba9a83de62314b36b6";
const BLOCK_HASH = "0xca9bb2a17b2cd4531d22ff13587b3ae4777a3065658e31c9f0cbcc9645cd67da";
const CREATOR = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
const REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const SIGNER = "0xb6F6A4a4abf150aFAbdC0181F9F68585cF6D86b0";
const A4: [number, number] = [595.28, 841.89];

function manifest(overrides: Partial<Manifest> = {}): Manifest {
  return {
    format: MANIFEST_FORMAT,
    about: MANIFEST_ABOUT,
    generator: { name: "rights-ledger", version: "0.1.0" },
    generatedAt: "2025-03-20T12:00:00.000Z",
    work: {
      workId: "7",
      title: "Harbour at dusk",
      contentHash: CONTENT_HASH,
      creator: CREATOR,
      coAuthors: [],
      versions: [],
    },
    registration: {
      kind: "direct",
      chainId: 8453,
      registry: REGISTRY,
      txHash: TX_HASH,
      logIndex: 4,
      blockNumber: 24_130_551,
      blockHash: BLOCK_HASH,
      blockTimestamp: 1_736_000_000,
    },
    licenses: [],
    infringement: {
      url: "https://pirate.example/gallery/harbour.png",
      observedAt: "2025-03-14T09:26:53.000Z",
      suspectSha256: CONTENT_HASH,
      suspectMatchesWork: true,
    },
    files: [
      { path: "chain/receipt.json", size: 2454, sha256: "be".repeat(32), sha3_512: "41".repeat(64) },
      { path: "chain/block-header.json", size: 1910, sha256: "21".repeat(32), sha3_512: "52".repeat(64) },
      { path: "original/harbour.png", size: 60, sha256: CONTENT_HASH.slice(2), sha3_512: "d2".repeat(64) },
    ],
    ...overrides,
  };
}

const render = async (m: Manifest, timestamped = true): Promise<PdfContent> =>
  readPdf(
    await renderReport({ ...m, licenses: summarizeLicenses(m.licenses) }, { timestamped, signer: SIGNER }),
  );
const allText = (pdf: PdfContent) => pdf.pages.join("\n").replace(/\s+/g, " ");

describe("evidence report PDF", function () {
  let pdf: PdfContent;

  before(async function () {
    pdf = await render(manifest());
  });

  it("is an A4 document titled after the work", function () {
    for (const [w, h] of pdf.sizes) {
      expect(Math.abs(w - A4[0])).to.be.lessThan(0.5);
      expect(Math.abs(h - A4[1])).to.be.lessThan(0.5);
    }
    expect(pdf.title).to.equal("Evidence report: Harbour at dusk");
  });

  it("states the content hash, transaction hash, block hash, chain and creator", function () {
    const text = squeeze(allText(pdf));
    for (const value of [
      CONTENT_HASH.slice(2),
      TX_HASH,
      BLOCK_HASH,
      REGISTRY,
      CREATOR,
      "Base(chainid8453)",
      "24130551",
    ]) {
      expect(text).to.contain(value);
    }
  });

  it("lists each file with both of its hashes", function () {
    const text = squeeze(allText(pdf));
    expect(text).to.contain("be".repeat(32));
    expect(text).to.contain("41".repeat(64));
  });

  it("numbers every page 'Page i of n'", function () {
    const n = pdf.pages.length;
    pdf.pages.forEach((page, i) => expect(page).to.contain(`Page ${i + 1} of ${n}`));
  });

  it("gives step-by-step verification with sha256sum, sha3sum, openssl and the CLI", function () {
    const text = allText(pdf);
    for (const command of [
      "sha256sum manifest.json",
      "sha3sum -a 512",
      "openssl dgst -sha3-512 <file>",
      "openssl ts -verify",
      "eth_getBlockByNumber",
      "npx rights-ledger verify",
    ]) {
      expect(text).to.contain(command);
    }
    expect(text).to.contain(`"params":["0x${(24_130_551).toString(16)}",false]`);
    expect(text).to.contain(`sha256sum original/harbour.png`);
  });

  it("says plainly whether the suspect copy is identical to the work", async function () {
    expect(allText(pdf)).to.contain("identical to the registered work");
    const differs = await render(
      manifest({
        infringement: {
          observedAt: "2025-03-14T09:26:53.000Z",
          suspectSha256: `0x${"00".repeat(32)}`,
          suspectMatchesWork: false,
        },
      }),
    );
    expect(allText(differs)).to.contain("differs from the registered file");
  });

  it("says that no timestamp was taken when there is none, and omits the openssl ts command", async function () {
    const plain = await render(manifest(), false);
    expect(allText(plain)).to.contain("No time-stamping authority was configured");
    expect(allText(plain)).to.not.contain("openssl ts -verify");
  });

  it("describes a batch registration with its root, leaf and proof", async function () {
    const root = `0x${"73".repeat(32)}`;
    const leaf = `0x${"51".repeat(32)}`;
    const proof = [`0x${"58".repeat(32)}`, `0x${"8d".repeat(32)}`];
    const batch = await render(
      manifest({
        registration: {
          ...manifest().registration,
          kind: "batch",
          batchId: "3",
          merkleRoot: root,
          leaf,
          leafIndex: 4,
          registrationDigest: `0x${"d1".repeat(32)}`,
          proof,
        },
      }),
    );
    const text = squeeze(allText(batch));
    for (const value of [root, leaf, ...proof, "BatchAnchored(logindex4):batch#3"])
      expect(text).to.contain(value);
  });

  it("lists all of 1,000 licenses across pages, with a repeated table header", async function () {
    const licenses = Array.from({ length: 1000 }, (_, i) => ({
      tokenId: String(i + 1),
      offerId: "1",
      holder: getAddress(`0x${(i + 1).toString(16).padStart(40, "c")}`),
      expiresAt: i % 2 === 0 ? 0 : 1_767_225_600,
      revoked: i === 499,
      issuedAt: new Date(Date.UTC(2025, 0, 1) + i * 3_600_000).toISOString(),
    }));
    const big = await render(manifest({ licenses }));
    const text = allText(big);
    expect(big.pages.length).to.be.greaterThan(15);
    for (const l of [licenses[0]!, licenses[499]!, licenses[999]!]) expect(text).to.contain(l.holder);
    expect(text).to.contain("#1000");
    expect(text).to.contain("1000 licenses (ERC-721 tokens)");
    expect(big.pages.filter((p) => p.includes("Holder")).length).to.be.greaterThan(15);
  });

  it("lists the first 1,000 of more licenses and points to manifest.json for all of them", async function () {
    const licenses = Array.from({ length: REPORT_LICENSES + 500 }, (_, i) => ({
      tokenId: String(i + 1),
      offerId: "1",
      holder: getAddress(`0x${(i + 1).toString(16).padStart(40, "d")}`),
      expiresAt: 0,
      revoked: false,
    }));
    const text = allText(await render(manifest({ licenses })));
    expect(text).to.contain(
      "1500 licenses (ERC-721 tokens); the first 1000 by token id are listed below. manifest.json lists all 1500",
    );
    expect(text).to.contain(licenses[REPORT_LICENSES - 1]!.holder);
    expect(text).to.contain("#1000");
    expect(text).not.to.contain(licenses[REPORT_LICENSES]!.holder);
    expect(text).not.to.contain("#1001");
    expect(text).not.to.contain("A holder not listed here");
  });
});
