import { createHash } from "node:crypto";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { getAddress, getBytes } from "ethers";
import type { Certificate } from "pkijs";
import packageJson from "../../package.json" with { type: "json" };
import { blockHashOf, rpcBlockSchema } from "../../lib/evidence/block-header.ts";
import { digestsOf, sha256Bytes32 } from "../../lib/evidence/hashes.ts";
import {
  BUNDLE_PATHS,
  MANIFEST_ABOUT,
  MANIFEST_FORMAT,
  SIGNATURE_SCHEME,
  manifestSchema,
  type FileEntry,
  type Manifest,
  type RegistrationFacts,
  type SignatureFile,
} from "../../lib/evidence/manifest.ts";
import {
  decodeBatchAnchored,
  decodeWorkRegistered,
  merkleLeafOf,
  supersededAtReveal,
  BATCH_LEAF_ENCODING,
  rpcReceiptSchema,
  type RpcReceipt,
} from "../../lib/evidence/registry.ts";
import { requestTimestamp } from "../../lib/evidence/timestamp.ts";
import { DeflatedPiece, ZipWriter } from "../../lib/evidence/zip.ts";
import { listLicenses, type LicenseInput, type LicenseListing } from "./license-listing.ts";
import { renderReport } from "./report-pdf.ts";

type Uint = bigint | number | string;

export interface WorkVersionInput {
  workId: Uint;
  contentHash: string;
  parentId: Uint;
  txHash?: string;
  registeredAt?: Date | string;
}

export type RegistrationInput =
  | { kind: "direct"; chainId: number; registry: string; txHash: string }
  | {
      kind: "batch";
      chainId: number;
      registry: string;
      txHash: string;
      merkleRoot: string;
      /** The leaf's index in the batch: its work id is the batch's first plus this. */
      leafIndex: number;
      /** The EIP-712 digest of the Register message the creator signed, which the leaf binds. */
      registrationDigest: string;
      proof: string[];
    };

/** Signs the manifest digest (EIP-191); an ethers Wallet fits. */
export interface ManifestSigner {
  getAddress(): Promise<string>;
  signMessage(message: Uint8Array): Promise<string>;
}

/** Everything an evidence bundle is built from; nothing is read from a database or the chain here. */
export interface BundleInput {
  work: {
    /** The registered work id; taken from the WorkRegistered event when omitted. Absent for batch works. */
    workId?: Uint;
    title?: string;
    contentHash: string;
    cid?: string;
    metadataURI?: string;
    creator: string;
    coAuthors?: string[];
    /** Oldest first, ending with this work. */
    versions?: WorkVersionInput[];
  };
  registration: RegistrationInput;
  licenses?: LicenseInput[];
  /** The licenses already listed (as the database lists a busy work's); takes the place of `licenses`. */
  licenseListing?: LicenseListing;
  infringement: { url?: string; observedAt: Date | string; notes?: string; suspectSha256?: string };
  /** The raw `eth_getTransactionReceipt` answer for registration.txHash. */
  receipt: unknown;
  /** The raw `eth_getBlockByNumber(n, false)` answer for the receipt's block. */
  blockHeader: unknown;
  original?: { name: string; bytes: Uint8Array };
  signer: ManifestSigner;
  /** RFC 3161 time-stamping authority; without it the bundle has no timestamp.tsr. */
  tsaUrl?: string;
  /** Trust anchors the TSA's answer must chain to before it is put in the bundle. */
  tsaTrustedCerts?: Certificate[];
  generatedAt?: Date;
}

/** The inputs contradict each other or the chain facts; building again will not help. */
export class BundleInputError extends Error {}

const lower = (hex: string) => hex.toLowerCase();
const iso = (t: Date | string) => new Date(t).toISOString();

/** A file name safe in any zip tool and file system: no directories, no leading dots, short. */
export function safeFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? "";
  const cleaned = base
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[^A-Za-z0-9._-]+/g, "_")
    .replace(/^[._]+/, "")
    .slice(-100);
  return cleaned.length > 0 ? cleaned : "original.bin";
}

function chainFacts(input: BundleInput): {
  receipt: RpcReceipt;
  registration: RegistrationFacts;
  workId?: string;
} {
  const reg = input.registration;
  const receipt = rpcReceiptSchema.parse(input.receipt);
  const block = rpcBlockSchema.parse(input.blockHeader);
  if (lower(receipt.transactionHash) !== lower(reg.txHash)) {
    throw new BundleInputError(`the receipt is for ${receipt.transactionHash}, not ${reg.txHash}`);
  }
  if (BigInt(receipt.status) !== 1n) throw new BundleInputError(`transaction ${reg.txHash} reverted`);
  if (lower(receipt.blockHash) !== lower(block.hash)) {
    throw new BundleInputError(`the receipt's block ${receipt.blockHash} is not the header's ${block.hash}`);
  }
  if (lower(blockHashOf(block)) !== lower(block.hash)) {
    throw new BundleInputError(
      `the header does not hash to ${block.hash}: unsupported header format on this chain`,
    );
  }
  const facts = {
    chainId: reg.chainId,
    registry: getAddress(reg.registry),
    txHash: lower(reg.txHash),
    blockNumber: Number(BigInt(block.number)),
    blockHash: lower(block.hash),
    blockTimestamp: Number(BigInt(block.timestamp)),
  };
  const contentHash = lower(input.work.contentHash);
  const creator = getAddress(input.work.creator);

  if (reg.kind === "direct") {
    const event = receipt.logs
      .map((log) => decodeWorkRegistered(log, reg.registry))
      .find((e) => e !== null && lower(e.contentHash) === contentHash && e.creator === creator);
    if (!event)
      throw new BundleInputError(`the receipt has no WorkRegistered event for ${contentHash} by ${creator}`);
    if (supersededAtReveal(receipt, reg.registry, event.workId)) {
      throw new BundleInputError(`claim ${event.workId} lost to an earlier claim of ${contentHash}`);
    }
    if (input.work.workId !== undefined && BigInt(input.work.workId) !== event.workId) {
      throw new BundleInputError(`work id ${input.work.workId} differs from the event's ${event.workId}`);
    }
    return {
      receipt,
      registration: { kind: "direct", ...facts, logIndex: event.logIndex },
      workId: event.workId.toString(),
    };
  }

  const root = lower(reg.merkleRoot);
  const event = receipt.logs
    .map((log) => decodeBatchAnchored(log, reg.registry))
    .find((e) => e !== null && lower(e.merkleRoot) === root);
  if (!event) throw new BundleInputError(`the receipt has no BatchAnchored event for root ${root}`);
  const index = BigInt(reg.leafIndex);
  const digest = lower(reg.registrationDigest);
  const leaf = merkleLeafOf(index, creator, contentHash, digest);
  if (
    !StandardMerkleTree.verify(
      root,
      [...BATCH_LEAF_ENCODING],
      [index, creator, contentHash, digest],
      reg.proof,
    )
  ) {
    throw new BundleInputError(`the Merkle proof does not lead from ${leaf} to root ${root}`);
  }
  return {
    receipt,
    registration: {
      kind: "batch",
      ...facts,
      logIndex: event.logIndex,
      batchId: event.batchId.toString(),
      merkleRoot: root,
      leaf,
      leafIndex: reg.leafIndex,
      registrationDigest: digest,
      proof: reg.proof.map(lower),
    },
    workId: input.work.workId === undefined ? undefined : BigInt(input.work.workId).toString(),
  };
}

function jsonFile(value: unknown): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * manifest.json: indented like the other JSON files, except that each license takes one line (the
 * listing's, in place of the manifest's empty list), so that a work's 100,000 licenses read as a
 * list and do not triple the file (and the time to write, hash, compress and verify it). Given as
 * the bytes before the listing's chunks and those after them.
 */
function manifestFile(manifest: Manifest, licenses: LicenseListing): { head: Uint8Array; tail: Uint8Array } {
  const head: string[] = [];
  const tail: string[] = [];
  let text = head;
  Object.entries(manifest)
    .filter(([, value]) => value !== undefined)
    .forEach(([key, value], index) => {
      text.push(`${index === 0 ? "{\n" : ",\n"}  ${JSON.stringify(key)}: `);
      if (key === "licenses" && licenses.count > 0) {
        text.push("[\n");
        text = tail;
        text.push("\n  ]");
      } else {
        text.push(JSON.stringify(value, null, 2).replace(/\n/g, "\n  "));
      }
    });
  text.push("\n}\n");
  return { head: Buffer.from(head.join("")), tail: Buffer.from(tail.join("")) };
}

/**
 * Builds an evidence bundle (zip): manifest.json, the raw receipt and block header, report.pdf, the
 * original file when given, signature.json (EIP-191 over the manifest's SHA-256) and, with a TSA,
 * timestamp.tsr (RFC 3161 over the same digest).
 * @throws BundleInputError when the inputs do not describe a successful registration of the work.
 */
export async function buildBundle(input: BundleInput): Promise<Uint8Array> {
  const generatedAt = (input.generatedAt ?? new Date()).toISOString();
  const { registration, workId } = chainFacts(input);
  const contentHash = lower(input.work.contentHash);
  const suspect =
    input.infringement.suspectSha256 === undefined ? undefined : lower(input.infringement.suspectSha256);

  const files = new Map<string, Uint8Array>();
  // Each file starts compressing (on the thread pool) as soon as its bytes are known.
  const zip = new ZipWriter();
  const addFile = (path: string, bytes: Uint8Array) => {
    files.set(path, bytes);
    zip.add(path, bytes);
  };
  addFile(BUNDLE_PATHS.receipt, jsonFile(input.receipt));
  addFile(BUNDLE_PATHS.blockHeader, jsonFile(input.blockHeader));
  if (input.original) {
    if (sha256Bytes32(input.original.bytes) !== contentHash) {
      throw new BundleInputError(`the original file does not hash to the work's content hash ${contentHash}`);
    }
    addFile(`${BUNDLE_PATHS.originalDir}${safeFileName(input.original.name)}`, input.original.bytes);
  }
  const listed = (): FileEntry[] => [...files].map(([path, bytes]) => ({ path, ...digestsOf(bytes) }));
  // Checked against the license schema as it is listed; the manifest's list stays empty until written.
  const licenses = input.licenseListing ?? (await listLicenses(input.licenses ?? []));
  // A busy work's listing compresses on the thread pool, a piece a chunk, while the report is drawn.
  const licensePieces = licenses.chunks.map((chunk) => new DeflatedPiece(chunk, false));

  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    about: MANIFEST_ABOUT,
    generator: { name: packageJson.name, version: packageJson.version },
    generatedAt,
    work: {
      workId,
      title: input.work.title,
      contentHash,
      cid: input.work.cid,
      metadataURI: input.work.metadataURI,
      creator: getAddress(input.work.creator),
      coAuthors: (input.work.coAuthors ?? []).map((a) => getAddress(a)),
      versions: (input.work.versions ?? []).map((v) => ({
        workId: BigInt(v.workId).toString(),
        contentHash: lower(v.contentHash),
        parentId: BigInt(v.parentId).toString(),
        txHash: v.txHash && lower(v.txHash),
        registeredAt: v.registeredAt && iso(v.registeredAt),
      })),
    },
    registration,
    licenses: [],
    infringement: {
      url: input.infringement.url,
      observedAt: iso(input.infringement.observedAt),
      notes: input.infringement.notes,
      suspectSha256: suspect,
      suspectMatchesWork: suspect === undefined ? undefined : suspect === contentHash,
    },
    files: listed(),
  };
  const signer = getAddress(await input.signer.getAddress());
  addFile(
    BUNDLE_PATHS.report,
    // The manifest is checked against its schema once, below; its licenses were checked as listed.
    await renderReport({ ...manifest, licenses }, { timestamped: !!input.tsaUrl, signer }),
  );
  manifest.files = listed();

  const { head, tail } = manifestFile(manifestSchema.parse(manifest), licenses);
  zip.addPieces(BUNDLE_PATHS.manifest, [
    new DeflatedPiece(head, false),
    ...licensePieces,
    new DeflatedPiece(tail, true),
  ]);
  const hash = createHash("sha256");
  for (const part of [head, ...licenses.chunks, tail]) hash.update(part);
  const digest = `0x${hash.digest("hex")}`;
  const signature: SignatureFile = {
    scheme: SIGNATURE_SCHEME,
    manifestSha256: digest,
    signer,
    signature: await input.signer.signMessage(getBytes(digest)),
  };

  zip.add(BUNDLE_PATHS.signature, jsonFile(signature));
  if (input.tsaUrl) {
    const { response } = await requestTimestamp(input.tsaUrl, digest, {
      trustedCerts: input.tsaTrustedCerts,
    });
    zip.add(BUNDLE_PATHS.timestamp, response);
  }
  // The manifest and what attests it first, as a reader lists them; the files it lists after.
  return zip.finish(new Date(generatedAt), [
    BUNDLE_PATHS.manifest,
    BUNDLE_PATHS.signature,
    BUNDLE_PATHS.timestamp,
  ]);
}
