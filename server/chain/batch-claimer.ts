import { keccak256, toUtf8Bytes } from "ethers";
import { Batcher } from "../../lib/batcher.ts";
import type { IWorkRegistry, WorkRegistry } from "../../types/typechain/index.ts";
import type { Relayer, SentTransaction } from "./relayer.ts";

export interface LeafClaim {
  /** The leaf's key: `<merkle root>:<leaf index>`, unique across batches. */
  ref: string;
  batchId: bigint;
  index: bigint;
  registration: IWorkRegistry.RegistrationStruct;
  signature: string;
  proof: string[];
}

/** Most leaves claimed by one transaction (about 3 M gas). */
export const MAX_CLAIM_BATCH = 50;

/** The key of leaf `index` of the batch anchored with `merkleRoot`. */
export function leafRef(merkleRoot: string, index: number): string {
  return `${merkleRoot.toLowerCase()}:${index}`;
}

/**
 * Claims anchored batch leaves. Claims requested while a transaction is being sent go out together
 * as one `claimBatchedMany`, each recorded under its leaf's key; that call skips leaves claimed
 * meanwhile, so nobody claiming one leaf first can make the group revert. A group that would revert
 * anyway is sent again claim by claim with `claimBatched`, so only the bad claim fails.
 */
export class BatchClaimer {
  readonly #batcher: Batcher<LeafClaim, SentTransaction>;

  constructor(
    private readonly relayer: Relayer,
    private readonly registry: WorkRegistry,
  ) {
    this.#batcher = new Batcher(
      MAX_CLAIM_BATCH,
      (claims) => this.#send(claims),
      (claim) => claim.ref,
    );
  }

  /** Sends the claim (alone or in a group); resolves once its transaction is broadcast. */
  claim(claim: LeafClaim): Promise<SentTransaction> {
    return this.#batcher.call(claim);
  }

  async #send(claims: LeafClaim[]): Promise<SentTransaction[]> {
    const to = await this.registry.getAddress();
    const iface = this.registry.interface;
    if (claims.length === 1) {
      const [c] = claims as [LeafClaim];
      const sent = await this.relayer.send({
        to,
        data: iface.encodeFunctionData("claimBatched", [
          c.batchId,
          c.index,
          c.registration,
          c.signature,
          c.proof,
        ]),
        purpose: "claimBatched",
        ref: c.ref,
      });
      return [sent];
    }
    const refs = claims.map((c) => c.ref);
    const sent = await this.relayer.send({
      to,
      data: iface.encodeFunctionData("claimBatchedMany", [
        claims.map((c) => ({
          batchId: c.batchId,
          index: c.index,
          registration: c.registration,
          signature: c.signature,
          proof: c.proof,
        })),
      ]),
      purpose: "claimBatchedMany",
      ref: keccak256(toUtf8Bytes(refs.join(","))),
      itemRefs: refs,
    });
    return claims.map(() => sent);
  }
}
