import { AbiCoder, Interface, keccak256 } from "ethers";
import { z } from "zod";

const quantity = z.string().regex(/^0x[0-9a-fA-F]+$/, "a JSON-RPC quantity");
const bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "0x-prefixed 32-byte hex");

/** The parts of an `eth_getTransactionReceipt` answer the evidence relies on; other fields are kept. */
export const rpcReceiptSchema = z.looseObject({
  transactionHash: bytes32,
  blockHash: bytes32,
  blockNumber: quantity,
  status: quantity,
  logs: z.array(
    z.looseObject({
      address: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
      topics: z.array(bytes32),
      data: z.string().regex(/^0x([0-9a-fA-F]{2})*$/),
      logIndex: quantity,
    }),
  ),
});

export type RpcReceipt = z.infer<typeof rpcReceiptSchema>;
export type RpcLog = RpcReceipt["logs"][number];

/** IWorkRegistry's functions and events, exactly as in contracts/interfaces/IWorkRegistry.sol. */
export const workRegistryInterface = new Interface([
  "function commit(bytes32 commitment) returns (uint256 workId)",
  "function reveal(uint256 workId, bytes32 contentHash, uint256 nonce, string cid, string metadataURI, uint256 parentId)",
  "function revealFor(uint256 workId, tuple(address creator, bytes32 contentHash, string cid, string metadataURI, uint256 parentId, uint256 nonce, uint256 deadline) registration, bytes signature)",
  "function claimBatched(uint256 batchId, uint256 index, tuple(address creator, bytes32 contentHash, string cid, string metadataURI, uint256 parentId, uint256 nonce, uint256 deadline) registration, bytes signature, bytes32[] proof)",
  "function claimBatchedMany(tuple(uint256 batchId, uint256 index, tuple(address creator, bytes32 contentHash, string cid, string metadataURI, uint256 parentId, uint256 nonce, uint256 deadline) registration, bytes signature, bytes32[] proof)[] claims) returns (uint256 claimed)",
  "function setSupersessionHook(address hook)",
  "function setCoAuthors(uint256 workId, address[] coAuthors)",
  "function anchorBatch(bytes32 merkleRoot, uint256 count, string manifestCid) returns (uint256 batchId)",
  "function verifyAnchored(uint256 batchId, uint256 index, address creator, bytes32 contentHash, bytes32 registrationDigest, bytes32[] proof) view returns (bool)",
  "function leafOf(uint256 index, address creator, bytes32 contentHash, bytes32 registrationDigest) pure returns (bytes32)",
  "function registrationDigest(tuple(address creator, bytes32 contentHash, string cid, string metadataURI, uint256 parentId, uint256 nonce, uint256 deadline) registration) view returns (bytes32)",
  "function commitmentOf(address creator, bytes32 contentHash, uint256 nonce) pure returns (bytes32)",
  "function workOf(bytes32 contentHash) view returns (uint256)",
  "function getWork(uint256 workId) view returns (tuple(address creator, uint48 registeredAt, uint40 parentId, bool superseded))",
  "function creatorOf(uint256 workId) view returns (address)",
  "function supersessionHook() view returns (address)",
  "function workCount() view returns (uint256)",
  "function getBatch(uint256 batchId) view returns (bytes32 merkleRoot, uint48 anchoredAt, uint48 count, uint48 firstWorkId)",
  "event WorkCommitted(uint256 indexed workId)",
  "event WorkRegistered(uint256 indexed workId, bytes32 indexed contentHash, address indexed creator, uint256 parentId, uint256 registeredAt, string cid, string metadataURI)",
  "event ClaimSuperseded(uint256 indexed workId, bytes32 indexed contentHash, uint256 indexed earlierWorkId)",
  "event SupersessionHookSet(address indexed hook)",
  "event BatchAnchored(uint256 indexed batchId, bytes32 indexed merkleRoot, address indexed submitter, uint256 count, uint256 firstWorkId, string manifestCid)",
]);

export const erc165Interface = new Interface([
  "function supportsInterface(bytes4 interfaceId) view returns (bool)",
]);

/** `type(IWorkRegistry).interfaceId`: the XOR of its function selectors. */
export const WORK_REGISTRY_INTERFACE_ID: string = (() => {
  let id = 0;
  workRegistryInterface.forEachFunction((f) => {
    id ^= Number.parseInt(f.selector.slice(2), 16);
  });
  return `0x${(id >>> 0).toString(16).padStart(8, "0")}`;
})();

export interface WorkRegisteredLog {
  logIndex: number;
  workId: bigint;
  contentHash: string;
  creator: string;
  parentId: bigint;
  /** When the work's id was reserved (unix seconds): its commitment's or batch's block. */
  registeredAt: bigint;
  cid: string;
  metadataURI: string;
}

export interface BatchAnchoredLog {
  logIndex: number;
  batchId: bigint;
  merkleRoot: string;
  submitter: string;
  count: bigint;
  firstWorkId: bigint;
  manifestCid: string;
}

const sameAddress = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

function parse(log: RpcLog, registry: string, name: string) {
  if (!sameAddress(log.address, registry)) return null;
  try {
    const parsed = workRegistryInterface.parseLog(log);
    return parsed?.name === name ? parsed : null;
  } catch {
    // A log with the event's topic but malformed data is not that event.
    return null;
  }
}

/** The values of a batch leaf: its index (work id `firstWorkId + index`), creator, content hash and signed digest. */
export const BATCH_LEAF_ENCODING = ["uint256", "address", "bytes32", "bytes32"] as const;

/** OpenZeppelin standard-tree leaf of a batch entry, as `IWorkRegistry.leafOf` computes it. */
export function merkleLeafOf(
  index: bigint,
  creator: string,
  contentHash: string,
  registrationDigest: string,
): string {
  return keccak256(
    keccak256(
      AbiCoder.defaultAbiCoder().encode(
        [...BATCH_LEAF_ENCODING],
        [index, creator, contentHash, registrationDigest],
      ),
    ),
  );
}

/** The commitment that reserves a work id: `keccak256(abi.encode(creator, contentHash, nonce))`. */
export function commitmentOf(creator: string, contentHash: string, nonce: bigint): string {
  return keccak256(
    AbiCoder.defaultAbiCoder().encode(["address", "bytes32", "uint256"], [creator, contentHash, nonce]),
  );
}

/** Decodes `log` as a WorkRegistered event of `registry`, or null when it is not one. */
export function decodeWorkRegistered(log: RpcLog, registry: string): WorkRegisteredLog | null {
  const parsed = parse(log, registry, "WorkRegistered");
  if (!parsed) return null;
  return {
    logIndex: Number(BigInt(log.logIndex)),
    workId: parsed.args.workId as bigint,
    contentHash: parsed.args.contentHash as string,
    creator: parsed.args.creator as string,
    parentId: parsed.args.parentId as bigint,
    registeredAt: parsed.args.registeredAt as bigint,
    cid: parsed.args.cid as string,
    metadataURI: parsed.args.metadataURI as string,
  };
}

/** Decodes `log` as a BatchAnchored event of `registry`, or null when it is not one. */
export function decodeBatchAnchored(log: RpcLog, registry: string): BatchAnchoredLog | null {
  const parsed = parse(log, registry, "BatchAnchored");
  if (!parsed) return null;
  return {
    logIndex: Number(BigInt(log.logIndex)),
    batchId: parsed.args.batchId as bigint,
    merkleRoot: parsed.args.merkleRoot as string,
    submitter: parsed.args.submitter as string,
    count: parsed.args.count as bigint,
    firstWorkId: parsed.args.firstWorkId as bigint,
    manifestCid: parsed.args.manifestCid as string,
  };
}

/** The receipt's log with block-wide index `logIndex`, if any. */
export function logAt(receipt: RpcReceipt, logIndex: number): RpcLog | undefined {
  return receipt.logs.find((log) => BigInt(log.logIndex) === BigInt(logIndex));
}

const WORK_COMMITTED_TOPIC = workRegistryInterface.getEvent("WorkCommitted")!.topicHash;

/** The work id a commit reserved, read from its receipt's WorkCommitted log. */
export function committedWorkId(logs: readonly { readonly topics: readonly string[] }[]): bigint | null {
  const log = logs.find((l) => l.topics[0] === WORK_COMMITTED_TOPIC);
  return log ? BigInt(log.topics[1]!) : null;
}

/** Whether the receipt's ClaimSuperseded log says claim `workId` lost to an earlier claim when revealed. */
export function supersededAtReveal(receipt: RpcReceipt, registry: string, workId: bigint): boolean {
  return receipt.logs.some((log) => {
    const parsed = parse(log, registry, "ClaimSuperseded");
    return parsed !== null && (parsed.args.workId as bigint) === workId;
  });
}
