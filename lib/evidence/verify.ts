/**
 * The independent verifier of evidence bundles, used by `npx rights-ledger verify` and the API. One
 * file, though long, so that whoever audits a bundle reads every check it makes in one place, in the
 * order it makes them, with nothing but `lib/` beneath it.
 */
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { getAddress, getBytes, toQuantity, verifyMessage } from "ethers";
import type { Certificate } from "pkijs";
import { blockHashOf, rpcBlockSchema, type RpcBlock } from "./block-header.ts";
import { digestsOf, sha256Bytes32 } from "./hashes.ts";
import {
  ATTESTATION_PATHS,
  BUNDLE_PATHS,
  manifestSchema,
  signatureFileSchema,
  type Manifest,
} from "./manifest.ts";
import {
  WORK_REGISTRY_INTERFACE_ID,
  decodeBatchAnchored,
  decodeWorkRegistered,
  supersededAtReveal,
  BATCH_LEAF_ENCODING,
  erc165Interface,
  logAt,
  merkleLeafOf,
  rpcReceiptSchema,
  workRegistryInterface,
  type RpcReceipt,
} from "./registry.ts";
import type { BundleVerification, VerificationCheck as Check } from "../api/evidence.ts";
import { httpRpc, type RpcSender } from "./rpc.ts";
import { verifyTimestamp, verifyTimestampChain } from "./timestamp.ts";
import { DEFAULT_ZIP_LIMITS, readZip, ZipLimitError, type ZipLimits } from "./zip.ts";

/** The checks, `ok` when none failed, as the API answers them; with the manifest for local callers. */
export interface VerifyResult extends BundleVerification {
  /** The parsed manifest, when it was valid. */
  manifest?: Manifest;
}

export interface VerifyOptions {
  /** The original file, checked against the work's content hash (otherwise the bundle's copy, if any). */
  file?: Uint8Array;
  /** A JSON-RPC node of the registration's chain for the online checks. */
  rpcUrl?: string;
  /** An already connected node (used instead of rpcUrl), e.g. a Hardhat provider in tests. */
  provider?: RpcSender;
  /** Confirmations the registration block needs on the node; default 12. */
  minConfirmations?: number;
  /** Trust anchors for the time-stamping authority's certificate chain. */
  trustedCerts?: Certificate[];
  /** The platform's signing address; without it any signer that verifies is accepted and named. */
  expectedSigner?: string;
  /** What reading the zip may cost; default `DEFAULT_ZIP_LIMITS`. */
  zipLimits?: ZipLimits;
}

export const DEFAULT_MIN_CONFIRMATIONS = 12;

/** Names of the checks, in the order they are reported; `file <path>` checks come after "timestamp chain". */
export const CHECK = {
  manifest: "manifest",
  contents: "bundle contents",
  signature: "signature",
  timestamp: "timestamp",
  timestampChain: "timestamp chain",
  original: "original file",
  header: "block header",
  receipt: "receipt",
  event: "registration event",
  merkle: "merkle proof",
  blockOnChain: "block on chain",
  registryContract: "registry contract",
  registrationOnChain: "registration on chain",
} as const;

export const fileCheckName = (path: string) => `file ${path}`;

const pass = (name: string, detail: string): Check => ({ name, ok: true, detail });
const fail = (name: string, detail: string): Check => ({ name, ok: false, detail });
const skip = (name: string, detail: string): Check => ({ name, ok: true, skipped: true, detail });
const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Runs `body`, turning a thrown error into a failed check. */
async function guarded(name: string, body: () => Check | Promise<Check>): Promise<Check> {
  try {
    return await body();
  } catch (err) {
    return fail(name, message(err));
  }
}

function parseJson(bytes: Uint8Array | undefined, path: string): unknown {
  if (!bytes) throw new Error(`${path} is missing`);
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new Error(`${path} is not valid JSON`);
  }
}

function contentsCheck(files: Map<string, Uint8Array>, manifest: Manifest): Check {
  const listed = new Set(manifest.files.map((f) => f.path));
  const extra = [...files.keys()].filter(
    (p) => p !== BUNDLE_PATHS.manifest && !ATTESTATION_PATHS.includes(p) && !listed.has(p),
  );
  if (extra.length > 0) return fail(CHECK.contents, `files not listed in manifest.json: ${extra.join(", ")}`);
  return pass(CHECK.contents, `every file is listed in manifest.json or attests it (${files.size} files)`);
}

function fileCheck(files: Map<string, Uint8Array>, entry: Manifest["files"][number]): Check {
  const name = fileCheckName(entry.path);
  const bytes = files.get(entry.path);
  if (!bytes) return fail(name, "listed in manifest.json but missing from the bundle");
  const actual = digestsOf(bytes);
  const wrong: string[] = [];
  if (actual.size !== entry.size) wrong.push(`size ${actual.size} (listed ${entry.size})`);
  if (actual.sha256 !== entry.sha256) wrong.push(`SHA-256 ${actual.sha256} (listed ${entry.sha256})`);
  if (actual.sha3_512 !== entry.sha3_512)
    wrong.push(`SHA3-512 ${actual.sha3_512.slice(0, 32)}… (listed ${entry.sha3_512.slice(0, 32)}…)`);
  if (wrong.length > 0) return fail(name, `altered: ${wrong.join("; ")}`);
  return pass(name, `${actual.size} bytes; SHA-256 and SHA3-512 match the manifest`);
}

function originalCheck(files: Map<string, Uint8Array>, manifest: Manifest, given?: Uint8Array): Check {
  const inBundle = manifest.files.find((f) => f.path.startsWith(BUNDLE_PATHS.originalDir));
  const bytes = given ?? (inBundle ? files.get(inBundle.path) : undefined);
  if (!bytes) return skip(CHECK.original, "not checked: no original file given (--file) or bundled");
  const source = given ? "the given file" : inBundle!.path;
  const hash = sha256Bytes32(bytes);
  if (hash !== manifest.work.contentHash.toLowerCase()) {
    return fail(CHECK.original, `${source} hashes to ${hash}, not the work's ${manifest.work.contentHash}`);
  }
  return pass(CHECK.original, `${source} hashes to the work's SHA-256 ${hash}`);
}

function signatureCheck(
  files: Map<string, Uint8Array>,
  manifestBytes: Uint8Array,
  expectedSigner?: string,
): Check {
  const signature = signatureFileSchema.parse(
    parseJson(files.get(BUNDLE_PATHS.signature), BUNDLE_PATHS.signature),
  );
  const digest = sha256Bytes32(manifestBytes);
  if (!same(signature.manifestSha256, digest)) {
    return fail(
      CHECK.signature,
      `manifest.json hashes to ${digest}, but signature.json signs ${signature.manifestSha256}`,
    );
  }
  const recovered = verifyMessage(getBytes(digest), signature.signature);
  if (!same(recovered, signature.signer)) {
    return fail(
      CHECK.signature,
      `the signature was made by ${recovered}, not the stated signer ${signature.signer}`,
    );
  }
  if (expectedSigner && !same(recovered, expectedSigner)) {
    return fail(
      CHECK.signature,
      `signed by ${recovered}, not the expected platform key ${getAddress(expectedSigner)}`,
    );
  }
  const pinned = expectedSigner ? "the expected platform key" : "signer not pinned (pass --signer)";
  return pass(
    CHECK.signature,
    `manifest.json (SHA-256 ${digest}) signed by ${getAddress(recovered)}, ${pinned}`,
  );
}

async function timestampChecks(
  files: Map<string, Uint8Array>,
  manifestBytes: Uint8Array,
  trusted?: Certificate[],
): Promise<Check[]> {
  const token = files.get(BUNDLE_PATHS.timestamp);
  if (!token) {
    return [
      skip(
        CHECK.timestamp,
        "not checked: the bundle has no timestamp.tsr (no time-stamping authority configured)",
      ),
      skip(CHECK.timestampChain, "not checked: no timestamp"),
    ];
  }
  const digest = sha256Bytes32(manifestBytes);
  const stamp = await guarded(CHECK.timestamp, async () => {
    const info = await verifyTimestamp(token, { digest });
    return pass(
      CHECK.timestamp,
      `manifest.json time-stamped at ${info.genTime.toISOString()} by ${info.signer} (serial ${info.serialNumber})`,
    );
  });
  if (!trusted || trusted.length === 0) {
    return [
      stamp,
      skip(CHECK.timestampChain, "not checked: pass --ca with the authority's root certificate"),
    ];
  }
  const chain = await guarded(CHECK.timestampChain, async () => {
    const path = await verifyTimestampChain(token, trusted);
    return pass(
      CHECK.timestampChain,
      `the authority's certificate chains to a trusted CA: ${path.join(" ← ")}`,
    );
  });
  return [stamp, chain];
}

function headerCheck(header: RpcBlock, manifest: Manifest): Check {
  const reg = manifest.registration;
  const computed = blockHashOf(header);
  const problems: string[] = [];
  if (!same(computed, reg.blockHash))
    problems.push(`the header hashes to ${computed}, not the manifest's block hash ${reg.blockHash}`);
  if (!same(header.hash, reg.blockHash)) problems.push(`its hash field is ${header.hash}`);
  if (BigInt(header.number) !== BigInt(reg.blockNumber))
    problems.push(`its number is ${BigInt(header.number)}, not ${reg.blockNumber}`);
  if (BigInt(header.timestamp) !== BigInt(reg.blockTimestamp)) {
    problems.push(`its timestamp is ${BigInt(header.timestamp)}, not ${reg.blockTimestamp}`);
  }
  if (problems.length > 0) return fail(CHECK.header, problems.join("; "));
  return pass(
    CHECK.header,
    `RLP(header) keccak-256 = ${computed} (block ${reg.blockNumber}, time ${reg.blockTimestamp})`,
  );
}

function receiptCheck(receipt: RpcReceipt, header: RpcBlock | undefined, manifest: Manifest): Check {
  const reg = manifest.registration;
  const problems: string[] = [];
  if (!same(receipt.transactionHash, reg.txHash))
    problems.push(`it is the receipt of ${receipt.transactionHash}, not ${reg.txHash}`);
  if (!same(receipt.blockHash, reg.blockHash)) problems.push(`its block hash is ${receipt.blockHash}`);
  if (BigInt(receipt.blockNumber) !== BigInt(reg.blockNumber))
    problems.push(`its block number is ${BigInt(receipt.blockNumber)}`);
  if (BigInt(receipt.status) !== 1n) problems.push("the transaction reverted (status 0)");
  const listed = header?.transactions?.map((t) => (typeof t === "string" ? t : t.hash));
  if (listed && !listed.some((t) => same(t, reg.txHash)))
    problems.push("the block's transaction list does not include it");
  if (problems.length > 0) return fail(CHECK.receipt, problems.join("; "));
  return pass(CHECK.receipt, `transaction ${reg.txHash} succeeded in block ${reg.blockNumber}`);
}

function eventCheck(receipt: RpcReceipt, manifest: Manifest): Check {
  const reg = manifest.registration;
  const log = logAt(receipt, reg.logIndex);
  if (!log) return fail(CHECK.event, `the receipt has no log at index ${reg.logIndex}`);
  const work = manifest.work;
  if (reg.kind === "direct") {
    const event = decodeWorkRegistered(log, reg.registry);
    if (!event)
      return fail(
        CHECK.event,
        `log ${reg.logIndex} is not a WorkRegistered event of the registry ${reg.registry}`,
      );
    const problems: string[] = [];
    if (work.workId === undefined || event.workId !== BigInt(work.workId))
      problems.push(`work id ${event.workId}, not ${work.workId}`);
    if (!same(event.contentHash, work.contentHash))
      problems.push(`content hash ${event.contentHash}, not ${work.contentHash}`);
    if (!same(event.creator, work.creator)) problems.push(`creator ${event.creator}, not ${work.creator}`);
    if (work.cid !== undefined && event.cid !== work.cid) problems.push(`CID ${event.cid}, not ${work.cid}`);
    if (work.metadataURI !== undefined && event.metadataURI !== work.metadataURI)
      problems.push(`metadata URI ${event.metadataURI}`);
    if (supersededAtReveal(receipt, reg.registry, event.workId))
      problems.push(`claim ${event.workId} lost to an earlier claim of the file (ClaimSuperseded)`);
    if (problems.length > 0) return fail(CHECK.event, `the event says ${problems.join("; ")}`);
    return pass(
      CHECK.event,
      `WorkRegistered(work #${event.workId}, ${event.contentHash}, ${event.creator}) by ${getAddress(reg.registry)}`,
    );
  }
  const event = decodeBatchAnchored(log, reg.registry);
  if (!event)
    return fail(
      CHECK.event,
      `log ${reg.logIndex} is not a BatchAnchored event of the registry ${reg.registry}`,
    );
  const problems: string[] = [];
  if (event.batchId !== BigInt(reg.batchId)) problems.push(`batch id ${event.batchId}, not ${reg.batchId}`);
  if (!same(event.merkleRoot, reg.merkleRoot))
    problems.push(`root ${event.merkleRoot}, not ${reg.merkleRoot}`);
  if (problems.length > 0) return fail(CHECK.event, `the event says ${problems.join("; ")}`);
  return pass(
    CHECK.event,
    `BatchAnchored(batch #${event.batchId}, root ${event.merkleRoot}, ${event.count} leaves) by ${getAddress(reg.registry)}`,
  );
}

function merkleCheck(manifest: Manifest): Check | undefined {
  const reg = manifest.registration;
  if (reg.kind !== "batch") return undefined;
  const { contentHash, creator } = manifest.work;
  const values = [BigInt(reg.leafIndex), creator, contentHash, reg.registrationDigest] as const;
  const leaf = merkleLeafOf(...values);
  if (!same(leaf, reg.leaf))
    return fail(
      CHECK.merkle,
      `(leafIndex, creator, contentHash, registrationDigest) gives leaf ${leaf}, not the stated ${reg.leaf}`,
    );
  if (!StandardMerkleTree.verify(reg.merkleRoot, [...BATCH_LEAF_ENCODING], [...values], reg.proof)) {
    return fail(
      CHECK.merkle,
      `the proof (${reg.proof.length} elements) does not lead from leaf ${leaf} to root ${reg.merkleRoot}`,
    );
  }
  return pass(
    CHECK.merkle,
    `leaf (leafIndex, creator, contentHash, registrationDigest) + ${reg.proof.length} proof elements → root ${reg.merkleRoot}`,
  );
}

async function call(rpc: RpcSender, to: string, data: string): Promise<string> {
  return (await rpc.send("eth_call", [{ to, data }, "latest"])) as string;
}

async function onlineChecks(rpc: RpcSender, manifest: Manifest, minConfirmations: number): Promise<Check[]> {
  const reg = manifest.registration;
  const block = await guarded(CHECK.blockOnChain, async () => {
    const chainId = Number(BigInt((await rpc.send("eth_chainId", [])) as string));
    if (chainId !== reg.chainId)
      return fail(
        CHECK.blockOnChain,
        `the node serves chain ${chainId}, the registration is on chain ${reg.chainId}`,
      );
    const onChain = (await rpc.send("eth_getBlockByNumber", [toQuantity(reg.blockNumber), false])) as {
      hash?: string;
    } | null;
    if (!onChain?.hash) return fail(CHECK.blockOnChain, `the node has no block ${reg.blockNumber}`);
    if (!same(onChain.hash, reg.blockHash)) {
      return fail(
        CHECK.blockOnChain,
        `block ${reg.blockNumber} on the node is ${onChain.hash}, not ${reg.blockHash}: the bundle's block is not canonical (reorg)`,
      );
    }
    const head = Number(BigInt((await rpc.send("eth_blockNumber", [])) as string));
    const confirmations = head - reg.blockNumber + 1;
    if (confirmations < minConfirmations) {
      return fail(
        CHECK.blockOnChain,
        `block ${reg.blockNumber} is canonical but has ${confirmations} confirmations, fewer than ${minConfirmations}`,
      );
    }
    return pass(
      CHECK.blockOnChain,
      `block ${reg.blockNumber} on the node has hash ${reg.blockHash}; ${confirmations} confirmations (≥ ${minConfirmations})`,
    );
  });
  const registry = await guarded(CHECK.registryContract, async () => {
    const code = (await rpc.send("eth_getCode", [reg.registry, "latest"])) as string;
    if (code === "0x") return fail(CHECK.registryContract, `no contract at ${reg.registry}`);
    const answer = await call(
      rpc,
      reg.registry,
      erc165Interface.encodeFunctionData("supportsInterface", [WORK_REGISTRY_INTERFACE_ID]),
    );
    const [supported] = erc165Interface.decodeFunctionResult("supportsInterface", answer);
    if (!supported)
      return fail(
        CHECK.registryContract,
        `${reg.registry} does not implement IWorkRegistry (${WORK_REGISTRY_INTERFACE_ID})`,
      );
    return pass(
      CHECK.registryContract,
      `${getAddress(reg.registry)} implements IWorkRegistry (${WORK_REGISTRY_INTERFACE_ID})`,
    );
  });
  const registration = await guarded(CHECK.registrationOnChain, async () => {
    const { contentHash, creator } = manifest.work;
    if (reg.kind === "direct") {
      const [workId] = workRegistryInterface.decodeFunctionResult(
        "workOf",
        await call(rpc, reg.registry, workRegistryInterface.encodeFunctionData("workOf", [contentHash])),
      );
      if (BigInt(manifest.work.workId ?? -1) !== workId) {
        return fail(
          CHECK.registrationOnChain,
          `workOf(${contentHash}) is ${workId} on the node, not ${manifest.work.workId}`,
        );
      }
      const [owner] = workRegistryInterface.decodeFunctionResult(
        "creatorOf",
        await call(rpc, reg.registry, workRegistryInterface.encodeFunctionData("creatorOf", [workId])),
      );
      if (!same(owner, creator))
        return fail(CHECK.registrationOnChain, `creatorOf(${workId}) is ${owner}, not ${creator}`);
      return pass(
        CHECK.registrationOnChain,
        `workOf(content hash) = ${workId}, created by ${getAddress(creator)}`,
      );
    }
    const [root, , , firstWorkId] = workRegistryInterface.decodeFunctionResult(
      "getBatch",
      await call(rpc, reg.registry, workRegistryInterface.encodeFunctionData("getBatch", [reg.batchId])),
    );
    if (!same(root, reg.merkleRoot))
      return fail(CHECK.registrationOnChain, `batch #${reg.batchId} has root ${root}, not ${reg.merkleRoot}`);
    const [anchored] = workRegistryInterface.decodeFunctionResult(
      "verifyAnchored",
      await call(
        rpc,
        reg.registry,
        workRegistryInterface.encodeFunctionData("verifyAnchored", [
          reg.batchId,
          reg.leafIndex,
          creator,
          contentHash,
          reg.registrationDigest,
          reg.proof,
        ]),
      ),
    );
    if (!anchored)
      return fail(
        CHECK.registrationOnChain,
        `the registry does not accept the leaf's proof in batch #${reg.batchId}`,
      );
    // The leaf reserved its id at the anchor; only a claim with a lower id came first.
    const reserved = (firstWorkId as bigint) + BigInt(reg.leafIndex);
    const [holder] = workRegistryInterface.decodeFunctionResult(
      "workOf",
      await call(rpc, reg.registry, workRegistryInterface.encodeFunctionData("workOf", [contentHash])),
    );
    if (holder !== 0n && (holder as bigint) < reserved)
      return fail(
        CHECK.registrationOnChain,
        `work #${holder} claimed ${contentHash} before this leaf reserved work #${reserved}`,
      );
    return pass(
      CHECK.registrationOnChain,
      `batch #${reg.batchId} has root ${reg.merkleRoot}, verifyAnchored is true, and no claim precedes work #${reserved}`,
    );
  });
  return [block, registry, registration];
}

/**
 * Verifies an evidence bundle: offline (file hashes, original file, header → block hash, receipt and
 * event, Merkle proof, signature, RFC 3161 token) and, given a node, online (block canonical with
 * enough confirmations, registry contract, registration state). Throws `ZipLimitError` when the
 * zip would inflate past `options.zipLimits`.
 */
export async function verifyBundle(zipBytes: Uint8Array, options: VerifyOptions = {}): Promise<VerifyResult> {
  let files: Map<string, Uint8Array>;
  try {
    files = await readZip(zipBytes, options.zipLimits ?? DEFAULT_ZIP_LIMITS);
  } catch (err) {
    if (err instanceof ZipLimitError) throw err;
    return { ok: false, checks: [fail(CHECK.manifest, `not a zip archive: ${message(err)}`)] };
  }
  const manifestBytes = files.get(BUNDLE_PATHS.manifest);
  let manifest: Manifest;
  try {
    const parsed = manifestSchema.safeParse(parseJson(manifestBytes, BUNDLE_PATHS.manifest));
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new Error(`manifest.json is invalid at ${issue.path.join(".") || "top level"}: ${issue.message}`);
    }
    manifest = parsed.data;
  } catch (err) {
    return { ok: false, checks: [fail(CHECK.manifest, message(err))] };
  }

  const reg = manifest.registration;
  const checks: Check[] = [
    pass(
      CHECK.manifest,
      `${manifest.format}, work ${manifest.work.contentHash}, generated ${manifest.generatedAt}`,
    ),
    contentsCheck(files, manifest),
    await guarded(CHECK.signature, () => signatureCheck(files, manifestBytes!, options.expectedSigner)),
    ...(await timestampChecks(files, manifestBytes!, options.trustedCerts)),
    ...manifest.files.map((entry) => fileCheck(files, entry)),
    originalCheck(files, manifest, options.file),
  ];

  let header: RpcBlock | undefined;
  checks.push(
    await guarded(CHECK.header, () => {
      header = rpcBlockSchema.parse(parseJson(files.get(BUNDLE_PATHS.blockHeader), BUNDLE_PATHS.blockHeader));
      return headerCheck(header, manifest);
    }),
  );
  let receipt: RpcReceipt | undefined;
  checks.push(
    await guarded(CHECK.receipt, () => {
      receipt = rpcReceiptSchema.parse(parseJson(files.get(BUNDLE_PATHS.receipt), BUNDLE_PATHS.receipt));
      return receiptCheck(receipt, header, manifest);
    }),
  );
  checks.push(receipt ? eventCheck(receipt, manifest) : fail(CHECK.event, "no readable receipt"));
  const merkle = merkleCheck(manifest);
  if (merkle) checks.push(merkle);

  const rpc = options.provider ?? (options.rpcUrl ? httpRpc(options.rpcUrl) : undefined);
  if (rpc) {
    checks.push(
      ...(await onlineChecks(rpc, manifest, options.minConfirmations ?? DEFAULT_MIN_CONFIRMATIONS)),
    );
  } else {
    const why = `not checked: pass --rpc with a node of chain ${reg.chainId}`;
    checks.push(
      skip(CHECK.blockOnChain, why),
      skip(CHECK.registryContract, why),
      skip(CHECK.registrationOnChain, why),
    );
  }
  return { ok: checks.every((c) => c.ok), checks, manifest };
}
