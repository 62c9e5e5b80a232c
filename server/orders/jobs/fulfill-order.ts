import type { TransactionReceipt } from "ethers";
import { ILicenseToken__factory, type LicenseToken } from "../../../types/typechain/index.ts";
import type { FiatMinter } from "../../chain/fiat-minter.ts";
import { TransactionRevertedError, type Relayer } from "../../chain/relayer.ts";
import { findOrder, type Order } from "../store.ts";
import type { IndexedMint } from "../indexed-mints.ts";
import { enqueueOnce, failOrder, releaseAuthorization } from "../fulfilment.ts";
import { capturePayment, type CapturePaymentDeps } from "./capture-payment.ts";
import { holdLicense, type HoldLicenseDeps } from "./hold-license.ts";
import { PermanentError } from "../../errors.ts";
import { keepCode } from "../../codes/code-store.ts";

export interface FulfillOrderDeps extends CapturePaymentDeps, HoldLicenseDeps {
  relayer: Relayer;
  /** Sends mints, those requested together in one transaction. */
  minter: FiatMinter;
  /** LicenseToken for reads. */
  licenses: LicenseToken;
}

export interface FulfillOrderResult {
  /**
   * `capture-queued`: minted, but not settled enough to charge the card yet; a capture job takes
   * over. `held`: paid without a wallet, the license is kept for the buyer's email until claimed.
   */
  status: "fulfilled" | "capture-queued" | "held" | "skipped";
  tokenId?: string;
}

const CODES_RAN_OUT = "the offer's redemption codes ran out before the order was paid";

/** A mint that is on chain but not indexed yet; the job retries until the indexer has it. */
class AwaitingIndexerError extends Error {}

const LICENSE_ISSUED = ILicenseToken__factory.createInterface().getEvent("LicenseIssued")!.topicHash;

/** The token id of the license `receipt` issued for `paymentRef` (the last word of the event's data). */
function tokenIdOf(receipt: TransactionReceipt, target: string, paymentRef: string): string | null {
  const ref = paymentRef.slice(2).toLowerCase();
  const log = receipt.logs.find(
    (l) => l.address.toLowerCase() === target && l.topics[0] === LICENSE_ISSUED && l.data.endsWith(ref),
  );
  return log ? BigInt(log.topics[1]!).toString() : null;
}

/**
 * Fulfils a paid order: keeps its redemption code (if its offer sells codes), mints its license with `mintForFiat(offerId, wallet, keccak256(sessionId))`
 * (alone or in a batch), then captures the card payment if the mint settles within `waitMs`, else
 * queues a capture job. Idempotent three ways: a reference the indexer (or the contract) shows as
 * used is never minted again; a transaction an earlier attempt sent is awaited instead of sending
 * another; and the contract refuses a used reference. A revert that retrying cannot fix (sold out,
 * offer paused) fails the order and cancels the authorization. An order paid without a wallet is
 * held for its buyer's email instead (see holdLicense); once a wallet claims it, it is minted here.
 */
export async function fulfillOrder(deps: FulfillOrderDeps, orderId: string): Promise<FulfillOrderResult> {
  const state = await deps.orders.fulfilment(orderId);
  if (!state) throw new PermanentError(`no order ${orderId}`);
  let { order } = state;
  if (order.status === "failed") {
    await releaseAuthorization(deps, order);
    return { status: "skipped" };
  }
  if (order.status !== "paid" && order.status !== "minting") return { status: "skipped" };
  if (!order.tokenId) {
    if (!order.paymentRef) throw new PermanentError(`order ${orderId} has no payment reference`);
    // The redemption code is kept for the order before its license is minted: a paid order whose
    // offer's codes ran out meanwhile is failed and its card released, never minted without one.
    if (state.code === null && (await keepCode(deps.db, orderId, order.offerId)) === "none") {
      await failOrder(deps, order, CODES_RAN_OUT);
      throw new PermanentError(`order ${orderId}: ${CODES_RAN_OUT}`);
    }
    if (order.wallet === null) {
      await holdLicense(deps, order);
      return { status: "held" };
    }
    const mint = state.mint ?? (await sendMint(deps, order, order.paymentRef, state.sentHash));
    const minted = await deps.orders.transition(orderId, {
      from: ["paid", "minting"],
      to: "minting",
      set: { tokenId: mint.tokenId, mintTxHash: mint.txHash, mintBlock: mint.blockNumber },
      detail: { ...mint },
    });
    if (minted) deps.events.publish(minted.event);
    deps.checkpoint("fulfil:after-minted");
    order = minted?.order ?? (await findOrder(deps.db, orderId)) ?? order;
    deps.logger.info(
      { orderId, tokenId: mint.tokenId, txHash: mint.txHash },
      "license minted for a card payment",
    );
  }
  const captured = await capturePayment(deps, order);
  const tokenId = order.tokenId ?? undefined;
  if (captured === "waiting") {
    // Not settled within this job's short wait: a capture job waits for it without holding up mints.
    await enqueueOnce(deps.queues, "capture", orderId);
    return { status: "capture-queued", tokenId };
  }
  return { status: captured === "captured" ? "fulfilled" : "skipped", tokenId };
}

/** Sends the mint (unless an earlier attempt did) and waits for it to be mined. */
async function sendMint(
  deps: FulfillOrderDeps,
  order: Order,
  paymentRef: string,
  sentHash: string | null,
): Promise<IndexedMint> {
  const target = (await deps.licenses.getAddress()).toLowerCase();
  let txHash = sentHash;
  if (!txHash) {
    // A reference already used on chain fails the gas estimate with PaymentRefUsed.
    try {
      ({ hash: txHash } = await deps.minter.mint({
        offerId: order.offerId,
        recipient: order.wallet!,
        paymentRef,
      }));
    } catch (err) {
      if (!(err instanceof TransactionRevertedError)) throw err;
      if (err.errorName === "PaymentRefUsed") {
        throw new AwaitingIndexerError(`payment ${paymentRef} is minted; waiting for the indexer`);
      }
      await failOrder(deps, order, `license could not be minted: ${err.errorName ?? "reverted"}`);
      throw new PermanentError(err.message);
    }
    deps.checkpoint("fulfil:after-mint-sent");
  }
  // The order shows its transaction while its receipt is awaited.
  const [receipt] = await Promise.all([
    deps.relayer.wait(txHash),
    sentHash ? null : markSending(deps, order, txHash),
  ]);
  if (receipt.status !== 1) {
    if (await deps.licenses.paymentRefUsed(paymentRef)) {
      throw new AwaitingIndexerError(`payment ${paymentRef} is minted; waiting for the indexer`);
    }
    // Reverted although its estimate passed (the chain moved on meanwhile, or another mint of its
    // batch failed): the next attempt sends it again, and its estimate says why if it still fails.
    throw new Error(`mint transaction ${receipt.hash} reverted; minting again`);
  }
  const tokenId = tokenIdOf(receipt, target, paymentRef);
  if (!tokenId) throw new PermanentError(`mint ${receipt.hash} has no LicenseIssued event`);
  return { tokenId, txHash: receipt.hash, blockNumber: receipt.blockNumber };
}

/** Moves a paid order to minting with the transaction sent for it. */
async function markSending(deps: FulfillOrderDeps, order: Order, txHash: string): Promise<void> {
  const sending = await deps.orders.transition(order.id, {
    from: ["paid"],
    to: "minting",
    set: { mintTxHash: txHash },
    detail: { txHash },
  });
  if (sending) deps.events.publish(sending.event);
}
