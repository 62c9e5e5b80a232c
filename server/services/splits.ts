import type { Pool } from "pg";
import { checksum } from "../../lib/address.ts";
import { CREATE_SPLIT_TYPES, splitFactoryDomain, type CreateSplitMessage } from "../../lib/eip712.ts";
import type {
  CreateSplitRequest,
  CreateSplitTypedData,
  PreparedSplit,
  SplitRequest,
} from "../../lib/api/splits.ts";
import type { SplitFactory } from "../../types/typechain/index.ts";
import { assertSignedBy } from "../auth/typed-signature.ts";
import { AppError, notFound } from "../errors.ts";
import type { Outbox } from "../queues/outbox.ts";
import { findSplitRequest, insertSplitRequest, type SplitRequestRecord } from "../repositories/splits.ts";
import type { GasBudget } from "./gas-budget.ts";

const TOTAL_BPS = 10_000;
const MAX_RECIPIENTS = 50;
const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";

export interface SplitsServiceDeps {
  db: Pool;
  /** Where the create-split jobs are recorded with the requests, and queued from. */
  outbox: Outbox;
  factory: SplitFactory;
  chainId: number;
  /** What the relayer may spend on splits, per creator and per day. */
  gasBudget: GasBudget;
  /** The chain's time, by which deadlines are set and checked. */
  clock: { nowSeconds(): Promise<number> };
  /** How long a creator has to sign and send a CreateSplit. */
  signatureTtlSeconds?: number;
}

/** The split's rules as the contract enforces them, refused here with 400 before anything is spent. */
function assertValidSplit(recipients: string[], sharesBps: number[]): void {
  if (recipients.length === 0 || recipients.length > MAX_RECIPIENTS) {
    throw new AppError("INVALID_SPLIT", 400, `a split has 1 to ${MAX_RECIPIENTS} recipients`);
  }
  if (recipients.length !== sharesBps.length) {
    throw new AppError("INVALID_SPLIT", 400, "recipients and sharesBps must have the same length");
  }
  if (new Set(recipients).size !== recipients.length || recipients.includes(ZERO_ADDRESS)) {
    throw new AppError("INVALID_SPLIT", 400, "recipients must be distinct non-zero addresses");
  }
  if (sharesBps.some((share) => share <= 0)) {
    throw new AppError("INVALID_SPLIT", 400, "every recipient needs a share above 0");
  }
  const total = sharesBps.reduce((a, b) => a + b, 0);
  if (total !== TOTAL_BPS) {
    throw new AppError("INVALID_SPLIT", 400, `shares must sum to ${TOTAL_BPS} basis points (got ${total})`);
  }
}

function toView(r: SplitRequestRecord): SplitRequest {
  return {
    split: checksum(r.split)!,
    creator: checksum(r.creator),
    status: r.status,
    txHash: r.txHash,
    error: r.error,
    createdAt: r.createdAt.toISOString(),
  };
}

/**
 * Revenue splits: the address a set of shares maps to, and its creation — by the relayer at a
 * creator's signed request (gas counted against their budget, sent once per split), or by a wallet
 * that sends the createSplit transaction itself.
 */
export class SplitsService {
  constructor(private readonly deps: SplitsServiceDeps) {}

  /** The split's address, whether it exists, and what to sign (or send) to create it. */
  async prepare(from: string, recipients: string[], sharesBps: number[]): Promise<PreparedSplit> {
    assertValidSplit(recipients, sharesBps);
    const { factory, chainId } = this.deps;
    const split = (await factory.predictSplit(recipients, sharesBps)).toLowerCase();
    const exists = await factory.isSplit(split);
    if (exists) return { split: checksum(split)!, exists, typedData: null, transaction: null };
    const ttl = this.deps.signatureTtlSeconds ?? 3600;
    return {
      split: checksum(split)!,
      exists,
      typedData: await this.#typedData(
        from,
        recipients,
        sharesBps,
        (await this.deps.clock.nowSeconds()) + ttl,
      ),
      transaction: {
        description: `Create the revenue split ${checksum(split)} for ${recipients.length} recipients`,
        chainId,
        from: checksum(from)!,
        to: checksum((await factory.getAddress()).toLowerCase())!,
        data: factory.interface.encodeFunctionData("createSplit", [recipients, sharesBps]),
        value: "0",
      },
    };
  }

  /**
   * Checks the creator's CreateSplit signature and queues the relayer's createSplit, once per split:
   * a split that exists or was asked for already costs nothing more and answers where it stands.
   */
  async request(input: CreateSplitRequest): Promise<SplitRequest> {
    const { recipients, sharesBps, creator } = input;
    assertValidSplit(recipients, sharesBps);
    if (BigInt(input.deadline) < BigInt(await this.deps.clock.nowSeconds())) {
      throw new AppError("SIGNATURE_EXPIRED", 400, "the signed split's deadline has passed; sign it again");
    }
    const message: CreateSplitMessage = { creator, recipients, sharesBps, deadline: BigInt(input.deadline) };
    const { domain, types } = await this.#typedData(creator, recipients, sharesBps, Number(input.deadline));
    assertSignedBy(
      { ...domain, chainId: BigInt(domain.chainId) },
      types,
      message,
      input.signature,
      creator,
      "split",
    );
    const split = (await this.deps.factory.predictSplit(recipients, sharesBps)).toLowerCase();
    const earlier = await findSplitRequest(this.deps.db, split);
    if (earlier) return toView(earlier);
    if (await this.deps.factory.isSplit(split)) return this.#existing(split);

    const refund = await this.deps.gasBudget.reserve("split", creator, { items: recipients.length });
    const { request, created, jobs } = await insertSplitRequest(this.deps.db, {
      split,
      creator,
      recipients,
      sharesBps,
      deadline: input.deadline,
      signature: input.signature,
    });
    if (!created) await refund();
    await this.deps.outbox.deliver(jobs);
    return toView(request);
  }

  /** Where the creation of `split` stands: 404 when nobody asked the relayer for it and it does not exist. */
  async status(split: string): Promise<SplitRequest> {
    const request = await findSplitRequest(this.deps.db, split);
    if (request) return toView(request);
    if (await this.deps.factory.isSplit(split)) return this.#existing(split);
    throw notFound("split request", { split: checksum(split) });
  }

  #existing(split: string): SplitRequest {
    return {
      split: checksum(split)!,
      creator: null,
      status: "created",
      txHash: null,
      error: null,
      createdAt: null,
    };
  }

  async #typedData(
    creator: string,
    recipients: string[],
    sharesBps: number[],
    deadline: number,
  ): Promise<CreateSplitTypedData> {
    const domain = splitFactoryDomain(BigInt(this.deps.chainId), await this.deps.factory.getAddress());
    return {
      domain: { ...domain, chainId: domain.chainId.toString() },
      types: CREATE_SPLIT_TYPES,
      primaryType: "CreateSplit",
      message: {
        creator: checksum(creator)!,
        recipients: recipients.map((r) => checksum(r)!),
        sharesBps,
        deadline: String(deadline),
      },
    };
  }
}
