import type { Pool } from "pg";
import type { Logger } from "pino";
import type { LicenseToken } from "../../../types/typechain/index.ts";
import { TransactionRevertedError, type Relayer } from "../../chain/relayer.ts";
import { findOrder, transition, updateOrder } from "../store.ts";
import { mintOf } from "../indexed-mints.ts";
import type { OrderEvents } from "../events.ts";
import { revocationReasonOf } from "../orders.ts";
import { PermanentError } from "../../errors.ts";

export interface RevokeLicenseDeps {
  db: Pool;
  /** Sends as the deployment's revoker (REVOKER_ROLE); null when the workers hold no revoker key. */
  revoker: Relayer | null;
  licenses: LicenseToken;
  events: OrderEvents;
  logger: Logger;
}

export type RevokeResult = "revoked" | "awaiting-revoker" | "skipped";

/**
 * Revokes the license of a refunded or disputed card order on chain, with the reason recorded on
 * the order. Idempotent: a license already revoked counts as done, and a transaction an earlier
 * attempt sent is awaited instead of sending another.
 */
export async function revokeLicense(deps: RevokeLicenseDeps, orderId: string): Promise<RevokeResult> {
  const order = await findOrder(deps.db, orderId);
  if (!order) throw new PermanentError(`no order ${orderId}`);
  if (!order.revokeReason || order.revokedAt) return "skipped";
  const tokenId =
    order.tokenId ?? (order.paymentRef ? (await mintOf(deps.db, order.paymentRef))?.tokenId : null);
  if (!tokenId) throw new Error(`order ${orderId} has no minted license yet`);
  if (!deps.revoker) {
    deps.logger.warn(
      { orderId, tokenId, reason: order.revokeReason },
      "license revocation awaits the revoker",
    );
    return "awaiting-revoker";
  }

  let hash = order.revokeTxHash ?? (await deps.revoker.sentFor("revoke", orderId));
  if (!hash && !(await deps.licenses.getLicense(tokenId)).revoked) {
    try {
      ({ hash } = await deps.revoker.send({
        to: await deps.licenses.getAddress(),
        data: deps.licenses.interface.encodeFunctionData("revoke", [
          BigInt(tokenId),
          revocationReasonOf(order.revokeReason),
        ]),
        purpose: "revoke",
        ref: orderId,
      }));
    } catch (err) {
      if (!(err instanceof TransactionRevertedError)) throw err;
      if (err.errorName !== "LicenseIsRevoked") throw new PermanentError(err.message);
    }
    if (hash) await updateOrder(deps.db, orderId, { revokeTxHash: hash });
  }
  if (hash) {
    const receipt = await deps.revoker.wait(hash);
    if (receipt.status !== 1 && !(await deps.licenses.getLicense(tokenId)).revoked) {
      throw new PermanentError(`revoke ${receipt.hash} reverted`);
    }
    hash = receipt.hash;
  }
  const revoked = await transition(deps.db, orderId, {
    from: [order.status],
    to: order.status,
    set: { revokedAt: new Date(), tokenId, ...(hash ? { revokeTxHash: hash } : {}) },
    detail: { revoked: true, tokenId, reason: order.revokeReason, txHash: hash },
  });
  if (revoked) deps.events.publish(revoked.event);
  deps.logger.info({ orderId, tokenId, reason: order.revokeReason }, "license revoked");
  return "revoked";
}
