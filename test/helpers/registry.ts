import { createHash } from "node:crypto";
import {
  Interface,
  TypedDataEncoder,
  keccak256,
  toUtf8Bytes,
  type ContractTransactionResponse,
  type InterfaceAbi,
  type Signer,
} from "ethers";
import { REGISTER_TYPES, registryDomain, type RegisterMessage } from "../../lib/eip712.ts";
import { commitmentOf, committedWorkId as committedWorkIdOf } from "../../lib/evidence/registry.ts";
import type { WorkRegistry } from "../../types/typechain/index.ts";

/** A realistic CIDv1 (raw leaves, base32) and the metadata URI the web app derives from it. */
export const SAMPLE_CID = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";
export const SAMPLE_METADATA_URI = `ipfs://${SAMPLE_CID}`;

/** ethers wants mutable field arrays; the shared definition is read-only. */

/** The registry's content hash: SHA-256 of the file's bytes, as a 0x-prefixed bytes32. */
export function sha256Hex(bytes: Uint8Array | string): string {
  return `0x${createHash("sha256").update(bytes).digest("hex")}`;
}

export interface RegistryDomainRef {
  chainId: bigint;
  registry: string;
}

export function signRegister(
  signer: Signer,
  domain: RegistryDomainRef,
  message: RegisterMessage,
): Promise<string> {
  return signer.signTypedData(registryDomain(domain.chainId, domain.registry), REGISTER_TYPES, message);
}

export function registerDigest(domain: RegistryDomainRef, message: RegisterMessage): string {
  return TypedDataEncoder.hash(registryDomain(domain.chainId, domain.registry), REGISTER_TYPES, message);
}

/**
 * Runtime code of a minimal ERC-1271 wallet that approves exactly one digest, the word in its storage slot 0:
 * `isValidSignature(hash, _)` returns the magic value 0x1626ba7e when `hash == sload(0)`, zero otherwise.
 *
 *   PUSH1 4  CALLDATALOAD  PUSH1 0  SLOAD  EQ  PUSH4 0x1626ba7e  MUL
 *   PUSH1 0xe0  SHL  PUSH1 0  MSTORE  PUSH1 0x20  PUSH1 0  RETURN
 */
export const SINGLE_DIGEST_WALLET_CODE = "0x60043560005414631626ba7e0260e01b60005260206000f3";

/** ERC-165 id of an interface: the XOR of its function selectors. */
export function interfaceIdOf(abi: InterfaceAbi): string {
  let id = 0n;
  new Interface(abi).forEachFunction((fragment) => {
    id ^= BigInt(fragment.selector);
  });
  return `0x${id.toString(16).padStart(8, "0")}`;
}

let saltCounter = 0n;

/** The work id a commit transaction reserved, read from its WorkCommitted log. */
export async function committedWorkId(tx: ContractTransactionResponse): Promise<bigint> {
  const workId = committedWorkIdOf((await tx.wait())?.logs ?? []);
  if (workId === null) throw new Error(`no WorkCommitted log in ${tx.hash}`);
  return workId;
}

/**
 * Registers `contentHash` for `creator` the squat-proof way: a commit, then the reveal in a later
 * block (automining gives each transaction its own block). Answers the work id and both transactions.
 */
export async function commitAndReveal(
  registry: WorkRegistry,
  creator: Signer,
  contentHash: string,
  options: { cid?: string; metadataURI?: string; parentId?: bigint; nonce?: bigint } = {},
): Promise<{ workId: bigint; commitTx: ContractTransactionResponse; revealTx: ContractTransactionResponse }> {
  saltCounter += 1n;
  const nonce = options.nonce ?? BigInt(keccak256(toUtf8Bytes(`salt ${saltCounter} ${contentHash}`)));
  const commitment = commitmentOf(await creator.getAddress(), contentHash, nonce);
  const commitTx = await registry.connect(creator).commit(commitment);
  const workId = await committedWorkId(commitTx);
  const revealTx = await registry
    .connect(creator)
    .reveal(
      workId,
      contentHash,
      nonce,
      options.cid ?? SAMPLE_CID,
      options.metadataURI ?? SAMPLE_METADATA_URI,
      options.parentId ?? 0n,
    );
  await revealTx.wait();
  return { workId, commitTx, revealTx };
}
