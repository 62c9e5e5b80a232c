import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { getBytes, type BaseWallet } from "ethers";
import JSZip from "jszip";
import type { HardhatEthers, HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { digestsOf, sha256Bytes32 } from "../../lib/evidence/hashes.ts";
import { BATCH_LEAF_ENCODING } from "../../lib/evidence/registry.ts";
import {
  BUNDLE_PATHS,
  SIGNATURE_SCHEME,
  manifestSchema,
  type Manifest,
} from "../../lib/evidence/manifest.ts";
import { fetchChainFacts, type ChainFacts } from "../../server/evidence/chain-facts.ts";
import type { BundleInput } from "../../server/evidence/build-bundle.ts";
import type { WorkRegistry } from "../../types/typechain/index.js";
import { SAMPLE_CID, SAMPLE_METADATA_URI, commitAndReveal, registerDigest } from "./registry.ts";

/** A small but real file to register: a PNG-like header and some text. */
export function sampleFile(tag = "sunset"): Uint8Array {
  return new TextEncoder().encode(
    `\u0089PNG\r\n\u001a\n${tag}: a photograph of the harbour at dusk, 2024.\n`,
  );
}

export interface EvidenceChain {
  ethers: HardhatEthers;
  registry: WorkRegistry;
  registryAddress: string;
  chainId: number;
  admin: HardhatEthersSigner;
  relayer: HardhatEthersSigner;
  creator: HardhatEthersSigner;
  others: HardhatEthersSigner[];
}

/** Deploys the registry on a fresh in-process Hardhat chain, with a relayer allowed to anchor batches. */
export async function deployEvidenceChain(ethers: HardhatEthers): Promise<EvidenceChain> {
  const [admin, relayer, creator, ...others] = await ethers.getSigners();
  if (!admin || !relayer || !creator) throw new Error("the test network has too few accounts");
  const registry = (await ethers.deployContract("WorkRegistry", [admin.address])) as unknown as WorkRegistry;
  await (await registry.grantRole(await registry.REGISTRAR_ROLE(), relayer.address)).wait();
  return {
    ethers,
    registry,
    registryAddress: await registry.getAddress(),
    chainId: Number((await ethers.provider.getNetwork()).chainId),
    admin,
    relayer,
    creator,
    others,
  };
}

export interface DirectRegistration extends ChainFacts {
  txHash: string;
  workId: bigint;
  contentHash: string;
  bytes: Uint8Array;
}

/** Registers `bytes` by `creator` and fetches the raw receipt and header of the registration. */
export async function registerFile(
  chain: EvidenceChain,
  bytes: Uint8Array,
  creator: HardhatEthersSigner = chain.creator,
  parentId = 0n,
): Promise<DirectRegistration> {
  const contentHash = sha256Bytes32(bytes);
  const { workId, revealTx: tx } = await commitAndReveal(chain.registry, creator, contentHash, { parentId });
  return {
    txHash: tx.hash,
    workId,
    contentHash,
    bytes,
    ...(await fetchChainFacts(chain.ethers.provider, tx.hash)),
  };
}

export interface BatchRegistration extends ChainFacts {
  txHash: string;
  /** Leaves of (leafIndex, creator, contentHash, registrationDigest). */
  tree: StandardMerkleTree<[bigint, string, string, string]>;
  /** The leaves' files, in tree input order. */
  files: Uint8Array[];
}

/** Anchors a Merkle batch of `files` by `creator` through the relayer. */
export async function anchorFiles(chain: EvidenceChain, files: Uint8Array[]): Promise<BatchRegistration> {
  const domain = { chainId: BigInt(chain.chainId), registry: chain.registryAddress };
  const tree = StandardMerkleTree.of(
    files.map((f, i) => {
      const message = {
        creator: chain.creator.address,
        contentHash: sha256Bytes32(f),
        cid: SAMPLE_CID,
        metadataURI: SAMPLE_METADATA_URI,
        parentId: 0n,
        nonce: BigInt(i + 1),
        deadline: 4_000_000_000n,
      };
      return [BigInt(i), message.creator, message.contentHash, registerDigest(domain, message)] as [
        bigint,
        string,
        string,
        string,
      ];
    }),
    [...BATCH_LEAF_ENCODING],
  );
  const tx = await chain.registry.connect(chain.relayer).anchorBatch(tree.root, files.length, SAMPLE_CID);
  await tx.wait();
  return { txHash: tx.hash, tree, files, ...(await fetchChainFacts(chain.ethers.provider, tx.hash)) };
}

export const OBSERVED_AT = "2025-03-14T09:26:53.000Z";
export const GENERATED_AT = new Date("2025-03-20T12:00:00.000Z");

/** Builder input for a direct registration, with two licenses and an infringement record. */
export function directInput(chain: EvidenceChain, reg: DirectRegistration, signer: BaseWallet): BundleInput {
  return {
    work: {
      title: "Harbour at dusk",
      contentHash: reg.contentHash,
      cid: SAMPLE_CID,
      metadataURI: SAMPLE_METADATA_URI,
      creator: chain.creator.address,
      coAuthors: [chain.others[0]!.address],
      versions: [{ workId: reg.workId, contentHash: reg.contentHash, parentId: 0n, txHash: reg.txHash }],
    },
    registration: {
      kind: "direct",
      chainId: chain.chainId,
      registry: chain.registryAddress,
      txHash: reg.txHash,
    },
    licenses: [
      {
        tokenId: 1n,
        offerId: 1n,
        holder: chain.others[1]!.address,
        expiresAt: 0,
        revoked: false,
        issuedAt: "2025-01-05T10:00:00Z",
      },
      {
        tokenId: 2n,
        offerId: 1n,
        holder: chain.others[2]!.address,
        expiresAt: 1_767_225_600,
        revoked: true,
        issuedAt: "2025-02-01T08:30:00Z",
      },
    ],
    infringement: {
      url: "https://pirate.example/gallery/harbour.png",
      observedAt: OBSERVED_AT,
      notes: "Offered for sale without a license.",
      suspectSha256: reg.contentHash,
    },
    receipt: reg.receipt,
    blockHeader: reg.blockHeader,
    original: { name: "harbour at dusk.png", bytes: reg.bytes },
    signer,
    generatedAt: GENERATED_AT,
  };
}

/** Builder input for leaf `index` of a batch. */
export function batchInput(
  chain: EvidenceChain,
  batch: BatchRegistration,
  index: number,
  signer: BaseWallet,
): BundleInput {
  const [leafIndex, creator, contentHash, registrationDigest] = batch.tree.at(index)!;
  return {
    work: { contentHash, creator },
    registration: {
      kind: "batch",
      chainId: chain.chainId,
      registry: chain.registryAddress,
      txHash: batch.txHash,
      merkleRoot: batch.tree.root,
      leafIndex: Number(leafIndex),
      registrationDigest,
      proof: batch.tree.getProof(index),
    },
    infringement: { observedAt: OBSERVED_AT },
    receipt: batch.receipt,
    blockHeader: batch.blockHeader,
    signer,
    generatedAt: GENERATED_AT,
  };
}

export async function unzip(zipBytes: Uint8Array): Promise<Map<string, Uint8Array>> {
  const zip = await JSZip.loadAsync(zipBytes);
  const files = new Map<string, Uint8Array>();
  for (const entry of Object.values(zip.files))
    if (!entry.dir) files.set(entry.name, await entry.async("uint8array"));
  return files;
}

export async function rezip(files: Map<string, Uint8Array>): Promise<Uint8Array> {
  const zip = new JSZip();
  for (const [path, bytes] of files) zip.file(path, bytes);
  return zip.generateAsync({ type: "uint8array" });
}

export function readManifest(files: Map<string, Uint8Array>): Manifest {
  return manifestSchema.parse(JSON.parse(new TextDecoder().decode(files.get(BUNDLE_PATHS.manifest))));
}

/** Flips one bit of byte `index` of `bytes` (a copy). */
export function flipByte(bytes: Uint8Array, index: number): Uint8Array {
  const copy = new Uint8Array(bytes);
  copy[index] = copy[index]! ^ 0x01;
  return copy;
}

/** Replaces the first occurrence of `from` by `to` (same length) inside `bytes`. */
export function replaceText(bytes: Uint8Array, from: string, to: string): Uint8Array {
  const text = new TextDecoder().decode(bytes);
  if (!text.includes(from) || from.length !== to.length) throw new Error(`cannot replace ${from}`);
  return new TextEncoder().encode(text.replace(from, to));
}

/**
 * A forgery by someone holding the platform key: changes files or the manifest, then lists the
 * files' hashes again and signs the new manifest. Only the checks of the forged facts can catch it.
 */
export async function forgeBundle(
  zipBytes: Uint8Array,
  signer: BaseWallet,
  forge: (files: Map<string, Uint8Array>, manifest: Manifest) => void,
): Promise<Uint8Array> {
  const files = await unzip(zipBytes);
  const manifest = readManifest(files);
  forge(files, manifest);
  manifest.files = manifest.files.map((f) => ({ path: f.path, ...digestsOf(files.get(f.path)!) }));
  const manifestBytes = new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`);
  const digest = sha256Bytes32(manifestBytes);
  files.set(BUNDLE_PATHS.manifest, manifestBytes);
  files.delete(BUNDLE_PATHS.timestamp);
  files.set(
    BUNDLE_PATHS.signature,
    new TextEncoder().encode(
      JSON.stringify({
        scheme: SIGNATURE_SCHEME,
        manifestSha256: digest,
        signer: signer.address,
        signature: await signer.signMessage(getBytes(digest)),
      }),
    ),
  );
  return rezip(files);
}
