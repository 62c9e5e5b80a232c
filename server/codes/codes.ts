import { randomUUID } from "node:crypto";
import type { Pool } from "pg";
import type { ChainHeads } from "../../lib/finality.ts";
import { withTransaction } from "../../lib/transaction.ts";
import { codeBatchIdOf } from "../../lib/code-commitments.ts";
import { checksum } from "../../lib/address.ts";
import { recordJobs, type Outbox } from "../queues/outbox.ts";
import { commitCodesJob } from "../queues/queues.ts";
import {
  MIN_CODE_ENTROPY_BITS,
  type CodeAlerts,
  type CodeProof,
  type RedeemRequest,
  type Redemption,
  type CodeStock,
  type CodeUpload,
  type CodeUploadResult,
  type OrderCode,
} from "../../lib/api/codes.ts";
import { AppError, notFound } from "../errors.ts";
import type { ApiKeys } from "../auth/api-keys.ts";
import type { ApiKey, CreatedApiKey } from "../../lib/api/api-keys.ts";
import { findOffer } from "../repositories/offers.ts";
import type { CodeCipher } from "./code-cipher.ts";
import { batchTree } from "./code-tree.ts";
import {
  alertsOf,
  batchesOf,
  findBatch,
  insertBatch,
  keptCodeOf,
  redeemCode,
  stockedOffersOf,
  lockStockForUpload,
  orderCodeOf,
  readStock,
  type BatchRow,
} from "./code-store.ts";
import { entropyBits, generateCodes } from "./generate.ts";

export interface CodesServiceDeps {
  db: Pool;
  apiKeys: ApiKeys;
  outbox: Outbox;
  cipher: CodeCipher;
  heads(): Promise<ChainHeads>;
  chainId: number;
  /** CodeCommitments, where each batch's Merkle root is committed. */
  commitmentsAddress: string;
}

const VOIDING = new Set(["refunded", "disputed", "failed"]);

function batchView(row: BatchRow) {
  return {
    batchId: row.id,
    count: row.count,
    source: row.source,
    createdAt: row.created_at.toISOString(),
    commitment: { status: row.commit_status, merkleRoot: row.merkle_root, txHash: row.commit_tx_hash },
  };
}

/**
 * Redemption codes an offer sells by card: its creator uploads or generates them (sealed at once),
 * reads the stock and its low-stock alerts; a buyer reads the code kept for their paid order.
 * Holding and keeping codes happen in the order lifecycle (checkout, late payments, fulfilment).
 */
export class CodesService {
  constructor(private readonly deps: CodesServiceDeps) {}

  /** The offer, if `caller` created it and sells it by card: 404 unknown, 403 another's, 409 no card price. */
  async #ownOffer(offerId: string, caller: string): Promise<void> {
    const offer = await findOffer(this.deps.db, offerId, await this.deps.heads());
    if (!offer) throw notFound("offer", { offerId });
    if (offer.creator.toLowerCase() !== caller) {
      throw new AppError("NOT_OFFER_CREATOR", 403, `offer ${offerId} belongs to another creator`);
    }
    if (!offer.fiatPrice) {
      throw new AppError(
        "NO_CARD_PRICE",
        409,
        `offer ${offerId} is not sold by card; codes are delivered with card orders`,
      );
    }
  }

  /** Adds uploaded or generated codes to the offer's stock, sealed; a code the offer already has refuses the whole upload. */
  async upload(offerId: string, caller: string, input: CodeUpload): Promise<CodeUploadResult> {
    await this.#ownOffer(offerId, caller);
    let codes: string[];
    if (input.generate) {
      const bits = entropyBits(input.generate);
      if (bits < MIN_CODE_ENTROPY_BITS) {
        throw new AppError(
          "WEAK_CODE_FORMAT",
          400,
          `generated codes would carry ${bits.toFixed(1)} bits; at least ${MIN_CODE_ENTROPY_BITS} are needed so codes cannot be guessed`,
          { bits: Number(bits.toFixed(1)), minimum: MIN_CODE_ENTROPY_BITS },
        );
      }
      codes = generateCodes(input.generate, input.generate.count);
    } else {
      codes = input.codes!;
      const seen = new Map<string, number>();
      const repeated = codes.flatMap((code, i) => {
        const first = seen.get(code);
        seen.set(code, first ?? i);
        return first === undefined ? [] : [i];
      });
      if (repeated.length > 0) {
        throw new AppError("DUPLICATE_CODES", 409, `${repeated.length} codes appear twice in the upload`, {
          positions: repeated.slice(0, 100),
        });
      }
    }
    const sealed = codes.map((code) => this.deps.cipher.seal(offerId, code));
    const batchId = randomUUID();
    const source = input.generate ? "generated" : "upload";
    // The batch's commitment on chain is promised in the transaction that stores it.
    const jobs = await withTransaction(this.deps.db, async (client) => {
      await lockStockForUpload(client, offerId, caller, codes.length, input.lowStockAt);
      const { duplicates } = await insertBatch(client, { id: batchId, offerId, source }, sealed);
      if (duplicates.length > 0) {
        throw new AppError(
          "DUPLICATE_CODES",
          409,
          `${duplicates.length} codes are already in this offer's stock`,
          { positions: duplicates.slice(0, 100) },
        );
      }
      return recordJobs(client, [commitCodesJob(batchId)]);
    });
    await this.deps.outbox.deliver(jobs);
    const stock = await this.#stock(offerId);
    return { batch: stock.batches.find((b) => b.batchId === batchId)!, stock };
  }

  /** The offer's code stock, for its creator. */
  async stock(offerId: string, caller: string): Promise<CodeStock> {
    await this.#ownOffer(offerId, caller);
    return this.#stock(offerId);
  }

  async #stock(offerId: string): Promise<CodeStock> {
    const [row, batches] = await Promise.all([
      readStock(this.deps.db, offerId),
      batchesOf(this.deps.db, offerId),
    ]);
    if (!row) {
      return {
        offerId,
        total: 0,
        sold: 0,
        held: 0,
        available: 0,
        void: 0,
        lowStockAt: 10,
        batches: [],
      };
    }
    return {
      offerId,
      total: row.total,
      sold: row.sold,
      held: row.held,
      available: row.total - row.sold - row.held,
      void: row.void,
      lowStockAt: row.low_stock_at,
      batches: batches.map(batchView),
    };
  }

  /** Low-stock alerts of the caller's offers, newest first. */
  async alerts(caller: string, limit: number): Promise<CodeAlerts> {
    const rows = await alertsOf(this.deps.db, caller, limit);
    return {
      alerts: rows.map((r) => ({
        id: r.id,
        offerId: r.offer_id,
        remaining: r.remaining,
        createdAt: r.created_at.toISOString(),
      })),
    };
  }

  /** The code of an order (the caller checked the reader): 404 when its offer sells no codes. */
  async orderCode(orderId: string): Promise<OrderCode> {
    const row = await orderCodeOf(this.deps.db, orderId);
    if (!row || !row.stocked) throw notFound("code of the order", { orderId });
    const voided = VOIDING.has(row.status);
    const delivered = row.sold_at !== null && !voided;
    return {
      orderId,
      offerId: row.offer_id,
      status: voided ? "void" : delivered ? "delivered" : "pending",
      code: delivered ? this.deps.cipher.open(row.offer_id, row.digest!, row.sealed!) : null,
      deliveredAt: delivered ? row.sold_at!.toISOString() : null,
    };
  }

  /**
   * The proof that an order's code was issued in its batch: the leaf's values, the Merkle proof and
   * the root committed on chain, for `CodeCommitments.verifyCode`. 409 until the code is delivered
   * and its batch committed.
   */
  async proof(orderId: string): Promise<CodeProof> {
    const code = await this.orderCode(orderId);
    const kept = code.status === "delivered" ? await keptCodeOf(this.deps.db, orderId) : null;
    if (!kept) throw new AppError("CODE_NOT_DELIVERED", 409, `order ${orderId} has no delivered code`);
    const batch = (await findBatch(this.deps.db, kept.batch_id))!;
    if (batch.commit_status !== "committed" || !batch.merkle_root) {
      throw new AppError(
        "CODES_NOT_COMMITTED",
        409,
        `the batch of this code is not committed on chain yet (${batch.commit_status}); try again shortly`,
        { status: batch.commit_status },
      );
    }
    const built = (await batchTree(this.deps.db, this.deps.cipher, kept.batch_id))!;
    const [, salt, codeHash] = built.tree.at(kept.position)!;
    return {
      orderId,
      offerId: code.offerId,
      code: code.code!,
      batchId: codeBatchIdOf(kept.batch_id),
      salt,
      codeHash,
      leaf: built.tree.leafHash(built.tree.at(kept.position)!),
      proof: built.tree.getProof(kept.position),
      merkleRoot: batch.merkle_root,
      contract: checksum(this.deps.commitmentsAddress.toLowerCase())!,
      chainId: this.deps.chainId,
      txHash: batch.commit_tx_hash,
      blockNumber: batch.commit_block === null ? null : Number(batch.commit_block),
    };
  }

  /** A redemption key for the creator's own systems, shown once. */
  createKey(creator: string, name: string): Promise<CreatedApiKey> {
    return this.deps.apiKeys.createRedeemKey(name, creator);
  }

  async keys(creator: string): Promise<{ items: ApiKey[] }> {
    return { items: await this.deps.apiKeys.redeemKeysOf(creator) };
  }

  async revokeKey(creator: string, id: string): Promise<{ revoked: true }> {
    if (!(await this.deps.apiKeys.revokeRedeemKey(id, creator))) throw notFound("redemption key", { id });
    return { revoked: true };
  }

  /**
   * Redeems a sold code of the key's creator, once: a second attempt is refused with when, by whom
   * and with which key it was redeemed. A code the creator does not sell is 404, whoever sells it.
   */
  async redeem(key: ApiKey, input: RedeemRequest): Promise<Redemption> {
    const creator = key.creator;
    if (!creator) throw new AppError("FORBIDDEN", 403, "this key cannot redeem codes");
    const offers = input.offerId ? [input.offerId] : await stockedOffersOf(this.deps.db, creator);
    const candidates = offers.map((offerId) => ({
      offerId,
      digest: this.deps.cipher.digest(offerId, input.code),
    }));
    const found = candidates.length
      ? await redeemCode(this.deps.db, creator, candidates, input.redeemer ?? null, key.id)
      : null;
    if (!found) throw new AppError("CODE_NOT_FOUND", 404, "no such code among this creator's offers");
    const { row } = found;
    if (found.redeemed) {
      return {
        status: "redeemed",
        offerId: row.offer_id,
        orderId: row.order_id!,
        wallet: checksum(row.wallet)!,
        redeemedAt: row.redeemed_at!.toISOString(),
        redeemer: row.redeemed_by,
        keyId: row.redeemed_key!,
      };
    }
    if (row.redeemed_at) {
      throw new AppError(
        "CODE_ALREADY_REDEEMED",
        409,
        `this code was redeemed at ${row.redeemed_at.toISOString()}${row.redeemed_by ? ` by ${row.redeemed_by}` : ""}`,
        { redeemedAt: row.redeemed_at.toISOString(), redeemer: row.redeemed_by, keyId: row.redeemed_key },
      );
    }
    if (row.sold_at && row.order_status && VOIDING.has(row.order_status)) {
      throw new AppError(
        "CODE_VOID",
        409,
        "this code is void: its order was refunded, charged back or failed",
      );
    }
    throw new AppError("CODE_NOT_SOLD", 409, "this code has not been sold");
  }
}
