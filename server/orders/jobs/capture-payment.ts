import type { ChainChange } from "../../../lib/chain-changes.ts";
import { finalityOf, type ChainHeads } from "../../../lib/finality.ts";
import type { ChangeFeed } from "../../chain/change-feed.ts";
import { withTransaction } from "../../../lib/transaction.ts";
import { PaymentRejectedError, type CapturedPayment } from "../../payments/provider.ts";
import { recordJobs } from "../../queues/outbox.ts";
import { bookingJob, orderJob } from "../../queues/queues.ts";
import { findOrder, updateOrder, type Order } from "../store.ts";
import type { IndexedMint } from "../indexed-mints.ts";
import { failOrder, releaseAuthorization, type FulfilmentDeps } from "../fulfilment.ts";
import { PermanentError } from "../../errors.ts";

export interface CapturePaymentDeps extends FulfilmentDeps {
  feed: ChangeFeed;
  /** How settled the mint must be before the card is charged. */
  finality: "safe" | "final";
  /** How long one attempt waits for the mint to settle before answering `waiting`. */
  waitMs: number;
}

export type CaptureResult = "captured" | "waiting" | "skipped";

function settled(deps: CapturePaymentDeps, mint: IndexedMint, heads: ChainHeads): boolean {
  const finality = finalityOf(mint.blockNumber, heads);
  return finality === "final" || (deps.finality === "safe" && finality === "safe");
}

/**
 * Resolves with the order's mint once the indexer shows it at the configured finality, or null after
 * `waitMs`. The mint is read again only when the change feed names its payment reference (or a
 * rollback); its finality then follows the heads every notification carries, so hundreds of waiting
 * captures cost no queries per block. Polls as well, often while the feed is down.
 */
async function settledMint(deps: CapturePaymentDeps, paymentRef: string): Promise<IndexedMint | null> {
  const first = await deps.orders.mintAndHeads(paymentRef);
  let mint = first.mint;
  if (mint && settled(deps, mint, first.heads)) return mint;
  return new Promise((resolve, reject) => {
    let done = false;
    let reading = Promise.resolve();
    const finish = (found: IndexedMint | null, err?: unknown) => {
      if (done) return;
      done = true;
      clearInterval(poll);
      clearTimeout(timer);
      deps.feed.off("change", onChange);
      if (err) reject(err instanceof Error ? err : new Error(String(err)));
      else resolve(found);
    };
    const reread = (heads?: ChainHeads) => {
      reading = reading
        .then(async () => {
          if (done) return;
          const read = await deps.orders.mintAndHeads(paymentRef);
          mint = read.mint;
          if (mint && settled(deps, mint, heads ?? read.heads)) finish(mint);
        })
        .catch((err: unknown) => finish(null, err));
    };
    const onChange = (change: ChainChange) => {
      const touched =
        change.kind !== "heads" &&
        (change.kind === "rolledBack" || change.truncated || change.keys.paymentRefs.includes(paymentRef));
      if (touched) reread(change.heads);
      else if (mint && settled(deps, mint, change.heads)) finish(mint);
    };
    deps.feed.on("change", onChange);
    let ticks = 0;
    const poll = setInterval(() => {
      ticks += 1;
      if (!deps.feed.live || ticks % 5 === 0) reread();
    }, 1000);
    const timer = setTimeout(() => finish(null), deps.waitMs);
  });
}

/**
 * Captures the card payment of a minted order once its mint is settled on chain, then marks the
 * order fulfilled. Answers "waiting" when the mint is not settled yet (the caller tries again a
 * little later). A capture the provider refuses leaves a license nobody paid for: the order fails
 * and the license is revoked.
 */
export async function capturePayment(deps: CapturePaymentDeps, order: Order): Promise<CaptureResult> {
  if (order.status === "failed") {
    await releaseAuthorization(deps, order);
    return "skipped";
  }
  if (order.status !== "minting" || !order.paymentRef || !order.paymentIntent) return "skipped";

  let captured: CapturedPayment | undefined;
  if (order.paymentStatus !== "captured") {
    const mint = await settledMint(deps, order.paymentRef);
    if (!mint) return "waiting";
    deps.checkpoint("capture:before");
    try {
      captured = await deps.payments.capture(order.paymentIntent, order.id);
    } catch (err) {
      if (!(err instanceof PaymentRejectedError)) throw err;
      await failOrder(deps, order, `payment could not be captured: ${err.message}`, {
        reason: "payment not captured",
      });
      throw new PermanentError(err.message);
    }
    deps.checkpoint("capture:after");
  }
  // The sale is booked in the payout ledger, and its receipt mailed to the buyer's email address if
  // they gave one, by jobs committed with the capture.
  const jobs = [
    bookingJob(order.id, "sale"),
    ...(order.email !== null ? [orderJob("receipt", order.id)] : []),
  ];
  const fulfilled = await deps.orders.transition(order.id, {
    from: ["minting"],
    to: "fulfilled",
    set: { paymentStatus: "captured", providerFee: captured?.fee },
    detail: { tokenId: order.tokenId },
    jobs,
  });
  if (fulfilled) deps.events.publish(fulfilled.event);
  else {
    // Refunded or disputed meanwhile: the capture still happened, and is recorded and booked.
    const recorded = await withTransaction(deps.db, async (client) => {
      await updateOrder(client, order.id, { paymentStatus: "captured", providerFee: captured?.fee });
      return recordJobs(client, jobs);
    });
    await deps.outbox.deliver(recorded);
  }
  deps.checkpoint("capture:after-commit");
  deps.logger.info({ orderId: order.id, tokenId: order.tokenId }, "card payment captured; order fulfilled");
  return "captured";
}

/** The capture-payment job: an order whose mint was not settled yet when its fulfilment ran. */
export async function captureOrder(deps: CapturePaymentDeps, orderId: string): Promise<CaptureResult> {
  const order = await findOrder(deps.db, orderId);
  if (!order) throw new PermanentError(`no order ${orderId}`);
  return capturePayment(deps, order);
}
