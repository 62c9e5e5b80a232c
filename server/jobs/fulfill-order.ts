import { UnrecoverableError } from "bullmq";
import type { TransactionReceipt } from "ethers";
import type { LicenseToken } from "../../types/typechain/index.ts";
import { TransactionRevertedError, type Relayer } from "../chain/relayer.ts";
import {
  findOrder,
  mintOf,
  transition,
  updateOrder,
  type IndexedMint,
  type Order,
} from "../repositories/orders.ts";
import { enqueueOnce, failOrder, releaseAuthorization, type FulfilmentDeps } from "../services/fulfilment.ts";

export interface FulfillOrderDeps extends FulfilmentDeps {
  relayer: Relayer;
  /** LicenseToken for reads. */
  licenses: LicenseToken;
  /** Runs right after the mint is broadcast, before anything else is recorded (lets tests stop a worker there). */
  afterSend?: (orderId: string, txHash: string) => Promise<void> | void;
}

export interface FulfillOrderResult {
  status: "minted" | "skipped";
  tokenId?: string;
  txHash?: string;
}

/** A mint that is on chain but not indexed yet; the job retries until the indexer has it. */
class AwaitingIndexerError extends Error {}

async function previousMint(deps: FulfillOrderDeps, paymentRef: string): Promise<string | null> {
  const { rows } = await deps.db.query<{ hash: string }>(
    `SELECT hash FROM relayer_transactions
      WHERE purpose = 'mintForFiat' AND ref = $1 AND status IN ('sent', 'mined')
      ORDER BY sent_at DESC LIMIT 1`,
    [paymentRef],
  );
  return rows[0]?.hash ?? null;
}

function tokenIdOf(deps: FulfillOrderDeps, receipt: TransactionReceipt, target: string): string | null {
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== target) continue;
    const parsed = deps.licenses.interface.parseLog(log);
    if (parsed?.name === "LicenseIssued") return (parsed.args.tokenId as bigint).toString();
  }
  return null;
}

/**
 * Mints the license of a paid order with `mintForFiat(offerId, wallet, keccak256(sessionId))`, then
 * queues the capture. Idempotent three ways: a reference the indexer (or the contract) shows as
 * used is never minted again; a transaction an earlier attempt sent is awaited instead of sending
 * another; and the contract refuses a used reference. A revert that retrying cannot fix (sold out,
 * offer paused) fails the order and cancels the card authorization.
 */
export async function fulfillOrder(deps: FulfillOrderDeps, orderId: string): Promise<FulfillOrderResult> {
  const order = await findOrder(deps.db, orderId);
  if (!order) throw new UnrecoverableError(`no order ${orderId}`);
  if (order.status === "failed") {
    await releaseAuthorization(deps, order);
    return { status: "skipped" };
  }
  if (order.status !== "paid" && order.status !== "minting") return { status: "skipped" };
  if (order.tokenId) {
    await enqueueOnce(deps.queues.capturePayment, `capture-${orderId}`, { orderId });
    return { status: "skipped", tokenId: order.tokenId };
  }
  if (!order.paymentRef) throw new UnrecoverableError(`order ${orderId} has no payment reference`);
  const mint = (await mintOf(deps.db, order.paymentRef)) ?? (await sendMint(deps, order, order.paymentRef));
  await toMinting(deps, order);
  const minted = await transition(deps.db, orderId, {
    from: ["minting"],
    to: "minting",
    set: { tokenId: mint.tokenId, mintTxHash: mint.txHash, mintBlock: mint.blockNumber },
    detail: { ...mint },
  });
  if (minted) deps.events.publish(minted.event);
  await enqueueOnce(deps.queues.capturePayment, `capture-${orderId}`, { orderId });
  deps.logger.info(
    { orderId, tokenId: mint.tokenId, txHash: mint.txHash },
    "license minted for a card payment",
  );
  return { status: "minted", tokenId: mint.tokenId, txHash: mint.txHash };
}

/** Sends the mint (unless an earlier attempt did) and waits for it to be mined. */
async function sendMint(deps: FulfillOrderDeps, order: Order, paymentRef: string): Promise<IndexedMint> {
  const target = (await deps.licenses.getAddress()).toLowerCase();
  let txHash = order.mintTxHash ?? (await previousMint(deps, paymentRef));
  if (!txHash) {
    // A reference already used on chain fails the relayer's gas estimate with PaymentRefUsed.
    const minting = await toMinting(deps, order);
    try {
      ({ hash: txHash } = await deps.relayer.send({
        to: target,
        data: deps.licenses.interface.encodeFunctionData("mintForFiat", [
          BigInt(minting.offerId),
          minting.wallet,
          paymentRef,
        ]),
        purpose: "mintForFiat",
        ref: paymentRef,
      }));
    } catch (err) {
      if (!(err instanceof TransactionRevertedError)) throw err;
      if (err.errorName === "PaymentRefUsed") {
        throw new AwaitingIndexerError(`payment ${paymentRef} is minted; waiting for the indexer`);
      }
      await failOrder(deps, minting, `license could not be minted: ${err.errorName ?? "reverted"}`);
      throw new UnrecoverableError(err.message);
    }
    await deps.afterSend?.(order.id, txHash);
    await updateOrder(deps.db, order.id, { mintTxHash: txHash });
  }
  const receipt = await deps.relayer.wait(txHash);
  if (receipt.status !== 1) {
    if (await deps.licenses.paymentRefUsed(paymentRef)) {
      throw new AwaitingIndexerError(`payment ${paymentRef} is minted; waiting for the indexer`);
    }
    await failOrder(deps, order, `mint transaction ${receipt.hash} reverted`);
    throw new UnrecoverableError(`mintForFiat ${receipt.hash} reverted`);
  }
  const tokenId = tokenIdOf(deps, receipt, target);
  if (!tokenId) throw new UnrecoverableError(`mint ${receipt.hash} has no LicenseIssued event`);
  return { tokenId, txHash: receipt.hash, blockNumber: receipt.blockNumber };
}

async function toMinting(deps: FulfillOrderDeps, order: Order): Promise<Order> {
  if (order.status !== "paid") return order;
  const moved = await transition(deps.db, order.id, { from: ["paid"], to: "minting" });
  if (moved) {
    deps.events.publish(moved.event);
    return moved.order;
  }
  return (await findOrder(deps.db, order.id)) ?? order;
}
