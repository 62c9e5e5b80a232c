/**
 * The court-ready PDF of an evidence bundle. Long because it is layout: each section of the report
 * (summary, file, registration, chain proof, timestamps, verification steps) is drawn by a function
 * here, and they share one page model (margins, fonts, cutting long hex values) that a split would
 * have to export for no other reader.
 */
import PDFDocument from "pdfkit";
import { BUNDLE_PATHS, type Manifest } from "../../lib/evidence/manifest.ts";
import type { LicenseSummary } from "./license-listing.ts";

/** What the report needs beyond the manifest's facts. */
export interface ReportOptions {
  /** Whether the bundle carries an RFC 3161 timestamp.tsr. */
  timestamped: boolean;
  /** Address of the platform key that signs signature.json. */
  signer: string;
}

const PAGE = { size: "A4", margin: 56, footer: 40 } as const;
const COLOR = {
  ink: "#1a1a1a",
  muted: "#5b6676",
  accent: "#1f4e79",
  rule: "#c7d0db",
  box: "#f1f5f9",
  code: "#f6f6f4",
};
const FONT = { body: "Helvetica", bold: "Helvetica-Bold", mono: "Courier", monoBold: "Courier-Bold" };
const LABEL_WIDTH = 128;
/** Courier glyphs are 0.6 em wide; used to cut long hex values at even positions instead of anywhere. */
const COURIER_EM = 0.6;
/** What the report states: the manifest, with a summary of its licenses in place of their list. */
export type ReportFacts = Omit<Manifest, "licenses"> & { licenses: LicenseSummary };

const CHAIN_NAMES: Record<number, string> = {
  1: "Ethereum mainnet",
  10: "OP Mainnet",
  137: "Polygon PoS",
  8453: "Base",
  42161: "Arbitrum One",
  11155111: "Sepolia testnet",
  84532: "Base Sepolia testnet",
  31337: "local development chain",
};

function chainName(chainId: number): string {
  return `${CHAIN_NAMES[chainId] ?? "EVM chain"} (chain id ${chainId})`;
}

function formatTime(value: string | number | Date): string {
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  return `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** A small layout engine over pdfkit: label/value rows, tables and code blocks that break across pages. */
class Layout {
  readonly doc: PDFKit.PDFDocument;
  readonly left = PAGE.margin;
  readonly width: number;

  constructor(doc: PDFKit.PDFDocument) {
    this.doc = doc;
    this.width = doc.page.width - 2 * PAGE.margin;
  }

  get bottom(): number {
    return this.doc.page.height - PAGE.margin - PAGE.footer / 2;
  }

  ensure(height: number): void {
    if (this.doc.y + height > this.bottom) this.doc.addPage();
  }

  /**
   * Lays out a hash or address: one line when it fits (shrinking the font down to 7 pt for a 66-character
   * transaction hash in a narrow column), otherwise cut into lines of a multiple of 16 characters.
   */
  fitMono(text: string, width: number, size: number): { text: string; size: number } {
    const fits = (s: number) => text.length * s * COURIER_EM <= width;
    if (fits(size) || /\s/.test(text)) return { text, size };
    const shrunk = width / (text.length * COURIER_EM);
    if (shrunk >= 7) return { text, size: Math.floor(shrunk * 10) / 10 };
    const chunk = Math.max(16, Math.floor(width / (size * COURIER_EM) / 16) * 16);
    return { text: text.match(new RegExp(`.{1,${chunk}}`, "g"))!.join("\n"), size };
  }

  heading(text: string): void {
    this.ensure(60);
    this.doc.moveDown(0.8);
    this.doc
      .font(FONT.bold)
      .fontSize(13)
      .fillColor(COLOR.accent)
      .text(text, this.left, this.doc.y, { width: this.width });
    const y = this.doc.y + 2;
    this.doc
      .moveTo(this.left, y)
      .lineTo(this.left + this.width, y)
      .lineWidth(0.6)
      .strokeColor(COLOR.rule)
      .stroke();
    this.doc.y = y + 6;
  }

  paragraph(text: string, options: { size?: number; color?: string } = {}): void {
    this.doc
      .font(FONT.body)
      .fontSize(options.size ?? 9.5)
      .fillColor(options.color ?? COLOR.ink);
    this.ensure(this.doc.heightOfString(text, { width: this.width }) + 4);
    this.doc.text(text, this.left, this.doc.y, { width: this.width, lineGap: 1.5 });
    this.doc.moveDown(0.4);
  }

  /** One fact: a muted label on the left, its value (monospace for hashes and addresses) on the right. */
  field(label: string, value: string, options: { mono?: boolean; x?: number; width?: number } = {}): void {
    const x = options.x ?? this.left;
    const width = options.width ?? this.width;
    const valueWidth = width - LABEL_WIDTH;
    const { text, size } = options.mono ? this.fitMono(value, valueWidth, 8.5) : { text: value, size: 9.5 };
    this.doc.font(options.mono ? FONT.mono : FONT.body).fontSize(size);
    const height = Math.max(12, this.doc.heightOfString(text, { width: valueWidth })) + 3;
    this.ensure(height);
    const y = this.doc.y;
    this.doc
      .font(FONT.body)
      .fontSize(9)
      .fillColor(COLOR.muted)
      .text(label, x, y + (options.mono ? 0.5 : 0), { width: LABEL_WIDTH - 8 });
    this.doc
      .font(options.mono ? FONT.mono : FONT.body)
      .fontSize(size)
      .fillColor(COLOR.ink)
      .text(text, x + LABEL_WIDTH, y, { width: valueWidth });
    this.doc.y = y + height;
  }

  /** A shaded block of commands in monospace. */
  code(lines: string[]): void {
    const text = lines.join("\n");
    this.doc.font(FONT.mono).fontSize(8);
    const height = this.doc.heightOfString(text, { width: this.width - 16 }) + 10;
    this.ensure(height + 4);
    const y = this.doc.y;
    this.doc.rect(this.left, y, this.width, height).fill(COLOR.code);
    this.doc.fillColor(COLOR.ink).text(text, this.left + 8, y + 5, { width: this.width - 16 });
    this.doc.y = y + height + 6;
  }

  /** A table with a repeated header row; `mono` columns use Courier. */
  table(columns: { title: string; width: number; mono?: boolean }[], rows: string[][]): void {
    const size = 7.5;
    const rowHeight = 11;
    const header = () => {
      const y = this.doc.y;
      let x = this.left;
      this.doc.font(FONT.bold).fontSize(size).fillColor(COLOR.muted);
      for (const column of columns) {
        this.doc.text(column.title, x, y, { width: column.width - 4, lineBreak: false });
        x += column.width;
      }
      this.doc
        .moveTo(this.left, y + rowHeight - 2)
        .lineTo(this.left + this.width, y + rowHeight - 2)
        .lineWidth(0.5)
        .strokeColor(COLOR.rule)
        .stroke();
      this.doc.y = y + rowHeight + 1;
    };
    this.ensure(rowHeight * 3);
    header();
    rows.forEach((row, index) => {
      if (this.doc.y + rowHeight > this.bottom) {
        this.doc.addPage();
        header();
      }
      const y = this.doc.y;
      if (index % 2 === 1) this.doc.rect(this.left, y - 1.5, this.width, rowHeight).fill(COLOR.box);
      let x = this.left;
      columns.forEach((column, i) => {
        this.doc
          .font(column.mono ? FONT.mono : FONT.body)
          .fontSize(size)
          .fillColor(COLOR.ink)
          .text(row[i] ?? "", x, y, { width: column.width - 4, lineBreak: false, ellipsis: true });
        x += column.width;
      });
      this.doc.y = y + rowHeight;
    });
    this.doc.moveDown(0.5);
  }
}

function summaryRows(manifest: ReportFacts): [string, string, boolean][] {
  const reg = manifest.registration;
  const rows: [string, string, boolean][] = [];
  if (manifest.work.title) rows.push(["Work", manifest.work.title, false]);
  rows.push(["Content SHA-256", manifest.work.contentHash.slice(2), true]);
  rows.push(["Creator", manifest.work.creator, true]);
  rows.push(["Registered", `${formatTime(reg.blockTimestamp)} in block ${reg.blockNumber}`, false]);
  rows.push(["Chain", chainName(reg.chainId), false]);
  rows.push(["Transaction", reg.txHash, true]);
  rows.push(["Licenses issued", String(manifest.licenses.count), false]);
  rows.push(["Infringement observed", formatTime(manifest.infringement.observedAt), false]);
  if (manifest.infringement.suspectMatchesWork !== undefined) {
    rows.push([
      "Suspect copy",
      manifest.infringement.suspectMatchesWork
        ? "identical to the registered work (same SHA-256)"
        : "differs from the registered file (other SHA-256)",
      false,
    ]);
  }
  return rows;
}

function summaryBox(layout: Layout, manifest: ReportFacts): void {
  const { doc } = layout;
  const rows = summaryRows(manifest);
  const inner = layout.width - 24;
  const heights = rows.map(([, value, mono]) => {
    const { text, size } = mono
      ? layout.fitMono(value, inner - LABEL_WIDTH, 8.5)
      : { text: value, size: 9.5 };
    doc.font(mono ? FONT.mono : FONT.body).fontSize(size);
    return Math.max(12, doc.heightOfString(text, { width: inner - LABEL_WIDTH })) + 3;
  });
  const height = heights.reduce((a, b) => a + b, 0) + 36;
  const top = doc.y;
  doc
    .roundedRect(layout.left, top, layout.width, height, 6)
    .lineWidth(0.8)
    .fillAndStroke(COLOR.box, COLOR.rule);
  doc
    .font(FONT.bold)
    .fontSize(10)
    .fillColor(COLOR.accent)
    .text("Summary", layout.left + 12, top + 10);
  doc.y = top + 28;
  for (const [label, value, mono] of rows)
    layout.field(label, value, { mono, x: layout.left + 12, width: inner });
  doc.y = top + height + 10;
}

function proofStatement(manifest: ReportFacts): string {
  const reg = manifest.registration;
  const how =
    reg.kind === "direct"
      ? `registered it as work #${manifest.work.workId} in transaction ${reg.txHash}`
      : `had it anchored as a leaf of the Merkle batch #${reg.batchId} in transaction ${reg.txHash}`;
  return (
    `A file whose SHA-256 is ${manifest.work.contentHash.slice(2)} existed no later than ` +
    `${formatTime(reg.blockTimestamp)}: its creator ${manifest.work.creator} ${how}, included in block ` +
    `${reg.blockNumber} of the ${chainName(reg.chainId)}. A block cannot be altered after the fact without ` +
    `changing its hash and the hash of every later block, which the whole network holds. Everything below ` +
    `can be checked independently of Rights Ledger with the files of this bundle and standard tools.`
  );
}

function workSection(layout: Layout, manifest: ReportFacts): void {
  const work = manifest.work;
  layout.heading("1. The work");
  if (work.title) layout.field("Title", work.title);
  if (work.workId) layout.field("Work id", `#${work.workId}`);
  layout.field("SHA-256 (sha256sum)", work.contentHash.slice(2), { mono: true });
  if (work.cid) layout.field("IPFS CID", work.cid, { mono: true });
  if (work.metadataURI) layout.field("Metadata", work.metadataURI, { mono: true });
  layout.field("Creator", work.creator, { mono: true });
  layout.field("Co-authors", work.coAuthors.length ? work.coAuthors.join("\n") : "none named", {
    mono: work.coAuthors.length > 0,
  });
  if (work.versions.length > 1) {
    layout.paragraph("Versions of the work, oldest first (each names the earlier one it replaces):", {
      color: COLOR.muted,
      size: 9,
    });
    layout.table(
      [
        { title: "Work id", width: 50 },
        { title: "Content SHA-256", width: 300, mono: true },
        { title: "Registered", width: layout.width - 350 },
      ],
      work.versions.map((v) => [
        `#${v.workId}`,
        v.contentHash.slice(2),
        v.registeredAt ? formatTime(v.registeredAt) : "",
      ]),
    );
  }
}

function registrationSection(layout: Layout, manifest: ReportFacts): void {
  const reg = manifest.registration;
  layout.heading("2. Registration on the blockchain");
  layout.field("Chain", chainName(reg.chainId));
  layout.field("Registry contract", reg.registry, { mono: true });
  layout.field("Transaction", reg.txHash, { mono: true });
  layout.field("Block number", String(reg.blockNumber));
  layout.field("Block hash", reg.blockHash, { mono: true });
  layout.field("Block time", `${formatTime(reg.blockTimestamp)} (unix ${reg.blockTimestamp})`);
  if (reg.kind === "direct") {
    layout.field("Event", `WorkRegistered (log index ${reg.logIndex}): work #${manifest.work.workId}`);
  } else {
    layout.field("Event", `BatchAnchored (log index ${reg.logIndex}): batch #${reg.batchId}`);
    layout.field("Merkle root", reg.merkleRoot, { mono: true });
    layout.field("Leaf", `${reg.leaf} (index ${reg.leafIndex})`, { mono: true });
    layout.field("Signed digest", reg.registrationDigest, { mono: true });
    layout.field("Proof", reg.proof.length ? reg.proof.join("\n") : "(single-leaf batch)", { mono: true });
    layout.paragraph(
      "The leaf is keccak256(keccak256(abi.encode(leafIndex, creator, contentHash, signedDigest))), OpenZeppelin's " +
        "standard Merkle tree encoding; hashing it with the proof elements (each pair sorted) gives the anchored root. " +
        "The signed digest is the EIP-712 Register message the creator signed, so the leaf names its creator.",
      { size: 8.5, color: COLOR.muted },
    );
  }
}

function timelineSection(layout: Layout, manifest: ReportFacts): void {
  const entries: [string, string][] = [];
  for (const v of manifest.work.versions) {
    if (v.registeredAt && v.contentHash !== manifest.work.contentHash)
      entries.push([v.registeredAt, `Earlier version #${v.workId} registered`]);
  }
  const reg = manifest.registration;
  entries.push([
    new Date(reg.blockTimestamp * 1000).toISOString(),
    `Work registered on chain (block ${reg.blockNumber})`,
  ]);
  const { count, issued } = manifest.licenses;
  if (issued.count === 1) entries.push([issued.first, "License issued"]);
  if (issued.count > 1) {
    entries.push([issued.first, `First of ${count} licenses issued`]);
    entries.push([issued.latest, "Latest license issued"]);
  }
  entries.push([manifest.infringement.observedAt, "Suspected infringement observed"]);
  entries.push([manifest.generatedAt, "This evidence bundle generated"]);
  entries.sort(([a], [b]) => Date.parse(a) - Date.parse(b));
  layout.heading("3. Timeline");
  for (const [time, what] of entries) layout.field(formatTime(time), what);
}

function licensesSection(layout: Layout, manifest: ReportFacts): void {
  layout.heading("4. Licenses issued for the work");
  if (manifest.licenses.count === 0) {
    layout.paragraph("No license has been issued for this work.");
    return;
  }
  const { count, first: listed } = manifest.licenses;
  layout.paragraph(
    count > listed.length
      ? `${count} licenses (ERC-721 tokens); the first ${listed.length} by token id are listed below. ` +
          `manifest.json lists all ${count}, covered by the bundle's signature: a holder not listed there ` +
          "holds no license from the platform."
      : `${count} license${count === 1 ? "" : "s"} (ERC-721 tokens). ` +
          "A holder not listed here holds no license from the platform.",
  );
  const now = Date.parse(manifest.generatedAt) / 1000;
  layout.table(
    [
      { title: "Token", width: 48 },
      { title: "Holder", width: 196, mono: true },
      { title: "Issued", width: 92 },
      { title: "Expires", width: 92 },
      { title: "Status", width: layout.width - 428 },
    ],
    listed.map((l) => [
      `#${l.tokenId}`,
      l.holder,
      l.issuedAt ? formatTime(l.issuedAt).slice(0, 16) : "",
      l.expiresAt === 0 ? "perpetual" : formatTime(l.expiresAt).slice(0, 16),
      l.revoked ? "revoked" : l.expiresAt !== 0 && l.expiresAt < now ? "expired" : "valid",
    ]),
  );
}

function infringementSection(layout: Layout, manifest: ReportFacts): void {
  const record = manifest.infringement;
  layout.heading("5. Infringement record");
  if (record.url) layout.field("Location", record.url, { mono: true });
  layout.field("Observed at", formatTime(record.observedAt));
  if (record.notes) layout.field("Notes", record.notes);
  if (record.suspectSha256) {
    layout.field("Suspect SHA-256", record.suspectSha256.slice(2), { mono: true });
    layout.field(
      "Comparison",
      record.suspectMatchesWork
        ? "The suspect copy is bit-for-bit identical to the registered file."
        : "The suspect copy is not bit-for-bit identical to the registered file (it may still be a modified copy).",
    );
  }
}

function filesSection(layout: Layout, manifest: ReportFacts): void {
  layout.heading("6. Files in this bundle");
  layout.paragraph(
    "manifest.json lists the size, SHA-256 and SHA3-512 of every file below, and of this report. " +
      "signature.json and timestamp.tsr attest manifest.json itself, so they are not listed in it.",
    { size: 9 },
  );
  for (const file of manifest.files) {
    layout.ensure(60);
    layout.doc
      .font(FONT.monoBold)
      .fontSize(8.5)
      .fillColor(COLOR.ink)
      .text(file.path, layout.left, layout.doc.y);
    layout.doc.moveDown(0.2);
    layout.field("Size", `${file.size.toLocaleString("en-US")} bytes`);
    layout.field("SHA-256", file.sha256, { mono: true });
    layout.field("SHA3-512", file.sha3_512, { mono: true });
    layout.doc.moveDown(0.3);
  }
}

function instructionsSection(layout: Layout, manifest: ReportFacts, options: ReportOptions): void {
  const reg = manifest.registration;
  const original =
    manifest.files.find((f) => f.path.startsWith(BUNDLE_PATHS.originalDir))?.path ?? "<original file>";
  const blockHex = `0x${reg.blockNumber.toString(16)}`;
  layout.heading("7. How to verify this evidence yourself");
  layout.paragraph(
    "Unzip the bundle and run these commands in its folder (Linux or macOS; Windows: WSL or Git Bash).",
  );

  layout.paragraph("Step 1. The manifest is the document the platform signed and time-stamped:");
  layout.code(["sha256sum manifest.json", "# must print the manifestSha256 of signature.json (without 0x)"]);
  layout.paragraph(
    `signature.json is an EIP-191 personal_sign signature over those 32 bytes by ${options.signer}; ` +
      "any Ethereum library recovers the signer (ethers: verifyMessage(getBytes(manifestSha256), signature)).",
    { size: 9 },
  );
  if (options.timestamped) {
    layout.paragraph(
      "Step 2. The independent time-stamping authority's token (RFC 3161) covers the same digest:",
    );
    layout.code([
      "openssl ts -reply -in timestamp.tsr -text        # shows the time and authority",
      "openssl ts -verify -in timestamp.tsr \\",
      "  -digest $(sha256sum manifest.json | cut -d' ' -f1) \\",
      "  -CAfile <the authority's root certificate>.pem",
    ]);
  } else {
    layout.paragraph(
      "Step 2. No time-stamping authority was configured for this bundle; step 1 and the blockchain date it.",
    );
  }
  const listed = [...manifest.files.map((f) => f.path), BUNDLE_PATHS.report];
  layout.paragraph(
    "Step 3. Each file matches the hashes listed in manifest.json (two independent hash functions):",
  );
  layout.code([
    ...shellCommand("sha256sum", listed),
    ...shellCommand("sha3sum -a 512", listed),
    "# without sha3sum: openssl dgst -sha3-512 <file> prints the same digest",
  ]);
  layout.paragraph("Step 4. The original file is the registered work:");
  layout.code([`sha256sum ${original}`, `# must print ${manifest.work.contentHash.slice(2)}`]);
  layout.paragraph(
    `Step 5. The block is part of the chain. Ask any node of the ${chainName(reg.chainId)} or a block ` +
      `explorer for block ${reg.blockNumber}; its hash must be ${reg.blockHash}. ` +
      "chain/block-header.json is the node's answer; its RLP encoding hashes (keccak-256) to that block hash.",
  );
  layout.code([
    "curl -s -H 'content-type: application/json' <RPC URL> --data \\",
    `  '{"jsonrpc":"2.0","id":1,"method":"eth_getBlockByNumber","params":["${blockHex}",false]}'`,
  ]);
  const event =
    reg.kind === "direct"
      ? `WorkRegistered(work #${manifest.work.workId}, the content hash, the creator)`
      : `BatchAnchored(batch #${reg.batchId}, root ${reg.merkleRoot})`;
  layout.paragraph(
    `Step 6. The transaction succeeded and the registry ${reg.registry} emitted ${event} at log index ` +
      `${reg.logIndex}: see chain/receipt.json, or eth_getTransactionReceipt for ${reg.txHash} on any node.`,
  );
  layout.paragraph(
    "Step 7. All of the above, and the header hashing, in one command (from the Rights Ledger source):",
  );
  layout.code([
    `npx rights-ledger verify bundle.zip --file ${original} \\`,
    "  --rpc <RPC URL> --ca <TSA root certificate>.pem",
  ]);
}

/** A shell command over many files, continued with backslashes so no line is cut inside a path. */
function shellCommand(command: string, files: string[], maxChars = 84): string[] {
  const lines: string[] = [];
  let line = command;
  for (const file of files) {
    if (line.length + 1 + file.length + 2 > maxChars) {
      lines.push(`${line} \\`);
      line = `  ${file}`;
    } else {
      line = `${line} ${file}`;
    }
  }
  return [...lines, line];
}

function footers(layout: Layout, manifest: ReportFacts): void {
  const { doc } = layout;
  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    const bottomMargin = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    const y = doc.page.height - PAGE.margin + 8;
    doc
      .moveTo(layout.left, y - 6)
      .lineTo(layout.left + layout.width, y - 6)
      .lineWidth(0.5)
      .strokeColor(COLOR.rule)
      .stroke();
    doc.font(FONT.body).fontSize(7.5).fillColor(COLOR.muted);
    doc.text(
      `Rights Ledger evidence report · work ${manifest.work.contentHash.slice(0, 18)}…`,
      layout.left,
      y,
      {
        width: layout.width,
        lineBreak: false,
      },
    );
    doc.text(`Page ${i - range.start + 1} of ${range.count}`, layout.left, y, {
      width: layout.width,
      align: "right",
      lineBreak: false,
    });
    doc.page.margins.bottom = bottomMargin;
  }
}

/**
 * Renders the proof-of-existence report: summary, facts, timeline, licenses, infringement record,
 * file hashes and verification steps. `manifest.files` lists the bundle's other files (not the report).
 */
export function renderReport(manifest: ReportFacts, options: ReportOptions): Promise<Uint8Array> {
  const doc = new PDFDocument({
    size: PAGE.size,
    margins: { top: PAGE.margin, bottom: PAGE.margin, left: PAGE.margin, right: PAGE.margin },
    bufferPages: true,
    info: {
      Title: `Evidence report: ${manifest.work.title ?? manifest.work.contentHash}`,
      Author: "Rights Ledger",
      Subject: "Proof of existence and authorship",
      CreationDate: new Date(manifest.generatedAt),
    },
  });
  const chunks: Buffer[] = [];
  doc.on("data", (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Uint8Array>((resolve, reject) => {
    doc.on("end", () => resolve(new Uint8Array(Buffer.concat(chunks))));
    doc.on("error", reject);
  });

  const layout = new Layout(doc);
  doc
    .font(FONT.bold)
    .fontSize(20)
    .fillColor(COLOR.ink)
    .text("Proof of existence and authorship", layout.left, PAGE.margin);
  doc
    .font(FONT.body)
    .fontSize(10)
    .fillColor(COLOR.muted)
    .text(`Rights Ledger evidence report · generated ${formatTime(manifest.generatedAt)}`);
  doc.moveDown(1);
  summaryBox(layout, manifest);
  layout.paragraph(proofStatement(manifest));
  workSection(layout, manifest);
  registrationSection(layout, manifest);
  timelineSection(layout, manifest);
  licensesSection(layout, manifest);
  infringementSection(layout, manifest);
  filesSection(layout, manifest);
  instructionsSection(layout, manifest, options);
  footers(layout, manifest);
  doc.end();
  return done;
}
